"""Mapping files (``mappings/<entity>.toml``) -> :class:`EntityMapping`.

A mapping says, for one entity, which CRM property and which AFAS field hold each
canonical field, how values are normalised and translated, which way each field flows,
and how unlinked records are matched. The shipped ``mappings/customer.toml`` documents
every key; in short::

    entity = "customer"
    [crm]    id, modified, correlation, object, role_property, role_value | role_options
    [afas]   id, modified, correlation, get_connector, update_connector, update_key,
             correlation_update, inactive (one field or several), inactive_from (end
             dates), deactivate_update, organisation
    [match]  keys = [["kvk"], ["vat"], ["name", "postcode"]]
    [[fields]]
    name = "phone"                    # canonical name
    crm = "phone"                     # HubSpot property
    afas = "TelNr"                    # AFAS GetConnector field id (read)
    afas_update = "KnOrganisation.TeNr"   # path in the UpdateConnector payload (write)
    normalize = ["phone"]             # normalisers, applied to both sides on read
    crm_codec = "text"                # built-in codec name, or an inline value map
    afas_codec = "text"
    direction = "both"                # both | to_afas | to_crm | on_create
    conflict = "crm_wins"             # optional per-field override of [sync] conflict
    first_link = "afas"               # optional: afas | crm | newest | manual
    blank_overwrites = false          # optional per-field override
    max_length = 30                   # optional: longest value a side can hold

Loading reports every problem of a file at once, as one :class:`ConfigError`.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from enum import Enum
from functools import cached_property, partial
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar

from syncd.errors import ConfigError, Problem, RecordError
from syncd.matchkeys import KEY_FUNCTIONS, parse_element
from syncd.policy import ConflictRule, Direction, FirstLink
from syncd.records import Record, RejectedRecord, Side, Value
from syncd.roles import CompanyRole
from syncd.transforms.by_name import CODECS, COMPOSITE_CODECS, NORMALISERS
from syncd.transforms.codecs import Codec, TextCodec, ValueMap
from syncd.transforms.normalisers import Normaliser, apply_normalisers

__all__ = [
    "KNOWN_ENTITIES",
    "EntityMapping",
    "FieldMap",
    "SideSpec",
    "load_mapping",
    "load_mappings",
]

KNOWN_ENTITIES = ("customer", "supplier")
"""The entities syncd can sync: customer (AFAS debtor) and supplier (AFAS creditor)."""

_TEXT = TextCodec()
_Choice = TypeVar("_Choice", bound=Enum)


@dataclass(frozen=True)
class FieldMap:
    """One canonical field and where each side keeps it."""

    name: str
    crm: str
    afas: str
    afas_update: str
    direction: Direction = Direction.BOTH
    conflict: ConflictRule | None = None
    blank_overwrites: bool | None = None
    first_link: FirstLink | None = None  # None: as the field's conflict rule says
    normalize: tuple[str, ...] = ()
    crm_codec: Codec = _TEXT
    afas_codec: Codec = _TEXT
    max_length: int | None = None
    # A composite AFAS side (a Dutch address: street, number, addition): every read
    # field and update path, in the codec's order; ``afas``/``afas_update`` are the first.
    afas_parts: tuple[str, ...] = ()
    afas_update_parts: tuple[str, ...] = ()

    def native_name(self, side: Side) -> str:
        """The field's name in ``side``'s read API (a composite's first)."""
        return self.crm if side is Side.CRM else self.afas

    def native_names(self, side: Side) -> tuple[str, ...]:
        """Every field of ``side``'s read API the value lives in."""
        if side is Side.AFAS and self.afas_parts:
            return self.afas_parts
        return (self.native_name(side),)

    def native_of(self, side: Side, row: Mapping[str, object]) -> object:
        """The field's native value in a row (a composite's parts, None if all blank)."""
        if side is Side.CRM or not self.afas_parts:
            return row.get(self.native_name(side))
        parts = tuple(row.get(name) for name in self.afas_parts)
        return None if all(p is None or p == "" for p in parts) else parts

    def natives(self, side: Side, value: Value, names: Sequence[str] = ()) -> dict[str, object]:
        """The native values to write, by read name (or by ``names``: the update paths)."""
        names = names or self.native_names(side)
        native = self.write(side, value)
        if len(names) == 1:
            return {names[0]: native}
        parts = native if isinstance(native, tuple) else (None,) * len(names)
        return dict(zip(names, parts, strict=True))

    def updates(self, value: Value) -> dict[str, object]:
        """The native values to write to AFAS, by UpdateConnector path."""
        return self.natives(Side.AFAS, value, self.afas_update_parts or (self.afas_update,))

    def codec(self, side: Side) -> Codec:
        return self.crm_codec if side is Side.CRM else self.afas_codec

    def normal(self, value: Value) -> Value:
        """``value`` in the field's normal form (blank as None); RecordError if impossible."""
        return apply_normalisers(self._normalisers, value)

    @cached_property
    def _normalisers(self) -> tuple[Normaliser, ...]:
        # Looked up once: every field of every record read goes through them.
        return tuple(NORMALISERS[n] for n in self.normalize)

    def read(self, side: Side, native: object) -> Value:
        """The canonical value of a native value read from ``side``."""
        return self.reader(side)(native)

    def reader(self, side: Side) -> Callable[[object], Value]:
        """:meth:`read` for one side, as one function."""
        return self._readers[side]

    @cached_property
    def _readers(self) -> dict[Side, Callable[[object], Value]]:
        # Codec and normalisers looked up once per side: every field of every row read
        # goes through them.
        return {side: self._reader_for(side) for side in Side}

    def _reader_for(self, side: Side) -> Callable[[object], Value]:
        to_canonical, normalisers = self.codec(side).to_canonical, self._normalisers

        def read(native: object) -> Value:  # a composite's parts come as a tuple
            if native is None or native == "":
                return None
            try:
                return apply_normalisers(normalisers, to_canonical(native))
            except RecordError as exc:
                raise self._error(side, exc) from None

        return read

    def write(self, side: Side, value: Value) -> object:
        """The native value to write to ``side``; ``None`` means blank (clear the field)."""
        try:
            text = self.normal(value)
            if text is None:
                return None
            if self.max_length is not None and len(text) > self.max_length:
                raise RecordError(
                    f"{text!r} is {len(text)} characters long; the longest value this "
                    f"field can hold is {self.max_length}"
                )
            return self.codec(side).to_native(text)
        except RecordError as exc:
            raise self._error(side, exc) from None

    def _error(self, side: Side, exc: RecordError) -> RecordError:
        where = f"field {self.name!r} ({side} {self.native_name(side)!r})"
        return RecordError(f"{where}: {exc}", field=self.name)


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

    def native_name(self, side: Side, field: str) -> str:
        return self.field(field).native_name(side)

    def to_canonical(self, side: Side, native: Mapping[str, object]) -> dict[str, Value]:
        """Every mapped field of a native row, canonical; a missing native key is blank."""
        return {
            name: read(native.get(key) if whole is None else whole(native))
            for name, key, read, whole in self._reading[side]
        }

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
        return readable

    def to_native(self, side: Side, canonical: Mapping[str, Value]) -> dict[str, object]:
        """The given canonical fields as ``side`` stores them, by native read name."""
        native: dict[str, object] = {}
        for name, value in canonical.items():
            native.update(self.field(name).natives(side, value))
        return native


# --- loading --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Option:
    required: bool = False
    default: str | None = None
    # "name": a field/property/connector name; "path": an update path; "names": one
    # name or an array of them; "table": read on its own (role_options)
    kind: str = "name"


# The keys of [crm] and [afas]. id, modified and correlation become SideSpec attributes;
# the rest go to SideSpec.options (with their defaults filled in). To give a gateway a
# new option, add it here and document it in the shipped mapping files.
_SIDE_KEYS: Mapping[Side, Mapping[str, _Option]] = {
    Side.CRM: {
        "id": _Option(default="hs_object_id"),
        "modified": _Option(default="hs_lastmodifieddate"),
        "correlation": _Option(required=True),
        "object": _Option(default="companies"),
        "role_property": _Option(),
        "role_value": _Option(),
        "role_options": _Option(kind="table"),
    },
    Side.AFAS: {
        "id": _Option(required=True),
        "modified": _Option(default="ModifiedDate"),
        "correlation": _Option(required=True),
        "get_connector": _Option(required=True),
        "update_connector": _Option(required=True),
        "update_key": _Option(required=True),
        "correlation_update": _Option(default="KnOrganisation.XpRe", kind="path"),
        "inactive": _Option(default="Blocked", kind="names"),
        "inactive_from": _Option(kind="names"),
        "deactivate_update": _Option(default="BlTl", kind="path"),
        "organisation": _Option(default="OrganisationId"),
    },
}
_SPEC_ATTRS = ("id", "modified", "correlation")

_TOP_KEYS = ("entity", "crm", "afas", "match", "fields")
_FIELD_KEYS = (
    "name",
    "crm",
    "afas",
    "afas_update",
    "normalize",
    "crm_codec",
    "afas_codec",
    "direction",
    "conflict",
    "blank_overwrites",
    "first_link",
    "max_length",
)
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]*")
_NATIVE_NAME = re.compile(r"\S+")
_PATH_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOML_WHERE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def describe(value: object) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a float ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__} ({value})"


def choices(values: Iterable[str]) -> str:
    return ", ".join(values)


def unknown_key_message(key: str, allowed: Iterable[str]) -> str:
    allowed = list(allowed)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}allowed keys: {choices(allowed)}"


def _member(
    entry: Mapping[str, object],
    key: str,
    kind: type[_Choice],
    prefix: str,
    report: ProblemReport,
    problem: Callable[[object], str],
) -> _Choice | None:
    """The member of ``kind`` that ``entry[key]`` names; None, reported, if none."""
    if key not in entry:
        return None
    try:
        return kind(entry[key])
    except ValueError:
        report.add(f"{prefix}.{key}", problem(entry[key]))
        return None


def _first_link_problem(raw: object) -> str:
    shown = repr(raw) if isinstance(raw, str) else describe(raw)
    close = (
        difflib.get_close_matches(raw, [str(f) for f in FirstLink], n=1)
        if isinstance(raw, str)
        else []
    )
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (
        f"{shown} is not a first-link rule (the side whose value a differing field takes "
        f"when a pair is first linked); {hint}use one of: {choices(FirstLink)}, or leave "
        "it out to settle a first link as the field's conflict rule settles conflicts"
    )


class ProblemReport:
    """Problems found in one file, in the order found (shared with :mod:`syncd.config`)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.source, key, message))

    def unknown_keys(self, table: Mapping[str, Any], allowed: Iterable[str], prefix: str) -> None:
        allowed = tuple(allowed)
        for key in table:
            if key not in allowed:
                self.add(f"{prefix}{key}", unknown_key_message(key, allowed))

    def string(
        self,
        table: Mapping[str, Any],
        key: str,
        where: str,
        *,
        required: bool,
        pattern: re.Pattern[str] | None = None,
        rule: str = "",
    ) -> str | None:
        """A string value; None (with a problem when required) if absent or wrong."""
        if key not in table:
            if required:
                self.add(where, "missing; this key is required")
            return None
        value = table[key]
        if not isinstance(value, str):
            self.add(where, f"expected a string, got {describe(value)}")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.add(where, f"{value!r} is not valid: {rule}")
            return None
        return value

    def table(self, parent: Mapping[str, Any], key: str, where: str) -> dict[str, Any] | None:
        value = parent.get(key)
        if value is None:
            self.add(where, f"missing; add a [{where}] table")
            return None
        if not isinstance(value, dict):
            self.add(where, f"expected a table, got {describe(value)}; write it as [{where}]")
            return None
        return value


def read_toml(path: Path, report: ProblemReport) -> dict[str, Any] | None:
    """The parsed file, or None with a problem (unreadable file, invalid TOML)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        report.add("", "file not found; check the path or create the file")
        return None
    except OSError as exc:
        report.add("", f"cannot read the file ({exc.strerror}); check its permissions")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        report.add(
            f"line {line}",
            f"not valid UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
        )
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        report.add(*_toml_problem(str(exc), text))
    return None


def _toml_problem(error: str, text: str) -> tuple[str, str]:
    """Where a TOML syntax error is and what to do about it, as (key, message)."""
    hint = ""
    if text.lstrip().startswith("<"):
        hint = " (this looks like an HTML page: save the raw file, not the web page)"
    where = _TOML_WHERE.search(error)
    if where:
        message = _TOML_WHERE.sub("", error)
        return (
            f"line {where[1]}",
            f"invalid TOML: {message} (column {where[2]}); fix the syntax there{hint}",
        )
    if error.endswith("(at end of document)"):
        message = error.removesuffix("(at end of document)").strip()
        last = text.rstrip("\n").count("\n") + 1
        return (
            f"line {last}",
            f"invalid TOML: {message} at the end of the file; the file ends in the middle "
            "of a statement: was it cut off? Complete it or copy the whole file again",
        )
    return "", f"invalid TOML: {error}; fix the syntax{hint}"


def _check_path(value: str, where: str, report: ProblemReport) -> bool:
    segments = value.split(".")
    if all(_PATH_SEGMENT.fullmatch(s) for s in segments):
        return True
    report.add(
        where,
        f"{value!r} is not an UpdateConnector path: use field ids joined by dots, "
        "like 'VaId' or 'KnOrganisation.KnBasicAddressAdr.ZpCd'",
    )
    return False


def _side_spec(
    doc: Mapping[str, Any], side: Side, report: ProblemReport
) -> tuple[SideSpec | None, dict[str, str]]:
    """The side's spec (None if the table has problems) and the keys that were valid."""
    table = report.table(doc, side.value, side.value)
    if table is None:
        return None, {}
    spec_keys = _SIDE_KEYS[side]
    report.unknown_keys(table, spec_keys, f"{side}.")
    values: dict[str, str] = {}
    ok = True
    for key, option in spec_keys.items():
        where = f"{side}.{key}"
        if option.kind == "table" or (option.kind == "names" and isinstance(table.get(key), list)):
            continue  # read below
        if key not in table and option.default is not None:
            values[key] = option.default
            continue
        value = report.string(
            table,
            key,
            where,
            required=option.required,
            pattern=_NATIVE_NAME,
            rule="names contain no spaces and are not empty",
        )
        if value is None:
            ok = ok and not (option.required or key in table)
            continue
        if option.kind == "path" and not _check_path(value, where, report):
            ok = False
            continue
        values[key] = value
    if "role_options" not in table and ("role_property" in values) != ("role_value" in values):
        present, absent = (
            ("role_property", "role_value")
            if "role_property" in values
            else ("role_value", "role_property")
        )
        report.add(f"{side}.{absent}", f"missing; {present} and {absent} go together")
        ok = False
    afas = side is Side.AFAS
    inactive = _inactive_fields(table, values, report, "inactive") if afas else ()
    inactive_from = _inactive_fields(table, values, report, "inactive_from") if afas else ()
    role = _company_role(table, values, doc.get("entity"), report) if side is Side.CRM else None
    if not ok or inactive is None or inactive_from is None or role is False:
        return None, values
    options = {k: v for k, v in values.items() if k not in (*_SPEC_ATTRS, *_INACTIVE_KEYS)}
    spec = SideSpec(
        id=values["id"],
        modified=values["modified"],
        correlation=values["correlation"],
        options=MappingProxyType(options),
        inactive=inactive,
        inactive_from=inactive_from,
        role=role or None,
    )
    return spec, values


_INACTIVE_KEYS = ("inactive", "inactive_from")


def _inactive_fields(
    table: Mapping[str, Any], values: Mapping[str, str], report: ProblemReport, key: str
) -> tuple[str, ...] | None:
    """[afas] inactive or inactive_from: one GetConnector field or several (None if that
    is wrong; inactive_from may be absent)."""
    raw = table.get(key)
    if not isinstance(raw, list):
        if key in values:
            return (values[key],)
        return () if key == "inactive_from" and key not in table else None
    names = [n for n in raw if isinstance(n, str) and _NATIVE_NAME.fullmatch(n)]
    if not raw or len(names) != len(raw):
        example = '["Blocked", "BlockedForDelivery"]' if key == "inactive" else '["EndDate"]'
        report.add(
            f"afas.{key}",
            f"expected a field id or a non-empty array of field ids, got {describe(raw)}; "
            f"write it like {example}",
        )
        return None
    if len(set(names)) != len(names):
        report.add(f"afas.{key}", "names a field more than once; list each field once")
        return None
    return tuple(names)


def _company_role(
    table: Mapping[str, Any], values: Mapping[str, str], entity: object, report: ProblemReport
) -> CompanyRole | Literal[False] | None:
    """The CRM role of the entity; None without one, False if the keys are wrong."""
    prop = values.get("role_property")
    raw = table.get("role_options")
    if raw is None:
        if prop is None or "role_value" not in values:
            return None
        return CompanyRole(prop, str(entity), ticked=values["role_value"])
    if "role_value" in values:
        report.add(
            "crm.role_options",
            "role_value and role_options exclude each other: role_value for a "
            "multiple-checkbox property, role_options for a single select; keep one",
        )
        return False
    if prop is None:
        report.add("crm.role_property", "missing; role_options needs the property it describes")
        return False
    meanings = _role_meanings(raw, report)
    if meanings is None:
        return False
    if entity in KNOWN_ENTITIES and not any(entity in roles for roles in meanings.values()):
        report.add(
            "crm.role_options",
            f"no option means {entity!r}; give the option(s) that mean it, like "
            f'{{ {entity} = ["{entity}"] }}',
        )
        return False
    return CompanyRole(prop, str(entity), meanings=MappingProxyType(meanings))


def _role_meanings(raw: object, report: ProblemReport) -> dict[str, frozenset[str]] | None:
    """role_options: each option of the single select and the roles it means."""
    where = "crm.role_options"
    shape = 'an inline table of option = [roles], like { both = ["customer", "supplier"] }'
    if not isinstance(raw, dict) or not raw:
        report.add(where, f"expected {shape}, got {describe(raw)}")
        return None
    meanings: dict[str, frozenset[str]] = {}
    said_by: dict[frozenset[str], str] = {}
    ok = True
    for option, roles in raw.items():
        if not (
            isinstance(roles, list) and roles and all(r in KNOWN_ENTITIES for r in roles)
        ) or len(set(roles)) != len(roles):
            report.add(
                f"{where}.{option}",
                f"expected an array of roles ({choices(KNOWN_ENTITIES)}), each once, "
                f"got {describe(roles)}",
            )
            ok = False
            continue
        meaning = frozenset(roles)
        if meaning in said_by:
            report.add(
                f"{where}.{option}",
                f"means {' and '.join(sorted(meaning))}, as {said_by[meaning]!r} does; the "
                "sets of roles overlap and syncd would not know which option to write: "
                "give each set of roles one option",
            )
            ok = False
            continue
        said_by[meaning] = option
        meanings[option] = meaning
    return meanings if ok else None


def _codec(value: object, where: str, report: ProblemReport) -> Codec | None:
    if isinstance(value, str):
        codec = CODECS.get(value)
        if codec is None:
            report.add(
                where,
                f"unknown codec {value!r}; use one of: {choices(CODECS)}, "
                "or an inline table of canonical value = native value",
            )
        return codec
    if not isinstance(value, dict):
        report.add(
            where,
            f"expected a codec name or an inline table, got {describe(value)}",
        )
        return None
    ok = True
    if not value:
        report.add(where, "empty value map; list at least one canonical value = native value")
        ok = False
    for canonical, native in value.items():
        if canonical == "":
            report.add(where, 'the canonical value "" is blank; blank maps to blank by itself')
            ok = False
        if isinstance(native, bool | int | str) and native != "":
            continue
        report.add(
            f"{where}.{canonical}",
            f"expected a non-empty string, an integer or a boolean, got {describe(native)}",
        )
        ok = False
    if not ok:
        return None
    try:
        return ValueMap.build(value)
    except ValueError as exc:
        report.add(where, f"not one to one: {exc}; give every native value once")
        return None


def _field(index: int, entry: object, report: ProblemReport) -> FieldMap | None:
    prefix = f"fields[{index}]"
    if not isinstance(entry, dict):
        report.add(prefix, f"expected a table, got {describe(entry)}; write it as [[fields]]")
        return None
    report.unknown_keys(entry, _FIELD_KEYS, f"{prefix}.")
    count = len(report.problems)
    name = report.string(
        entry,
        "name",
        f"{prefix}.name",
        required=True,
        pattern=_FIELD_NAME,
        rule="use lower-case letters, digits and _, starting with a letter",
    )
    parts = {key: _name_list(entry, key, f"{prefix}.{key}", report) for key in _COMPOSITE_KEYS}
    natives = {
        key: next(iter(parts.get(key, ())), None)
        if isinstance(entry.get(key), list)  # a composite's names, checked above
        else report.string(
            entry,
            key,
            f"{prefix}.{key}",
            required=True,
            pattern=_NATIVE_NAME,
            rule="names contain no spaces and are not empty",
        )
        for key in ("crm", "afas", "afas_update")
    }
    for path in parts["afas_update"] or [natives["afas_update"] or ""]:
        if path:
            _check_path(path, f"{prefix}.afas_update", report)

    normalize: tuple[str, ...] = ()
    raw_normalize = entry.get("normalize", [])
    if not isinstance(raw_normalize, list) or not all(isinstance(n, str) for n in raw_normalize):
        report.add(
            f"{prefix}.normalize",
            f"expected an array of normaliser names, got {describe(raw_normalize)}",
        )
    else:
        unknown = [n for n in raw_normalize if n not in NORMALISERS]
        for n in unknown:
            report.add(
                f"{prefix}.normalize",
                f"unknown normaliser {n!r}; use any of: {choices(NORMALISERS)}",
            )
        normalize = tuple(raw_normalize)

    codecs: dict[str, Codec | None] = {}
    for key in ("crm_codec", "afas_codec"):
        codecs[key] = _codec(entry[key], f"{prefix}.{key}", report) if key in entry else _TEXT

    direction = (
        _member(
            entry,
            "direction",
            Direction,
            prefix,
            report,
            lambda raw: f"{raw!r} is not a direction; use one of: {choices(Direction)}",
        )
        or Direction.BOTH
    )
    conflict = _member(
        entry,
        "conflict",
        ConflictRule,
        prefix,
        report,
        lambda raw: (
            f"{raw!r} is not a conflict rule; use one of: {choices(ConflictRule)}, "
            "or leave it out to use [sync] conflict"
        ),
    )
    first_link = _member(entry, "first_link", FirstLink, prefix, report, _first_link_problem)
    blank_overwrites: bool | None = None
    if "blank_overwrites" in entry:
        raw = entry["blank_overwrites"]
        if isinstance(raw, bool):
            blank_overwrites = raw
        else:
            report.add(f"{prefix}.blank_overwrites", f"expected true or false, got {describe(raw)}")
    max_length: int | None = None
    if "max_length" in entry:
        raw = entry["max_length"]
        if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
            max_length = raw
        else:
            report.add(f"{prefix}.max_length", f"expected a positive integer, got {describe(raw)}")

    _check_composite(entry, parts, prefix, report)
    if len(report.problems) > count:
        return None
    assert name is not None
    fieldmap = FieldMap(
        name=name,
        crm=natives["crm"] or "",
        afas=natives["afas"] or "",
        afas_update=natives["afas_update"] or "",
        direction=direction,
        conflict=conflict,
        blank_overwrites=blank_overwrites,
        first_link=first_link,
        normalize=normalize,
        crm_codec=codecs["crm_codec"] or _TEXT,
        afas_codec=codecs["afas_codec"] or _TEXT,
        max_length=max_length,
        afas_parts=tuple(parts["afas"]),
        afas_update_parts=tuple(parts["afas_update"]),
    )
    _check_codec_domains(fieldmap, prefix, report)
    return fieldmap


_COMPOSITE_KEYS = ("afas", "afas_update")


def _name_list(entry: Mapping[str, Any], key: str, where: str, report: ProblemReport) -> list[str]:
    """A composite field's array of AFAS names ([] when the key holds no array)."""
    raw = entry.get(key)
    if not isinstance(raw, list):
        return []
    if not raw or not all(isinstance(n, str) and _NATIVE_NAME.fullmatch(n) for n in raw):
        report.add(where, f"expected an array of field ids without spaces, got {describe(raw)}")
        return []
    return list(raw)


def _check_composite(
    entry: Mapping[str, Any], parts: Mapping[str, list[str]], prefix: str, report: ProblemReport
) -> None:
    """A field kept in several AFAS fields names all of them, in its codec's order."""
    codec = entry.get("afas_codec")
    wanted = COMPOSITE_CODECS.get(codec) if isinstance(codec, str) else None
    if wanted is None:
        for key in _COMPOSITE_KEYS:
            if parts[key]:
                report.add(
                    f"{prefix}.{key}",
                    "several AFAS fields need a codec that splits the value over them; "
                    f"set afas_codec to one of: {choices(COMPOSITE_CODECS)}",
                )
        return
    listed = ", ".join(wanted)
    for key in _COMPOSITE_KEYS:
        if isinstance(entry.get(key), list) and not parts[key]:
            continue  # a broken array, reported already
        if len(parts[key]) != len(wanted):
            got = len(parts[key]) or "one"
            report.add(
                f"{prefix}.{key}",
                f"afas_codec {codec!r} needs {len(wanted)} AFAS fields ({listed}), in that "
                f"order; got {got}: list the missing ones",
            )
    normalize = entry.get("normalize", [])
    if isinstance(normalize, list) and codec not in normalize:
        report.add(
            f"{prefix}.normalize",
            f'add "{codec}" so that the CRM\'s one line compares with the AFAS fields',
        )


def _check_codec_domains(fieldmap: FieldMap, prefix: str, report: ProblemReport) -> None:
    """Every value a finite codec produces must already be in the field's normal form."""
    for side in Side:
        domain = fieldmap.codec(side).domain() or ()
        changed: list[str] = []
        for canonical in domain:
            try:
                normal = repr(fieldmap.normal(canonical))
            except RecordError as exc:
                normal = f"an error ({exc})"
            if normal != repr(canonical):
                changed.append(f"{canonical!r} into {normal}")
        if changed:
            shown = "; ".join(changed[:3]) + ("; ..." if len(changed) > 3 else "")
            report.add(
                f"{prefix}.{side}_codec",
                f"{len(changed)} of the codec's {len(domain)} canonical values would never "
                f"round-trip: normalize turns {shown}; write them as normalize makes them, "
                "or change normalize",
            )


def _named_fields(doc: Mapping[str, Any]) -> set[str]:
    """Every name a [[fields]] entry gives, valid or not (for checking match keys)."""
    entries = doc.get("fields")
    if not isinstance(entries, list):
        return set()
    return {e["name"] for e in entries if isinstance(e, dict) and isinstance(e.get("name"), str)}


def _fields(doc: Mapping[str, Any], report: ProblemReport) -> list[tuple[int, FieldMap]]:
    raw = doc.get("fields")
    if raw is None:
        report.add("fields", "missing; add at least one [[fields]] entry")
        return []
    if not isinstance(raw, list):
        report.add("fields", f"expected an array of tables ([[fields]]), got {describe(raw)}")
        return []
    if not raw:
        report.add("fields", "empty; add at least one [[fields]] entry")
    found = [(i, _field(i, entry, report)) for i, entry in enumerate(raw)]
    return [(i, f) for i, f in found if f is not None]


def _check_unique(fields: list[tuple[int, FieldMap]], report: ProblemReport) -> None:
    for attr, what in (
        ("name", "canonical name"),
        ("crm", "CRM property"),
        ("afas", "AFAS field"),
        ("afas_update", "UpdateConnector path"),
    ):
        first: dict[str, int] = {}
        for index, fm in fields:
            for value in getattr(fm, f"{attr}_parts", ()) or (getattr(fm, attr),):
                if value in first:
                    report.add(
                        f"fields[{index}].{attr}",
                        f"{value!r} is also the {what} of fields[{first[value]}]; "
                        "each field needs its own",
                    )
                else:
                    first[value] = index


def _check_reserved(
    fields: list[tuple[int, FieldMap]],
    sides: Mapping[Side, Mapping[str, str]],
    report: ProblemReport,
    inactive_names: Mapping[Side, tuple[str, ...]],
) -> None:
    """A mapped field may not reuse a name the side table already gives a role."""
    for side, values in sides.items():
        roles = [*_SPEC_ATTRS, "inactive", "role_property"]
        reserved = {values[k]: k for k in reversed(roles) if k in values}
        reserved.update({name: "inactive" for name in inactive_names.get(side, ())})
        update_roles = ("update_key", "correlation_update", "deactivate_update")
        paths = {values[k]: k for k in update_roles if k in values}
        for index, fm in fields:
            native = fm.native_name(side)
            if native in reserved:
                report.add(
                    f"fields[{index}].{side}",
                    f"{native!r} is already the [{side}] {reserved[native]}; "
                    "map the field to another one",
                )
            if fm.afas_update in paths:
                report.add(
                    f"fields[{index}].afas_update",
                    f"{fm.afas_update!r} is already the [afas] {paths[fm.afas_update]}; "
                    "map the field to another one",
                )


def _match_table(doc: Mapping[str, Any], report: ProblemReport) -> Mapping[str, Any]:
    table = doc.get("match", {})
    if not isinstance(table, dict):
        report.add("match", f"expected a table, got {describe(table)}; write it as [match]")
        return {}
    report.unknown_keys(table, ("keys", "review"), "match.")
    return table


def _match_keys(
    table: Mapping[str, Any], names: set[str], report: ProblemReport, which: str = "keys"
) -> tuple[tuple[str, ...], ...]:
    raw = table.get(which, [])
    shape = 'an array of arrays of field names, like [["kvk"], ["name:business", "postcode"]]'
    if not isinstance(raw, list):
        report.add(f"match.{which}", f"expected {shape}, got {describe(raw)}")
        return ()
    keys: list[tuple[str, ...]] = []
    for i, key in enumerate(raw):
        where = f"match.{which}[{i}]"
        if not isinstance(key, list) or not key or not all(isinstance(n, str) for n in key):
            report.add(
                where,
                f"expected a non-empty array of field names, got {describe(key)}; "
                'write a single-field key as ["kvk"]',
            )
            continue
        ok = True
        for element in key:
            name, function = parse_element(element)
            if name not in names:
                report.add(
                    where,
                    f"{name!r} is not a field of this mapping; use one of: "
                    f"{choices(sorted(names))}",
                )
                ok = False
            if function is not None and function not in KEY_FUNCTIONS:
                report.add(
                    where,
                    f"{element!r}: {function!r} is not a comparison; use one of: "
                    f'{choices(sorted(KEY_FUNCTIONS))} (as in "name:business")',
                )
                ok = False
        if len(set(key)) != len(key):
            report.add(where, "names a field more than once; list each field once")
            ok = False
        if ok and tuple(key) in keys:
            report.add(where, f"repeats match.{which}[{keys.index(tuple(key))}]; remove one")
            ok = False
        if ok:
            keys.append(tuple(key))
    return tuple(keys)


def _mapping_problems(path: Path) -> tuple[EntityMapping | None, list[Problem]]:
    """The mapping in ``path`` and every problem found (the mapping is None if any)."""
    report = ProblemReport(str(path))
    doc = read_toml(path, report)
    if doc is None:
        return None, report.problems
    report.unknown_keys(doc, _TOP_KEYS, "")
    entity = report.string(doc, "entity", "entity", required=True)
    if entity is not None and entity not in KNOWN_ENTITIES:
        report.add("entity", f"{entity!r} is not an entity; use one of: {choices(KNOWN_ENTITIES)}")
    sides = {side: _side_spec(doc, side, report) for side in Side}
    fields = _fields(doc, report)
    _check_unique(fields, report)
    inactive = {
        side: (*spec.inactive, *spec.inactive_from)
        for side, (spec, _) in sides.items()
        if spec is not None
    }
    _check_reserved(fields, {side: values for side, (_, values) in sides.items()}, report, inactive)
    match_table = _match_table(doc, report)
    match_keys = _match_keys(match_table, _named_fields(doc), report)
    review_keys = _match_keys(match_table, _named_fields(doc), report, "review")
    if report.problems:
        return None, report.problems
    crm, afas = sides[Side.CRM][0], sides[Side.AFAS][0]
    assert entity is not None
    assert crm is not None
    assert afas is not None
    mapping = EntityMapping(
        entity=entity,
        source=path,
        fields=tuple(f for _, f in fields),
        match_keys=match_keys,
        review_keys=review_keys,
        crm=crm,
        afas=afas,
    )
    return mapping, []


def mapping_of(mappings: Mapping[str, EntityMapping], entity: str) -> EntityMapping:
    """The mapping of ``entity``; a gateway asked for an entity it was not given is a bug."""
    try:
        return mappings[entity]
    except KeyError:
        known = ", ".join(mappings) or "none"
        raise ValueError(f"unknown entity {entity!r}; known: {known}") from None


def load_mapping(path: Path) -> EntityMapping:
    """The mapping in ``path``; ConfigError listing every problem if it is not valid."""
    mapping, problems = _mapping_problems(path)
    if mapping is None:
        raise ConfigError(problems)
    return mapping


def _mappings_problems(
    directory: Path, entities: Iterable[str]
) -> tuple[dict[str, EntityMapping], list[Problem]]:
    """``directory/<entity>.toml`` for each entity, and every problem of every file."""
    mappings: dict[str, EntityMapping] = {}
    problems: list[Problem] = []
    for entity in entities:
        path = directory / f"{entity}.toml"
        if not path.is_file():
            problems.append(
                Problem(
                    str(path),
                    "",
                    f"no mapping file for entity {entity!r}; create it (the shipped "
                    "mappings/ directory has one per entity) or stop syncing the entity",
                )
            )
            continue
        mapping, found = _mapping_problems(path)
        problems.extend(found)
        if mapping is None:
            continue
        if mapping.entity != entity:
            problems.append(
                Problem(
                    str(path),
                    "entity",
                    f"the file {path.name} is for entity {entity!r} but says "
                    f"{mapping.entity!r}; make them agree",
                )
            )
            continue
        mappings[entity] = mapping
    problems.extend(_cross_problems(mappings))
    return mappings, problems


def _cross_problems(mappings: Mapping[str, EntityMapping]) -> list[Problem]:
    """Entities sharing one CRM object must keep their correlation properties apart."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str], str] = {}
    for entity, mapping in mappings.items():
        key = (mapping.crm.options["object"], mapping.crm.correlation)
        if key in seen:
            problems.append(
                Problem(
                    str(mapping.source),
                    "crm.correlation",
                    f"{mapping.crm.correlation!r} is also the correlation property of "
                    f"{seen[key]!r}; give each entity its own unique property",
                )
            )
        else:
            seen[key] = entity
    return problems


def load_mappings(directory: Path, entities: Iterable[str]) -> dict[str, EntityMapping]:
    """The mapping of each entity; one ConfigError with the problems of all files."""
    mappings, problems = _mappings_problems(directory, entities)
    if problems:
        raise ConfigError(problems)
    return mappings
