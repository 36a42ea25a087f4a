"""An entity's mapping as the engine and the gateways use it: fields, sides, match keys."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from functools import cached_property, partial
from pathlib import Path
from types import MappingProxyType

from syncd.errors import RecordError
from syncd.mapping.field_map import FieldMap
from syncd.matchkeys import others_of, parse_element
from syncd.problems.report import describe
from syncd.records import Record, RejectedRecord, Side, Value
from syncd.roles import CompanyRole

__all__ = ["COMPANY_ENTITIES", "KNOWN_ENTITIES", "EntityMapping", "SideSpec"]

KNOWN_ENTITIES = ("customer", "supplier", "contact")
"""The entities syncd can sync: customer (AFAS debtor), supplier (AFAS creditor) and
contact (a person at one of their companies: a HubSpot contact, an AFAS contact)."""

COMPANY_ENTITIES = ("customer", "supplier")
"""The entities whose records are companies: a contact's company is linked as one."""


@dataclass(frozen=True)
class SideSpec:
    """How one side keeps an entity's records apart from the mapped fields."""

    id: str
    modified: str
    correlation: str
    options: Mapping[str, str]
    inactive: tuple[str, ...] = ()  # AFAS: fields any of which marks a record inactive
    inactive_from: tuple[str, ...] = ()  # AFAS: date fields; inactive from the date on
    role: CompanyRole | None = None  # CRM: which companies hold the entity's role


_FieldReading = tuple[
    str, str, Callable[[object], Value], Callable[[Mapping[str, object]], object] | None
]


@dataclass(frozen=True)
class EntityMapping:
    """Everything a mapping file says about one entity."""

    entity: str
    source: Path
    fields: tuple[FieldMap, ...]
    match_keys: tuple[tuple[str, ...], ...]  # a unique match on one of these links
    crm: SideSpec
    afas: SideSpec
    review_keys: tuple[tuple[str, ...], ...] = ()  # matches on these are only proposed
    # The fields that name a record for people (a company's name, a person's first and
    # last name), in the order they are written.
    record_name: tuple[str, ...] = ()
    _by_name: Mapping[str, FieldMap] = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {f.name: f for f in self.fields}
        object.__setattr__(self, "_by_name", MappingProxyType(by_name))

    def side(self, side: Side) -> SideSpec:
        return self.crm if side is Side.CRM else self.afas

    def field(self, name: str) -> FieldMap:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(self._by_name)
            raise KeyError(f"{self.entity} has no field {name!r}; fields: {known}") from None

    def display_name(self, fields: Mapping[str, Value]) -> str | None:
        """What people call a record of these canonical fields; None if they are blank."""
        parts = [fields.get(name) for name in self.record_name]
        return " ".join(p for p in parts if p) or None

    def native_name(self, side: Side, field: str) -> str:
        return self.field(field).native_name(side)

    def to_canonical(self, side: Side, native: Mapping[str, object]) -> dict[str, Value]:
        """Every mapped field of a native row, canonical; a missing native key is blank.
        Of the CRM, also the other values of fields that keep some (``crm_others``)."""
        fields = {
            name: read(native.get(key) if whole is None else whole(native))
            for name, key, read, whole in self._reading[side]
        }
        if side is Side.CRM:
            fields.update(self.others(native))
        return fields

    def others(
        self, native: Mapping[str, object], names: Iterable[str] | None = None
    ) -> dict[str, Value]:
        """The other values (``crm_others``) of the fields (all, or ``names``) of a CRM row,
        where it has some: a record without keeps just its fields."""
        found = {
            others_of(f.name): f.others(native.get(prop))
            for f, prop in self._keeping_others
            if names is None or f.name in names
        }
        return {name: values for name, values in found.items() if values is not None}

    @cached_property
    def _keeping_others(self) -> tuple[tuple[FieldMap, str], ...]:
        # Looked up once: every CRM row read asks, and most mappings have none.
        return tuple((f, f.crm_others) for f in self.fields if f.crm_others is not None)

    @cached_property
    def _reading(self) -> dict[Side, tuple[_FieldReading, ...]]:
        # Per side, each field's name, its native name, its reader and (a composite's)
        # the getter of its parts, looked up once: every row read goes through them.
        return {
            side: tuple(
                (
                    f.name,
                    f.native_name(side),
                    f.reader(side),
                    partial(f.native_of, side) if len(f.native_names(side)) > 1 else None,
                )
                for f in self.fields
            )
            for side in Side
        }

    def record(
        self,
        side: Side,
        record_id: str,
        native: Mapping[str, object],
        modified: datetime | None,
    ) -> Record | RejectedRecord:
        """A native row as a canonical record, or, if it cannot be read, a rejection that
        keeps what could be read (to recognise the company by)."""
        try:
            fields = self.to_canonical(side, native)
        except RecordError as exc:
            readable = self.readable_fields(side, native)
            return RejectedRecord(record_id, str(exc), exc.field, readable)
        correlation = native.get(self.side(side).correlation)
        if correlation is not None and (
            isinstance(correlation, bool) or not isinstance(correlation, str | int)
        ):
            name = self.side(side).correlation
            message = (
                f"correlation key {name!r} ({side}): {describe(correlation)} is not a record "
                "id; clear it or write the id of the linked record there"
            )
            return RejectedRecord(record_id, message, name, fields)
        return Record(
            id=record_id,
            fields=fields,
            modified=modified,
            correlation=None if correlation in (None, "") else str(correlation),
        )

    @cached_property
    def reference(self) -> FieldMap | None:
        """The field naming the company a record belongs to (a contact's), if any: its
        canonical value is the CRM id of that company, wherever it was read."""
        return next((f for f in self.fields if f.refers_to), None)

    @cached_property
    def key_fields(self) -> tuple[str, ...]:
        """The fields the match keys compare (of "name:business", the field "name")."""
        names = (parse_element(element)[0] for key in self.match_keys for element in key)
        return tuple(dict.fromkeys(names))

    def key_record(self, side: Side, record_id: str, native: Mapping[str, object]) -> Record:
        """Just enough of a native row to match it by: its match-key fields, as far as
        they can be read (a record of another entity, which syncd only ever adopts)."""
        # an unreadable field is left out: its keys cannot match it, the others still can
        return Record(record_id, self.readable_fields(side, native, self.key_fields))

    def readable_fields(
        self, side: Side, native: Mapping[str, object], names: Iterable[str] | None = None
    ) -> dict[str, Value]:
        """The fields (all, or ``names``) of a row that can be read, leaving out those
        that cannot.

        For a row that ``to_canonical`` refuses: enough of it to recognise the company.
        """
        readable: dict[str, Value] = {}
        for f in self.fields if names is None else [self.field(n) for n in names]:
            try:
                readable[f.name] = f.read(side, f.native_of(side, native))
            except RecordError:
                continue
        if side is Side.CRM:
            readable.update(self.others(native, names))
        return readable

    def to_native(self, side: Side, canonical: Mapping[str, Value]) -> dict[str, object]:
        """The given canonical fields as ``side`` stores them, by native read name."""
        native: dict[str, object] = {}
        for name, value in canonical.items():
            if name not in self._others_names:  # read to match on, never written
                native.update(self.field(name).natives(side, value))
        return native

    @cached_property
    def _others_names(self) -> frozenset[str]:
        """The names records keep the other values of fields under (``crm_others``)."""
        return frozenset(others_of(f.name) for f in self.fields if f.crm_others)
