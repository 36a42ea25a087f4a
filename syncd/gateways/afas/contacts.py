"""Writing contacts (persons at an organisation) through KnOrganisation, KnContact and
KnPerson, one record a request.

Profit keeps a contact person as a person (``KnPerson``: the names) linked to an
organisation by a contact (``KnContact``: work e-mail, phone, mobile, function, blocked).
``KnContact`` only changes contacts; a contact is added under its organisation
(docs/afas-setup.md, "Contact persons"). The mapping says where each value goes: a path
starting ``KnPerson.`` is the person's, ``KnOrganisation.BcCo`` the organisation the
contact is at (the ``company`` field), any other path the contact's.

* ``create`` POSTs on ``KnOrganisation/KnContact``: the organisation by number
  (``MatchOga`` 0), a nested ``KnContact`` (``ViKc`` PRS, the correlation key in its free
  field) holding a new person (``MatchPer`` 7, always new: matching on a name could take
  a namesake). The answer names the person, not the contact: the new contact is that
  person's at the organisation. An answer without the person number is looked up by the
  correlation key; a contact not found either way is an :class:`OutcomeUnknownError`.
* ``update`` PUTs the contact's fields on ``KnContact`` by ``CdId`` and the person's on
  ``KnPerson`` (``MatchPer`` 0 with the person's number, read from the contact first).
* An update of the company *moves* the person: a contact at the new organisation for
  the same person, with the old contact's work fields overlaid by the given ones, and
  only then the old contact blocked, so that a crash in between leaves the person
  reachable (twice, for a while) rather than not at all. A contact the person already
  has there (a move interrupted after its create) is used instead of a second one.
  The new contact's id is returned; read of the old one reports it as moved.
* ``deactivate`` PUTs ``Bl`` = true on the contact: contacts are blocked, never deleted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from syncd.errors import OutcomeUnknownError, RecordError
from syncd.gateways.afas.client import AfasClient
from syncd.gateways.afas.contact_reading import ContactReader, person_field
from syncd.gateways.afas.payload import connector_payload
from syncd.gateways.afas.reading import RelationReader
from syncd.gateways.afas.relations import RelationMapping, Row
from syncd.gateways.afas.writing import WriteOptions, as_stored, unreadable_error, write_all
from syncd.gateways.base import BatchOutcome
from syncd.records import Record, Side, Value

__all__ = [
    "ContactValues",
    "ContactWriter",
    "contact_body",
    "new_contact_body",
    "person_body",
    "split_values",
]

CREATE_PATH = "connectors/KnOrganisation/KnContact"
CONTACT_PATH = "connectors/KnContact"
PERSON_PATH = "connectors/KnPerson"
_PERSON, _ORGANISATION = "KnPerson.", "KnOrganisation."


@dataclass(frozen=True)
class ContactValues:
    """A contact's values by UpdateConnector path, parted by the object they belong to."""

    organisation: str | None = None  # the organisation number given (None: blank)
    moves: bool = False  # whether an organisation was given at all
    contact: dict[str, object] = field(default_factory=dict)
    person: dict[str, object] = field(default_factory=dict)


def split_values(values: Mapping[str, object]) -> ContactValues:
    """``values`` (by the mapping's update paths) as the contact's, the person's and the
    organisation number; RecordError for an organisation field other than its number."""
    contact: dict[str, object] = {}
    person: dict[str, object] = {}
    organisation: object = None
    moves = False
    for path, value in values.items():
        if path.startswith(_PERSON):
            person[path.removeprefix(_PERSON)] = value
        elif path == f"{_ORGANISATION}BcCo":
            organisation, moves = value, True
        elif path.startswith(_ORGANISATION):
            raise RecordError(f"a contact cannot write its organisation's {path!r}")
        else:
            contact[path] = value
    number = None if organisation in (None, "") else str(organisation)
    return ContactValues(number, moves, contact, person)


def new_contact_body(
    organisation: str, contact: Mapping[str, object], person: Mapping[str, object]
) -> dict[str, object]:
    """A contact (person at organisation) added under the existing ``organisation``."""
    values = {
        "BcCo": organisation,
        **{f"KnContact.{k}": v for k, v in contact.items()},
        **{f"KnContact.KnPerson.{k}": v for k, v in person.items()},
    }
    defaults = {"": {"MatchOga": "0"}, "KnContact": {"ViKc": "PRS"}}
    return connector_payload(
        "KnOrganisation", values, defaults=defaults, always=["KnContact.KnPerson"]
    )


def contact_body(contact_id: str, values: Mapping[str, object]) -> dict[str, object]:
    """A change of the contact ``contact_id`` (a number, as ``CdId`` is)."""
    return connector_payload("KnContact", {"CdId": int(contact_id), "ViKc": "PRS", **values})


def person_body(person: str, values: Mapping[str, object]) -> dict[str, object]:
    """A change of the existing person numbered ``person``."""
    return connector_payload("KnPerson", {"MatchPer": "0", "BcCo": person, **values})


@dataclass(frozen=True)
class _Sent:
    """A new contact Profit accepted: where, whose (if its answer said) and its key."""

    organisation: str
    person: str | None
    correlation: str


class ContactWriter:
    """Creates, updates, moves and blocks contacts, and reads back what it wrote."""

    def __init__(
        self,
        client: AfasClient,
        relations: RelationMapping,
        contacts: ContactReader,
        reader: RelationReader,
        options: WriteOptions,
    ) -> None:
        self._client = client
        self._relations = relations
        self._contacts = contacts
        self._reader = reader
        self._options = options

    async def create(self, entity: str, fields: Mapping[str, Value], correlation: str) -> Record:
        return _one(await self.create_batch(entity, [(fields, correlation)]))

    async def update(
        self, entity: str, record_id: str, fields: Mapping[str, Value], correlation: str | None
    ) -> Record:
        return _one(await self.update_batch(entity, [(record_id, fields, correlation)]))

    async def create_batch(
        self, entity: str, items: Sequence[tuple[Mapping[str, Value], str]]
    ) -> list[BatchOutcome]:
        """One POST each, side by side, then the new contacts found together."""
        sent = await write_all([self._post(entity, *item) for item in items])
        found = await self._find_new(entity, [s for s in sent if isinstance(s, _Sent)])
        return [s if isinstance(s, RecordError) else found[s.correlation] for s in sent]

    async def update_batch(
        self, entity: str, items: Sequence[tuple[str, Mapping[str, Value], str | None]]
    ) -> list[BatchOutcome]:
        """The contacts read together, each item's requests, the items side by side, then
        read back together."""
        rows = await self._contacts.rows(entity, [record_id for record_id, _, _ in items])
        written = await write_all(
            [self._update(entity, rows.get(item[0]), *item) for item in items]
        )
        page = await self._contacts.read(entity, [w for w in written if isinstance(w, str)])
        return as_stored(entity, written, page)

    async def deactivate(self, entity: str, record_id: str) -> None:
        flag = self._relations.spec(entity).options["deactivate_update"]
        await self._client.put(CONTACT_PATH, contact_body(_number(record_id), {flag: True}))

    # -- create ----------------------------------------------------------------------------

    async def _post(self, entity: str, fields: Mapping[str, Value], correlation: str) -> _Sent:
        spec = self._relations.spec(entity)
        values = split_values(self._relations.native(entity, fields))
        if values.organisation is None:
            raise RecordError(
                f"a new {entity} needs the organisation it is at (its company)",
                field=self._company_field(entity),
            )
        contact = {**values.contact, spec.options["correlation_update"]: correlation}
        # MatchPer 7: always a new person; a match on names could take a namesake.
        person = {"MatchPer": "7", "AutoNum": self._options.autonum, **values.person}
        answer = await self._client.post(
            CREATE_PATH, new_contact_body(values.organisation, contact, person)
        )
        return _Sent(values.organisation, _person_number(answer), correlation)

    async def _find_new(self, entity: str, sent: Sequence[_Sent]) -> dict[str, BatchOutcome]:
        """Each new contact by its correlation key: the active contact of the person
        the answer named at the organisation, else the one holding the key."""
        spec = self._relations.spec(entity)
        at, whose = spec.options["organisation"], person_field(self._relations, entity)
        by_place = {(s.organisation, s.person): s.correlation for s in sent if s.person}
        rows = [
            row
            for row in await self._contacts.of_persons(entity, [p for _, p in by_place])
            if (str(row.get(at)), str(row.get(whose))) in by_place
            and not self._relations.is_blocked(entity, row)
        ]
        found: dict[str, BatchOutcome] = {}
        for row, outcome in zip(rows, self._outcomes(entity, rows), strict=True):
            found[by_place[(str(row.get(at)), str(row.get(whose)))]] = outcome
        missing = [s.correlation for s in sent if s.correlation not in found]
        if missing:
            found.update(await self._reader.find_by_correlation(entity, missing))
        lost = [key for key in missing if key not in found]
        if lost:
            raise OutcomeUnknownError(
                f"AFAS accepted {len(lost)} new {entity}(s) but neither the person number "
                "in its answer nor the correlation key finds them; look them up again later"
            )
        return found

    # -- update and move -------------------------------------------------------------------

    async def _update(
        self,
        entity: str,
        row: Row | None,
        record_id: str,
        fields: Mapping[str, Value],
        correlation: str | None,
    ) -> str:
        """Write one contact's changes (``row``: as read just before, None if there is
        none); the id of the contact that holds them now."""
        spec = self._relations.spec(entity)
        if row is None or self._relations.is_blocked(entity, row):
            raise RecordError(f"AFAS {entity} {record_id} is blocked or gone", reference=record_id)
        values = split_values(self._relations.native(entity, fields))
        if values.moves and values.organisation != str(row.get(spec.options["organisation"])):
            return await self._move(entity, row, values, correlation)
        contact = dict(values.contact)
        if correlation is not None:
            contact[spec.options["correlation_update"]] = correlation
        person = str(row.get(person_field(self._relations, entity)))
        await self._change(entity, record_id, person, contact, values.person)
        return record_id

    async def _change(
        self,
        entity: str,
        contact_id: str,
        person: str,
        contact: Mapping[str, object],
        person_values: Mapping[str, object],
    ) -> None:
        """The contact's fields in one PUT, the person's in another (only those given)."""
        if contact:
            await self._client.put(CONTACT_PATH, contact_body(contact_id, contact))
        if person_values:
            await self._client.put(PERSON_PATH, person_body(person, person_values))

    async def _move(
        self, entity: str, row: Row, values: ContactValues, correlation: str | None
    ) -> str:
        """The person at ``values.organisation`` instead: that contact first, then the old
        one blocked; the id of the new one."""
        spec = self._relations.spec(entity)
        organisation = values.organisation
        if organisation is None:
            raise RecordError(
                f"a {entity} is always at an organisation: its company cannot be blank",
                field=self._company_field(entity),
            )
        person = str(row.get(person_field(self._relations, entity)))
        contact = {**self._work_fields(entity, row), **values.contact}
        key = correlation if correlation is not None else row.get(spec.correlation)
        if key not in (None, ""):
            contact[spec.options["correlation_update"]] = key
        there = await self._contacts.at(entity, organisation, person)
        if there is None:
            existing = {"MatchPer": "0", "BcCo": person, **values.person}
            await self._client.post(CREATE_PATH, new_contact_body(organisation, contact, existing))
            there = await self._contacts.at(entity, organisation, person)
            if there is None:
                raise OutcomeUnknownError(
                    f"AFAS accepted {entity} {row[spec.id]}'s person at organisation "
                    f"{organisation} but shows no such contact; look it up again later"
                )
        else:  # an earlier move got this far (or the person returns): that contact again
            if self._relations.is_blocked(entity, there):
                contact[spec.options["deactivate_update"]] = False
            await self._change(entity, str(there[spec.id]), person, contact, values.person)
        await self.deactivate(entity, str(row[spec.id]))
        return str(there[spec.id])

    def _work_fields(self, entity: str, row: Row) -> dict[str, object]:
        """The contact's own mapped fields as the row shows them, by update path (as
        they are, not normalised: a move copies them, it does not change them)."""
        copied: dict[str, object] = {}
        for f in self._relations.mapping(entity).fields:
            paths = f.afas_update_parts or (f.afas_update,)
            if any(p.startswith((_PERSON, _ORGANISATION)) for p in paths):
                continue
            for name, path in zip(f.native_names(Side.AFAS), paths, strict=True):
                if row.get(name) not in (None, ""):
                    copied[path] = row[name]
        return copied

    # -- helpers ---------------------------------------------------------------------------

    def _outcomes(self, entity: str, rows: Sequence[Row]) -> list[BatchOutcome]:
        """Each row as a record, or the RecordError saying why it cannot be one."""
        page = self._relations.convert(entity, rows)
        stored = {r.id: r for r in page.records}
        rejected = {r.id: r for r in page.rejected}
        ids = [str(row[self._relations.spec(entity).id]) for row in rows]
        return [stored.get(i) or unreadable_error(entity, i, rejected) for i in ids]

    def _company_field(self, entity: str) -> str | None:
        reference = self._relations.mapping(entity).reference
        return reference.name if reference is not None else None


def _one(outcomes: Sequence[BatchOutcome]) -> Record:
    [outcome] = outcomes
    if isinstance(outcome, RecordError):
        raise outcome
    return outcome


def _number(contact_id: str) -> str:
    """A contact id to write with: a number (CdId), else the record is refused."""
    if not contact_id.isdigit():
        raise RecordError(f"{contact_id!r} is not an AFAS contact id", reference=contact_id)
    return contact_id


def _person_number(answer: object) -> str | None:
    """The person number in a create's answer, if it holds one (Profit says it does,
    but not under which key: ``BcCoPer`` is the simulator's; unverified)."""
    results = answer.get("results") if isinstance(answer, dict) else None
    keys = results.get("KnOrganisation") if isinstance(results, dict) else None
    if isinstance(keys, list) and keys:
        keys = keys[0]
    number = keys.get("BcCoPer") if isinstance(keys, dict) else None
    return str(number) if isinstance(number, str | int) and str(number).strip() else None
