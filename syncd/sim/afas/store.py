"""The simulated environment's data: organisations with a visit address, and relations.

Tables are kept the way Profit keeps them: an organisation (``BcCo``) with its own
modification date and a visit address with another; debtors and creditors (``DbId`` /
``CrId``) pointing at an organisation, each with its own date. A debtor and a creditor may
share one organisation. Dates are stored as aware UTC instants from a :class:`SimClock`
and shown as Amsterdam wall time (see :mod:`syncd.sim.afas.query`).

UpdateConnector bodies are validated completely before anything is applied, so a refused
request changes nothing; validation problems raise :class:`ProfitError`, which the app
answers with an AFAS-style 500 body.
"""

from __future__ import annotations

import copy
import gc
import uuid
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from syncd.sim.afas.schema import (
    CONTACT_ENTITY,
    DataType,
    Entity,
    Environment,
    Part,
    UpdateField,
    UpdateObject,
)

UNEXPECTED = -2147180999
VALIDATION = -2147180996
NOT_FOUND = -2147220469


class ProfitError(Exception):
    """A request Profit refuses with a 500 body: externalMessage, errorNumber, reference."""

    def __init__(self, message: str, number: int = VALIDATION) -> None:
        super().__init__(message)
        self.message = message
        self.number = number
        self.reference = uuid.uuid4().hex.upper()

    def body(self) -> dict[str, object]:
        return {
            "externalMessage": self.message,
            "errorNumber": self.number,
            "profitLogReference": self.reference,
        }


class SimClock:
    """Modification times: real time, or a logical clock from ``start``.

    Every reading is at least ``step`` later than the previous one, so the dates of two
    writes never tie (with a logical clock, each write is exactly ``step`` later).
    """

    def __init__(
        self,
        start: datetime | None = None,
        step: timedelta = timedelta(seconds=1),
        now: Callable[[], datetime] | None = None,
        *,
        whole_seconds: bool = False,
    ) -> None:
        self.whole_seconds = whole_seconds
        if start is not None and start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._logical = start is not None
        self._last = start - step if start is not None else datetime.min.replace(tzinfo=UTC)
        self.step = step
        self._now = now or (lambda: datetime.now(UTC))

    def tick(self) -> datetime:
        floor = self._last + self.step
        moment = floor if self._logical else max(self._now(), floor)
        if self.whole_seconds and moment.microsecond:
            moment = moment.replace(microsecond=0) + timedelta(seconds=1)
        self._last = moment
        return moment

    def advance(self, delta: timedelta) -> None:
        """Move a logical clock on (a quiet period); real time moves by itself."""
        self._last += delta

    def catch_up_with(self, instant: datetime) -> None:
        """Never hand out a time before one that was loaded from a seed."""
        self._last = max(self._last, instant)


@dataclass
class Organisation:
    number: str
    fields: dict[str, object]
    modified: datetime
    address: dict[str, object] = field(default_factory=dict)
    address_modified: datetime | None = None


@dataclass
class Relation:
    number: str
    organisation: str
    fields: dict[str, object]
    modified: datetime
    person: str = ""  # a contact's person (``BcCo`` of a KnPerson)


@dataclass
class Person:
    """A person (``KnPerson``): linked to organisations by contacts, each a :class:`Relation`
    of the ``contact`` table whose ``person`` is this one's number."""

    number: str
    fields: dict[str, object]
    modified: datetime


@dataclass
class Change:
    """A validated write, applied by :meth:`ProfitData.apply`."""

    relation: dict[str, object]
    organisation: dict[str, object] | None
    match: str
    autonum: bool
    address: dict[str, object] | None
    begin_date: bool


class ProfitData:
    """All tables of one environment."""

    def __init__(self, environment: Environment, clock: SimClock) -> None:
        self.environment = environment
        self.clock = clock
        self.organisations: dict[str, Organisation] = {}
        self.relations: dict[str, dict[str, Relation]] = {e: {} for e in environment.entities}
        self.relations[CONTACT_ENTITY] = {}  # keyed by CdId; ``person`` says whose
        self.persons: dict[str, Person] = {}
        self.next_contact_id = 1
        self._next_org = 100001
        self._next: dict[str, int] = {n: e.first_number for n, e in environment.entities.items()}
        self.require_begin_date = True
        """Whether an update of an existing address must carry ``BeginDate``."""
        self.cased_numbers: set[str] = set()
        """Entities with a number that has capitals (read by number through every row)."""
        self._version = 0  # moves on with every change, so derived indexes are rebuilt
        self._derived: dict[Hashable, tuple[tuple[int, int], Any]] = {}

    # -- reading ----------------------------------------------------------------------

    def value(self, entity: str, relation: Relation, part: Part, source: str) -> object:
        return _READ[part](self, relation, source)

    def reader(self, part: Part, source: str) -> Callable[[Relation], object]:
        """How a GetConnector field reads a relation, chosen once per query rather than
        once a cell (a listing page reads a great many)."""
        read = _READ[part]
        return lambda relation: read(self, relation, source)

    def each(self, entity: str) -> Iterator[Relation]:
        yield from self.relations[entity].values()

    def keep_until_change(self, key: Hashable, entity: str, build: Callable[[], Any]) -> Any:
        """``build()``, kept until a table changes (the queries' indexes).

        The entity's row count is part of the check, so a test that empties or refills a
        table by hand is seen too.
        """
        stamp = (self._version, len(self.relations[entity]))
        kept = self._derived.get(key)
        if kept is None or kept[0] != stamp:
            kept = (stamp, _without_collection(build))
            self._derived[key] = kept
        return kept[1]

    def note_change(self) -> None:
        self._version += 1

    # -- seeding and user edits ------------------------------------------------------

    def seed(self, entity: str, row: Mapping[str, object]) -> str:
        """Load a row shaped like the entity's GetConnector (field ids as in the mapping)."""
        connector = self.environment.connector_for(entity)
        info = self.environment.entities[entity]
        values: dict[Part, dict[str, object]] = {p: {} for p in Part}
        for key, raw in row.items():
            getfield = connector.field(key)
            if getfield is None:
                raise ValueError(f"{connector.id} has no field {key!r}")
            values[getfield.part][getfield.source] = raw
        modified = instant(values[Part.MODIFIED].get("")) or self.clock.tick()
        self.clock.catch_up_with(modified)
        self.note_change()
        number = str(values[Part.KEY].get("") or self._next_number(entity))
        if number in self.relations[entity]:
            raise ValueError(f"{entity} {number} already exists")
        self._reserve_number(entity, number)
        org_number = str(values[Part.ORG_KEY].get("") or self._own_org_number(number))
        org = self.organisations.get(org_number)
        if org is None:
            org = Organisation(org_number, {}, modified, {}, modified)
            self.organisations[org_number] = org
            self._reserve_org_number(org_number)
        org.fields.update(values[Part.ORGANISATION])
        org.address.update(values[Part.ADDRESS])
        relation_fields = {info.flag: True, **values[Part.RELATION]}
        self.relations[entity][number] = Relation(number, org_number, relation_fields, modified)
        return number

    def edit(self, entity: str, number: str, changes: Mapping[str, object]) -> None:
        """A user edits a relation in Profit: each touched table gets a new date."""
        relation = self.relation(entity, number)
        org = self.organisations[relation.organisation]
        connector = self.environment.connector_for(entity)
        now = self.clock.tick()
        self.note_change()
        for key, raw in changes.items():
            getfield = connector.field(key)
            if getfield is None or not getfield.source:
                raise ValueError(f"{connector.id} field {key!r} cannot be edited")
            if getfield.part is Part.RELATION:
                relation.fields[getfield.source] = raw
                relation.modified = now
            elif getfield.part is Part.ORGANISATION:
                org.fields[getfield.source] = raw
                org.modified = now
            else:
                org.address[getfield.source] = raw
                org.address_modified = now

    def relation(self, entity: str, number: str) -> Relation:
        try:
            return self.relations[entity][number]
        except KeyError:
            raise KeyError(f"no {entity} {number!r}") from None

    def delete(self, entity: str, number: str) -> None:
        if number not in self.relations[entity]:
            raise ProfitError(f"Record '{number}' does not exist.", NOT_FOUND)
        self.note_change()
        del self.relations[entity][number]

    def merge_organisations(self, source: str, target: str) -> None:
        """A user merges organisation ``source`` into ``target`` (CRM / Samenvoegen): its
        debtor or creditor moves to ``target`` unless ``target`` has one of that kind
        already (then nothing is merged), its contacts go along, and ``source`` is gone.
        No table's modification date moves (Profit's help does not say they do), so a
        listing of changes need not show the moved relations."""
        moving = {
            entity: [r for r in table.values() if r.organisation == source]
            for entity, table in self.relations.items()
        }
        for entity, relations in moving.items():
            there = any(r.organisation == target for r in self.relations[entity].values())
            if relations and there and entity != CONTACT_ENTITY:
                raise ProfitError(f"Organisation '{target}' has a {entity} already.")
        self.note_change()
        for relations in moving.values():
            for relation in relations:
                relation.organisation = target
        del self.organisations[source]

    def snapshot(self) -> dict[str, object]:
        return copy.deepcopy({"organisations": self.organisations, "relations": self.relations})

    # -- UpdateConnectors ---------------------------------------------------------------

    def insert(self, info: Entity, element: Mapping[str, object]) -> dict[str, str]:
        """POST one element; returns the keys of what was created (as strings)."""
        change = self._validate(info, element, insert=True)
        number = str(change.relation.pop(info.key, "") or "")
        if number and number in self.relations[info.name]:
            raise ProfitError(f"Record '{number}' already exists.")
        org = self.organisation_matching(change)
        if org is not None:
            self.check_begin_date(org, change)
        now = self.clock.tick()
        self.note_change()
        number = number or self._next_number(info.name)
        self._reserve_number(info.name, number)
        if org is None:
            org = self.add_organisation(change, now)
        else:
            self.apply_organisation(org, change, now)
        relation_fields = {info.flag: True, **change.relation}
        self.relations[info.name][number] = Relation(number, org.number, relation_fields, now)
        return {info.key: number, "BcCo": org.number}

    def update(self, info: Entity, element: Mapping[str, object]) -> dict[str, str]:
        """PUT one element: change the given fields of an existing relation."""
        change = self._validate(info, element, insert=False)
        number = str(change.relation.pop(info.key, "") or "")
        if not number:
            raise ProfitError(f"Field '{info.key}' is required.")
        relation = self.relations[info.name].get(number)
        if relation is None:
            raise ProfitError(
                f"The entered value for '{info.key}' ({number}) does not exist.", NOT_FOUND
            )
        org = self.organisations[relation.organisation]
        if change.organisation is not None:
            given = change.organisation.get("BcCo")
            if change.match == "0" and given not in (None, "", org.number):
                raise ProfitError("The organisation does not belong to this relation.")
            if change.match not in ("0", "9"):
                raise ProfitError("Use MatchOga 0 or 9 to update the relation's organisation.")
        self.check_begin_date(org, change)
        now = self.clock.tick()
        self.note_change()
        if change.relation:
            relation.fields.update(change.relation)
            relation.modified = now
        self.apply_organisation(org, change, now)
        return {info.key: number, "BcCo": org.number}

    def add_organisation(self, change: Change, now: datetime) -> Organisation:
        """The new organisation ``change`` describes (``organisation_matching`` found none)."""
        fields = dict(change.organisation or {})
        number = str(fields.pop("BcCo", "") or "") or self._next_org_number()
        if number in self.organisations:
            raise ProfitError(f"Organisation '{number}' already exists.")
        self._reserve_org_number(number)
        org = Organisation(number, fields, now, dict(change.address or {}), now)
        self.organisations[number] = org
        return org

    def check_begin_date(self, org: Organisation, change: Change) -> None:
        """Profit keeps an address history: an organisation's address changes as of a date."""
        needs_date = change.address is not None and org.address and self.require_begin_date
        if needs_date and not change.begin_date:
            raise ProfitError("Field 'BeginDate' is required when changing an address.")

    def apply_organisation(self, org: Organisation, change: Change, now: datetime) -> None:
        if change.organisation:
            fields = {k: v for k, v in change.organisation.items() if k != "BcCo"}
            if fields:
                org.fields.update(fields)
                org.modified = now
        if change.address:
            org.address.update(change.address)
            org.address_modified = now

    def organisation_matching(self, change: Change) -> Organisation | None:
        """The existing organisation MatchOga points at, or None for a new one."""
        fields = change.organisation
        if fields is None:
            raise ProfitError("An organisation (KnOrganisation) is required.")
        match = change.match
        if match == "9":
            raise ProfitError("MatchOga 9 cannot be used when inserting a relation.")
        if match == "0":
            number = str(fields.get("BcCo") or "")
            if number in self.organisations:
                return self.organisations[number]
            if not number and not change.autonum:
                raise ProfitError("Field 'BcCo' is required when AutoNum is off.")
            return None
        attribute = _MATCH_ON[match]
        if attribute is None:  # 6: always a new organisation
            if not change.autonum and not fields.get("BcCo"):
                raise ProfitError("Field 'BcCo' is required when AutoNum is off.")
            return None
        wanted = fields.get(attribute)
        if wanted in (None, ""):
            # Matching on a blank value would take any organisation without one.
            raise ProfitError(f"Field '{attribute}' is required to compare organisations on it.")
        found = [o for o in self.organisations.values() if o.fields.get(attribute) == wanted]
        if len(found) > 1:
            raise ProfitError(f"More than one organisation matches on '{attribute}'.")
        return found[0] if found else None

    def _validate(self, info: Entity, element: Mapping[str, object], *, insert: bool) -> Change:
        """Check a whole element (fields, lengths, code tables, nesting) before any write."""
        schema = self.environment.update_connectors[info.update_connector]
        relation = element_fields(schema, element, insert=insert)
        key = element.get(f"@{info.key}")
        if key not in (None, ""):
            relation[info.key] = _coerce(schema.field(info.key), key, schema.name)
        change = Change(relation, None, "0", False, None, False)
        for name, sub in nested_objects(element):
            child = schema.child(name)
            if child is None:
                raise ProfitError(f"Object '{name}' is unknown in '{schema.name}'.")
            read_organisation(change, child, sub, insert=insert)
        return change

    def _next_number(self, entity: str) -> str:
        return str(self._next[entity])

    def _reserve_number(self, entity: str, number: str) -> None:
        if number != number.casefold():
            self.cased_numbers.add(entity)
        if number.isdigit():
            self._next[entity] = max(self._next[entity], int(number) + 1)

    def next_person_number(self) -> str:
        """Persons and organisations are both relations in Profit, numbered from one
        range (``BcCo``)."""
        return self._next_org_number()

    def reserve_person_number(self, number: str) -> None:
        self._reserve_org_number(number)

    def _own_org_number(self, relation: str) -> str:
        """A seeded relation without an organisation number is at one numbered as itself
        (a fixture's contact at ``"OrganisationId": "10001"`` is at debtor 10001's), unless
        that number is taken."""
        taken = relation in self.organisations or relation in self.persons
        return self._next_org_number() if taken else relation

    def _next_org_number(self) -> str:
        return str(self._next_org)

    def _reserve_org_number(self, number: str) -> None:
        if number.isdigit():
            self._next_org = max(self._next_org, int(number) + 1)


# What MatchOga compares an inserted organisation on (None: always a new one); the
# schema's code table refuses the values not simulated (4, 5: on an address).
_MATCH_ON: Mapping[str, str | None] = {"1": "CcNr", "2": "FiNr", "3": "Nm", "6": None}


def _without_collection(build: Callable[[], Any]) -> Any:
    """``build()`` with the cycle collector paused: an index is one new object per row
    and holds no cycles, and a collection pass over a large environment on every few
    hundred of them would take most of the time."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        return build()
    finally:
        if was_on:
            gc.enable()


def read_organisation(
    change: Change, schema: UpdateObject, element: Mapping[str, object], *, insert: bool
) -> None:
    """The organisation part of ``change``: its fields, control fields and visit address."""
    fields = element_fields(schema, element, insert=insert)
    change.match = str(fields.pop("MatchOga", None) or "0")
    change.autonum = bool(fields.pop("AutoNum", False))
    fields.pop("PadAdr", None)
    fields.pop("BcId", None)
    change.organisation = fields
    for name, sub in nested_objects(element):
        child = schema.child(name)
        if child is None:
            raise ProfitError(f"Object '{name}' is unknown in '{schema.name}'.")
        if name == "KnContact":
            # Not simulated inside a relation: syncd adds contacts through KnOrganisation.
            raise ProfitError("KnContact is only simulated in the KnOrganisation connector.")
        if name != "KnBasicAddressAdr":
            continue  # a postal address is checked, not kept
        address = element_fields(child, sub, insert=insert)
        change.begin_date = address.pop("BeginDate", None) is not None
        address.pop("ResZip", None)
        if insert and not address.get("CoId"):
            raise ProfitError("Field 'CoId' (Land) is required for an address.")
        change.address = address


def nested_objects(element: Mapping[str, object]) -> Iterator[tuple[str, Mapping[str, object]]]:
    """The nested objects of an element, given as a list of one-key objects or one object."""
    raw = element.get("Objects")
    if raw is None:
        return
    items = raw if isinstance(raw, list) else [raw]
    for item in items:
        if not isinstance(item, dict):
            raise ProfitError("Invalid json: 'Objects' must hold objects.")
        for name, body in item.items():
            if not isinstance(body, dict) or "Element" not in body:
                raise ProfitError(f"Invalid json: '{name}' has no 'Element'.")
            sub = body["Element"]
            for one in sub if isinstance(sub, list) else [sub]:
                if not isinstance(one, dict):
                    raise ProfitError(f"Invalid json: '{name}' element is not an object.")
                yield name, one


def element_fields(
    schema: UpdateObject, element: Mapping[str, object], *, insert: bool
) -> dict[str, object]:
    raw = element.get("Fields", {})
    if not isinstance(raw, dict):
        raise ProfitError(f"Invalid json: 'Fields' of '{schema.name}' must be an object.")
    values: dict[str, object] = {}
    for key, value in raw.items():
        field_def = schema.field(key)
        if field_def is None:
            raise ProfitError(f"Field '{key}' is unknown in '{schema.name}'.")
        values[key] = _coerce(field_def, value, schema.name)
    if insert:
        for required in schema.required_on_insert:
            if values.get(required) in (None, ""):
                label = schema.field(required)
                shown = label.label if label else required
                raise ProfitError(f"Field '{required}' ({shown}) is required.")
    return values


def _coerce(field_def: UpdateField | None, value: object, where: str) -> object:
    """A field value as stored; "" and null clear it. Lenient, like Profit."""
    assert field_def is not None
    if value is None or value == "":
        return None
    kind = field_def.type
    problem = ProfitError(
        f"The value '{value}' is not valid for field '{field_def.id}' in '{where}'."
    )
    if kind is DataType.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true"):
            return True
        if text in ("0", "false"):
            return False
        raise problem
    if kind is DataType.INT:
        if isinstance(value, bool):
            raise problem
        try:
            return int(str(value).strip())
        except ValueError:
            raise problem from None
    if kind is DataType.DECIMAL:
        if isinstance(value, bool):
            raise problem
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise problem from None
        return int(number) if number == number.to_integral_value() else float(number)
    if kind is DataType.DATE:
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise problem from None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise problem
    text = str(value)
    if field_def.length and len(text) > field_def.length:
        raise ProfitError(
            f"The value of field '{field_def.id}' ({field_def.label}) in '{where}' is too long: "
            f"{len(text)} characters, at most {field_def.length}."
        )
    if field_def.values and text not in field_def.values:
        raise ProfitError(f"The entered value for '{field_def.label}' does not exist: '{text}'.")
    return text


def instant(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return moment.astimezone(UTC)


# Where each part of a GetConnector row is read from: the relation (or contact), its
# organisation (by number), that one's address, or a contact's person.
_READ: dict[Part, Callable[[ProfitData, Relation, str], object]] = {
    Part.KEY: lambda d, r, source: r.number,
    Part.ORG_KEY: lambda d, r, source: d.organisations[r.organisation].number,
    Part.RELATION: lambda d, r, source: r.fields.get(source),
    Part.ORGANISATION: lambda d, r, source: d.organisations[r.organisation].fields.get(source),
    Part.ADDRESS: lambda d, r, source: d.organisations[r.organisation].address.get(source),
    Part.RELATION_MODIFIED: lambda d, r, source: r.modified,
    Part.ORGANISATION_MODIFIED: lambda d, r, source: d.organisations[r.organisation].modified,
    Part.ADDRESS_MODIFIED: lambda d, r, source: d.organisations[r.organisation].address_modified,
    Part.MODIFIED: lambda d, r, source: _latest(r, d.organisations[r.organisation]),
    Part.PERSON_KEY: lambda d, r, source: r.person,
    Part.PERSON: lambda d, r, source: d.persons[r.person].fields.get(source),
    Part.PERSON_MODIFIED: lambda d, r, source: d.persons[r.person].modified,
    Part.CONTACT_LATEST: lambda d, r, source: max(r.modified, d.persons[r.person].modified),
}


def _latest(relation: Relation, org: Organisation) -> datetime:
    """The last change to any of the three tables a relation's row is made of."""
    dates = (relation.modified, org.modified, org.address_modified)
    return max(d for d in dates if d is not None)
