"""The tables of a mapping file as pydantic models: shape, types, names and codecs.

What one table can check on its own is here; what needs several tables (a field that
reuses a side's id, two fields on one property, match keys naming fields) is in
:mod:`syncd.mapping.cross_checks`. Validation reads the file's ``entity`` from its
context (a role must mean it).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    PlainValidator,
    ValidationInfo,
    model_validator,
)

from syncd.errors import RecordError
from syncd.mapping import values
from syncd.mapping.entity import COMPANY_ENTITIES, KNOWN_ENTITIES, SideSpec
from syncd.mapping.field_map import FieldMap
from syncd.matchkeys import ANY, KEY_FUNCTIONS, parse_element
from syncd.policy import ConflictRule, Direction, FirstLink
from syncd.problems.pydantic_errors import Hint, Location, said, said_where
from syncd.problems.report import choices, describe
from syncd.problems.table import Table, one_of
from syncd.records import Side
from syncd.roles import CompanyRole
from syncd.transforms.by_name import COMPOSITE_CODECS
from syncd.transforms.codecs import Codec, TextCodec

__all__ = ["AfasTable", "CrmTable", "FieldTable", "MappingFile", "MatchTable"]

Name = Annotated[str, AfterValidator(values.native_name)]
UpdatePath = Annotated[str, AfterValidator(values.update_path)]
_TEXT = TextCodec()
_FLAGS = '["Blocked", "BlockedForDelivery"]'
_LEAVE_IT_OUT = ", or leave it out to use [sync] conflict"


class CrmTable(Table):
    """[crm]: how the CRM keeps the entity's records apart from the mapped fields."""

    id: Name = "hs_object_id"
    modified: Name = "hs_lastmodifieddate"
    correlation: Name
    object: Name = "companies"
    role_property: Name | None = None
    role_value: Name | None = None
    role_options: Annotated[
        Mapping[str, frozenset[str]] | None, PlainValidator(values.role_options)
    ] = None

    @classmethod
    def together(
        cls, table: Mapping[str, Any], context: Mapping[str, Any]
    ) -> list[tuple[Location, str]]:
        named = {k for k in ("role_property", "role_value") if _is_name(table.get(k))}
        if "role_options" in table:
            if "role_value" in named or "role_property" in named:
                return []
            return [(("role_property",), "missing; role_options needs the property it describes")]
        if len(named) == 1:
            (present,) = named
            absent = "role_value" if present == "role_property" else "role_property"
            return [((absent,), f"missing; {present} and {absent} go together")]
        return []

    def spec(self, entity: str) -> SideSpec:
        options = {"object": self.object, "role_property": self.role_property}
        options["role_value"] = self.role_value
        return SideSpec(
            id=self.id,
            modified=self.modified,
            correlation=self.correlation,
            options=MappingProxyType({k: v for k, v in options.items() if v is not None}),
            role=self._role(entity),
        )

    def _role(self, entity: str) -> CompanyRole | None:
        if self.role_property is None:
            return None
        if self.role_options is not None:
            return CompanyRole(self.role_property, entity, meanings=self.role_options)
        if self.role_value is None:
            return None
        return CompanyRole(self.role_property, entity, ticked=self.role_value)


def _is_name(value: object) -> bool:
    return isinstance(value, str) and values.NATIVE_NAME.fullmatch(value) is not None


class AfasTable(Table):
    """[afas]: the connectors an entity is read and written with, and its special fields."""

    id: Name
    modified: Name = "ModifiedDate"
    correlation: Name
    get_connector: Name
    update_connector: Name
    update_key: Name
    correlation_update: UpdatePath = "KnOrganisation.XpRe"
    inactive: Annotated[
        tuple[str, ...],
        PlainValidator(values.one_or_more_names('["Blocked", "BlockedForDelivery"]')),
    ] = ("Blocked",)
    inactive_from: Annotated[
        tuple[str, ...], PlainValidator(values.one_or_more_names('["EndDate"]'))
    ] = ()
    deactivate_update: UpdatePath = "BlTl"
    organisation: Name = "OrganisationId"
    person: Name | None = None  # a contact's person number (KnPerson BcCo) in the GetConnector

    def spec(self) -> SideSpec:
        special = {"id", "modified", "correlation", "inactive", "inactive_from"}
        return SideSpec(
            id=self.id,
            modified=self.modified,
            correlation=self.correlation,
            options=MappingProxyType(self.model_dump(exclude=special)),
            inactive=self.inactive,
            inactive_from=self.inactive_from,
        )


def _company_entities(value: object, info: ValidationInfo) -> tuple[str, ...]:
    """refers_to: the company entities a contact's company may be linked as."""
    example = f"like {list(COMPANY_ENTITIES)}".replace("'", '"')
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise said(f"expected a non-empty array of entity names, {example}; got {describe(value)}")
    unknown = [v for v in value if v not in COMPANY_ENTITIES]
    if unknown:
        raise said(
            f"{unknown[0]!r} is not an entity of companies; use some of: "
            f"{choices(COMPANY_ENTITIES)}"
        )
    entity = (info.context or {}).get("entity")
    if entity in COMPANY_ENTITIES:
        raise said(f"a {entity} is a company itself; only a contact refers to one")
    if len(set(value)) != len(value):
        raise said("names an entity more than once; list each once")
    return tuple(value)


class FieldTable(Table):
    """One [[fields]] entry: a canonical field and where each side keeps it."""

    name: Annotated[str, AfterValidator(values.field_name)]
    crm: Name
    afas: Annotated[str | tuple[str, ...], PlainValidator(values.native_names)]
    afas_update: Annotated[str | tuple[str, ...], PlainValidator(values.update_paths)]
    normalize: Annotated[tuple[str, ...], PlainValidator(values.normalisers)] = ()
    crm_codec: Annotated[Codec, PlainValidator(values.codec)] = _TEXT
    afas_codec: Annotated[Codec, PlainValidator(values.codec)] = _TEXT
    direction: Annotated[Direction, BeforeValidator(one_of(Direction, "a direction"))] = (
        Direction.BOTH
    )
    conflict: Annotated[
        ConflictRule | None,
        BeforeValidator(
            one_of(
                ConflictRule, "a conflict rule", after=", or leave it out to use [sync] conflict"
            )
        ),
    ] = None
    first_link: Annotated[FirstLink | None, PlainValidator(values.first_link)] = None
    blank_overwrites: bool | None = None
    max_length: Annotated[
        int | None, Hint(wanted="a positive integer"), AfterValidator(values.positive)
    ] = None
    refers_to: Annotated[tuple[str, ...], PlainValidator(_company_entities)] = ()
    crm_others: Name | None = None

    @classmethod
    def together(
        cls, table: Mapping[str, Any], context: Mapping[str, Any]
    ) -> list[tuple[Location, str]]:
        """A field kept in several AFAS fields names all of them, in its codec's order."""
        codec = table.get("afas_codec")
        wanted = COMPOSITE_CODECS.get(codec) if isinstance(codec, str) else None
        parts = {key: _names(table.get(key)) for key in ("afas", "afas_update")}
        if wanted is None:
            message = (
                "several AFAS fields need a codec that splits the value over them; "
                f"set afas_codec to one of: {choices(COMPOSITE_CODECS)}"
            )
            return [((key,), message) for key, names in parts.items() if names]
        found: list[tuple[Location, str]] = []
        for key, names in parts.items():
            if names is None:
                continue  # a broken array, reported by its own check
            if len(names) != len(wanted):
                found.append(
                    (
                        (key,),
                        f"afas_codec {codec!r} needs {len(wanted)} AFAS fields "
                        f"({', '.join(wanted)}), in that order; got {len(names) or 'one'}: "
                        "list the missing ones",
                    )
                )
        normalize = table.get("normalize", [])
        if isinstance(normalize, list) and codec not in normalize:
            message = f'add "{codec}" so that the CRM\'s one line compares with the AFAS fields'
            found.append((("normalize",), message))
        return found

    @model_validator(mode="after")
    def _codecs_round_trip(self) -> FieldTable:
        found = _round_trip_problems(self.field_map())
        if found:
            raise said_where(found)
        return self

    def field_map(self) -> FieldMap:
        return FieldMap(
            name=self.name,
            crm=self.crm,
            afas=_first(self.afas),
            afas_update=_first(self.afas_update),
            direction=self.direction,
            conflict=self.conflict,
            blank_overwrites=self.blank_overwrites,
            first_link=self.first_link,
            normalize=self.normalize,
            crm_codec=self.crm_codec,
            afas_codec=self.afas_codec,
            max_length=self.max_length,
            refers_to=self.refers_to,
            crm_others=self.crm_others,
            afas_parts=() if isinstance(self.afas, str) else self.afas,
            afas_update_parts=() if isinstance(self.afas_update, str) else self.afas_update,
        )


def _first(names: str | tuple[str, ...]) -> str:
    return names if isinstance(names, str) else names[0]


def _names(value: object) -> list[str] | None:
    """The names of a composite's array ([] for one name or none, None if broken)."""
    if not isinstance(value, list):
        return []
    return list(value) if value and all(_is_name(n) for n in value) else None


def _round_trip_problems(field: FieldMap) -> list[tuple[Location, str]]:
    """Every value a finite codec produces must already be in the field's normal form."""
    found: list[tuple[Location, str]] = []
    for side in Side:
        domain = field.codec(side).domain() or ()
        changed: list[str] = []
        for canonical in domain:
            try:
                normal = repr(field.normal(canonical))
            except RecordError as exc:
                normal = f"an error ({exc})"
            if normal != repr(canonical):
                changed.append(f"{canonical!r} into {normal}")
        if changed:
            shown = "; ".join(changed[:3]) + ("; ..." if len(changed) > 3 else "")
            message = (
                f"{len(changed)} of the codec's {len(domain)} canonical values would never "
                f"round-trip: normalize turns {shown}; write them as normalize makes them, "
                "or change normalize"
            )
            found.append(((f"{side}_codec",), message))
    return found


def _match_keys(value: object, info: ValidationInfo) -> tuple[tuple[str, ...], ...]:
    """[match] keys or review: arrays of field names (checked against the fields later)."""
    shape = 'an array of arrays of field names, like [["kvk"], ["name:business", "postcode"]]'
    if not isinstance(value, list):
        raise said(f"expected {shape}, got {describe(value)}")
    keys: list[tuple[str, ...]] = []
    found: list[tuple[Location, str]] = []
    for i, key in enumerate(value):
        problem = _key_problem(key, keys, f"match.{info.field_name}")
        if problem is None:
            keys.append(tuple(key))
        else:
            found.append(((i,), problem))
    if found:
        raise said_where(found)
    return tuple(keys)


def _key_problem(key: object, earlier: list[tuple[str, ...]], where: str) -> str | None:
    if not isinstance(key, list) or not key or not all(isinstance(n, str) for n in key):
        return (
            f"expected a non-empty array of field names, got {describe(key)}; "
            'write a single-field key as ["kvk"]'
        )
    for element in key:
        function = parse_element(element)[1]
        if function is not None and function not in KEY_FUNCTIONS and function != ANY:
            return (
                f"{element!r}: {function!r} is not a comparison; use one of: "
                f'{choices(sorted([*KEY_FUNCTIONS, ANY]))} (as in "name:business")'
            )
    if len(set(key)) != len(key):
        return "names a field more than once; list each field once"
    if tuple(key) in earlier:
        return f"repeats {where}[{earlier.index(tuple(key))}]; remove one"
    return None


MatchKeys = Annotated[tuple[tuple[str, ...], ...], PlainValidator(_match_keys)]


class MatchTable(Table):
    """[match]: the keys that link unlinked records, and those that only propose a link."""

    keys: MatchKeys = ()
    review: MatchKeys = ()


def _record_name(value: object) -> tuple[str, ...]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise said(
            f'expected a field name or an array of them, like ["first_name", "last_name"], '
            f"got {describe(value)}"
        )
    return tuple(names)


def _entity(entity: str) -> str:
    if entity not in KNOWN_ENTITIES:
        raise said(f"{entity!r} is not an entity; use one of: {choices(KNOWN_ENTITIES)}")
    return entity


def _some_fields(fields: list[FieldTable]) -> list[FieldTable]:
    if not fields:
        raise said("empty; add at least one [[fields]] entry")
    return fields


class MappingFile(Table):
    """A mapping file as written."""

    entity: Annotated[str, AfterValidator(_entity)]
    crm: Annotated[CrmTable, Hint(missing="add a [crm] table")]
    afas: Annotated[AfasTable, Hint(missing="add a [afas] table")]
    match: MatchTable = MatchTable()
    # The fields that name a record for people; by default the field "name", if any.
    record_name: Annotated[tuple[str, ...] | None, PlainValidator(_record_name)] = None
    fields: Annotated[
        list[FieldTable],
        Hint(wanted="an array of tables ([[fields]])", missing="add at least one [[fields]] entry"),
        AfterValidator(_some_fields),
    ]

    @model_validator(mode="after")
    def _one_reference(self) -> MappingFile:
        references = [i for i, entry in enumerate(self.fields) if entry.refers_to]
        if len(references) > 1:
            message = (
                f"fields[{references[0]}] already names the company; a record belongs to "
                "one company: remove refers_to here"
            )
            raise said_where([(("fields", references[1], "refers_to"), message)])
        return self

    def field_maps(self) -> list[tuple[int, FieldMap]]:
        return [(i, entry.field_map()) for i, entry in enumerate(self.fields)]

    def naming_fields(self) -> tuple[str, ...]:
        """``record_name``, or the field called "name" if there is one."""
        if self.record_name is not None:
            return self.record_name
        return ("name",) if any(entry.name == "name" for entry in self.fields) else ()
