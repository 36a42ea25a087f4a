"""Contact persons in the simulated Profit: persons linked to organisations by contacts.

How Profit takes them (sources in docs/afas-setup.md, "Contact persons"):

- ``KnOrganisation`` adds a contact with a nested ``KnContact`` holding one ``KnPerson``:
  a POST (the organisation new, or found by ``MatchOga``), a POST on
  ``KnOrganisation/KnContact`` or a PUT with ``"@Action": "insert"`` on the contact (the
  organisation must exist). ``MatchPer`` finds the person (an existing person is reused
  and the given fields change it; none matching: a new person).
- ``KnContact`` only *updates* a contact (its work e-mail, phone, mobile, function,
  ``Bl``): found by ``CdId``, or by ``BcCoOga`` and ``BcCoPer``. A POST is refused;
  contacts are never deleted, only blocked.
- ``KnPerson`` (POST or PUT) changes a person's own fields (names, initials), ``MatchPer``
  as above.

Each body is validated completely before anything changes, as for relations. A contact is
a :class:`Relation` of the ``contact`` table (keyed by ``CdId``); its person a
:class:`Person`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from syncd.sim.afas.schema import CONTACT, CONTACT_ENTITY, ORGANISATION, PERSON, Part
from syncd.sim.afas.store import (
    NOT_FOUND,
    Change,
    Organisation,
    Person,
    ProfitData,
    ProfitError,
    Relation,
    element_fields,
    instant,
    nested_objects,
    read_organisation,
)

_NAME = ("LaNm", "Is", "In", "ViGe")
# What MatchPer compares a person on (help App_Conect_UpdDsc_020); None: always new.
MATCH_PER: Mapping[str, tuple[str, ...] | None] = {
    "0": ("BcCo",),
    "1": ("SoSe",),
    "2": _NAME,
    "3": (*_NAME, "EmAd"),
    "4": (*_NAME, "MbNr"),
    "5": (*_NAME, "TeNr"),
    "6": (*_NAME, "DaBi"),
    "7": None,
}
_CONTACT_KEYS = ("CdId", "BcCoOga", "BcCoPer", "ViKc")


@dataclass
class _PersonChange:
    """A validated person: the existing one MatchPer found, or the fields of a new one."""

    found: Person | None
    fields: dict[str, object]
    number: str


@dataclass
class _NewContact:
    fields: dict[str, object]
    person: _PersonChange


def write(
    data: ProfitData,
    connector: str,
    element: Mapping[str, object],
    *,
    insert: bool,
    subobject: str = "",
) -> dict[str, str]:
    """POST (``insert``) or PUT one element of ``connector`` (a POST on ``connector/
    subobject`` when given); the keys of the answer."""
    if subobject and (connector, subobject) != ("KnOrganisation", "KnContact"):
        raise ProfitError(f"A POST on '{connector}/{subobject}' is not simulated.")
    if connector == "KnOrganisation":
        return _organisation_with_contact(data, element, insert=insert, subobject=bool(subobject))
    if connector == "KnContact":
        if insert:
            raise ProfitError(
                "Adding is not supported by UpdateConnector 'KnContact'; "
                "add contacts through 'KnOrganisation'."
            )
        return _update_contact(data, element)
    person = _person(data, element, insert=insert)
    return {"BcCo": _save_person(data, person, data.clock.tick())}


# -- KnOrganisation with a nested contact ------------------------------------------------


def _organisation_with_contact(
    data: ProfitData, element: Mapping[str, object], *, insert: bool, subobject: bool
) -> dict[str, str]:
    """Add the nested contact to the organisation ``element`` names (or adds).

    A contact is added by a POST (on the organisation, or on its ``KnContact``
    sub-object), or by a PUT whose ``KnContact`` element says ``"@Action": "insert"``
    (update-connector.md, "POST on SubObject"); a PUT without it would change a contact,
    which KnOrganisation cannot (help App_Conect_UpdDsc_010).
    """
    contacts = [one for name, one in nested_objects(element) if name == "KnContact"]
    if len(contacts) > 1:
        raise ProfitError("KnContact: supplying multiple lines is not supported.")
    if subobject and not contacts:
        raise ProfitError("Object 'KnContact' is required.")
    if contacts and not insert and not subobject and contacts[0].get("@Action") != "insert":
        raise ProfitError(
            "Contacts cannot be changed with UpdateConnector 'KnOrganisation'; add one with "
            "a POST on 'KnOrganisation/KnContact' or '@Action': 'insert'."
        )
    # the sub-object URL updates the main object: it must exist, as for a PUT
    change, org = _organisation(data, element, existing=subobject or not insert)
    new_contact = _new_contact(data, org, contacts[0]) if contacts else None
    now = data.clock.tick()
    data.note_change()
    if org is None:
        org = data.add_organisation(change, now)
    else:
        data.apply_organisation(org, change, now)
    keys = {"BcCo": org.number}
    if new_contact is not None:
        person = _save_person(data, new_contact.person, now)
        contact_id = str(data.next_contact_id)
        data.next_contact_id += 1
        fields = {**new_contact.fields, "CdId": int(contact_id)}
        data.relations[CONTACT_ENTITY][contact_id] = Relation(
            contact_id, org.number, fields, now, person=person
        )
        keys["BcCoPer"] = person  # the answer names the person (help App_Conect_UpdDsc_020)
    return keys


def _organisation(
    data: ProfitData, element: Mapping[str, object], *, existing: bool
) -> tuple[Change, Organisation | None]:
    """The validated organisation part, and the organisation MatchOga finds (None: a new
    one, unless only an ``existing`` one may be meant)."""
    rest = [{n: {"Element": one}} for n, one in nested_objects(element) if n != "KnContact"]
    change = Change({}, None, "0", False, None, False)
    read_organisation(change, ORGANISATION, {**element, "Objects": rest}, insert=not existing)
    assert change.organisation is not None
    number = str(change.organisation.get("BcCo") or "")
    if existing and change.match == "0" and not number:
        raise ProfitError("Field 'BcCo' is required.")
    # A match value overrides the method: one match is changed, none is added.
    org = data.organisation_matching(change)
    if org is None and existing:
        raise ProfitError(f"The entered value for 'BcCo' ({number}) does not exist.", NOT_FOUND)
    if org is None and number in data.organisations:
        raise ProfitError(f"Organisation '{number}' already exists.")
    if org is not None:
        data.check_begin_date(org, change)
    return change, org


def _new_contact(
    data: ProfitData, org: Organisation | None, element: Mapping[str, object]
) -> _NewContact:
    fields = element_fields(CONTACT, element, insert=True)
    for key in ("CdId", "BcCoOga", "BcCoPer"):
        if fields.pop(key, None) is not None:
            raise ProfitError(f"Field '{key}' cannot be given when adding a contact.")
    if fields.pop("ViKc", None) not in (None, "PRS"):
        raise ProfitError("Only contacts of type 'PRS' (person at organisation) are simulated.")
    persons = [one for name, one in nested_objects(element) if name == "KnPerson"]
    if len(persons) != 1:
        raise ProfitError("A contact of type 'PRS' needs one KnPerson.")
    person = _person(data, persons[0], insert=True)
    if org is not None and person.found is not None:
        taken = any(
            c.organisation == org.number and c.person == person.found.number
            for c in data.relations[CONTACT_ENTITY].values()
        )
        if taken:
            raise ProfitError(
                f"Person '{person.found.number}' already has a contact at organisation "
                f"'{org.number}'."
            )
    fields.setdefault("Bl", False)
    return _NewContact(fields, person)


# -- persons -------------------------------------------------------------------------------


def _person(data: ProfitData, element: Mapping[str, object], *, insert: bool) -> _PersonChange:
    """The person ``element`` means, by ``MatchPer``; validated, nothing changed yet."""
    fields = element_fields(PERSON, element, insert=False)
    match = str(fields.pop("MatchPer", None) or "0")
    autonum = bool(fields.pop("AutoNum", False))
    fields.pop("BcId", None)
    number = str(fields.pop("BcCo", None) or "")
    attributes = MATCH_PER[match]
    found: Person | None = None
    if match == "0":
        if not number and not insert:
            raise ProfitError("Field 'BcCo' is required.")
        found = data.persons.get(number) if number else None
        if found is None and number and not insert:  # a PUT changes a known person only
            raise ProfitError(f"The entered value for 'BcCo' ({number}) does not exist.", NOT_FOUND)
    elif attributes is not None:
        wanted = {a: (number if a == "BcCo" else fields.get(a)) for a in attributes}
        named = attributes[: len(_NAME)] == _NAME  # a prefix, initials or gender may be blank
        required = ("LaNm", *attributes[len(_NAME) :]) if named else attributes
        if any(wanted[a] in (None, "") for a in required):
            raise ProfitError(f"The fields MatchPer {match} compares on are required.")
        same = [p for p in data.persons.values() if _holds(p, wanted)]
        if len(same) > 1:
            raise ProfitError(f"More than one person matches on MatchPer {match}.")
        found = same[0] if same else None
    if found is None:
        if not fields.get("LaNm"):
            raise ProfitError("Field 'LaNm' (Achternaam) is required.")
        if not number and not autonum:
            raise ProfitError("Field 'BcCo' is required when AutoNum is off.")
        if number in data.persons or number in data.organisations:
            raise ProfitError(f"Person '{number}' already exists.")
    return _PersonChange(found, fields, number)


def _holds(person: Person, wanted: Mapping[str, object]) -> bool:
    return all(_same(person.fields.get(k), v) for k, v in wanted.items())


def _same(stored: object, wanted: object) -> bool:
    if stored in (None, "") or wanted in (None, ""):
        return stored in (None, "") and wanted in (None, "")
    return str(stored).casefold() == str(wanted).casefold()


def _save_person(data: ProfitData, change: _PersonChange, now: datetime) -> str:
    data.note_change()
    if change.found is not None:
        if change.fields:
            change.found.fields.update(change.fields)
            change.found.modified = now
        return change.found.number
    number = change.number or data.next_person_number()
    data.reserve_person_number(number)
    data.persons[number] = Person(number, dict(change.fields), now)
    return number


# -- KnContact: updates only ---------------------------------------------------------------


def _update_contact(data: ProfitData, element: Mapping[str, object]) -> dict[str, str]:
    fields = element_fields(CONTACT, element, insert=False)
    for name, _one in nested_objects(element):
        raise ProfitError(f"Object '{name}' cannot be changed through KnContact.")
    contact = _contact_for(data, fields)
    for key in _CONTACT_KEYS:
        fields.pop(key, None)
    now = data.clock.tick()
    data.note_change()
    if fields:
        contact.fields.update(fields)
        contact.modified = now
    return {"CdId": contact.number}


def _contact_for(data: ProfitData, fields: Mapping[str, object]) -> Relation:
    """The contact by ``CdId``, or by organisation and person (help App_Conect_UpdDsc_030)."""
    table = data.relations[CONTACT_ENTITY]
    org, person = fields.get("BcCoOga"), fields.get("BcCoPer")
    if fields.get("CdId") is not None:
        contact = table.get(str(fields["CdId"]))
        if contact is None:
            raise ProfitError(
                f"The entered value for 'CdId' ({fields['CdId']}) does not exist.", NOT_FOUND
            )
        if org not in (None, contact.organisation) or person not in (None, contact.person):
            raise ProfitError("The contact does not belong to this organisation and person.")
        return contact
    if org is None or person is None:
        raise ProfitError("Field 'CdId' is required.")
    for contact in table.values():
        if (contact.organisation, contact.person) == (org, person):
            return contact
    raise ProfitError(f"Person '{person}' has no contact at organisation '{org}'.", NOT_FOUND)


# -- seeding and user edits ------------------------------------------------------------------


def seed(data: ProfitData, row: Mapping[str, object]) -> str:
    """Load a contact shaped like the ``syncd_contacts`` row (its organisation exists)."""
    connector = data.environment.connector_for(CONTACT_ENTITY)
    parts: dict[Part, dict[str, object]] = {p: {} for p in Part}
    for key, raw in row.items():
        getfield = connector.field(key)
        if getfield is None:
            raise ValueError(f"{connector.id} has no field {key!r}")
        parts[getfield.part][getfield.source] = raw
    org = str(parts[Part.ORG_KEY].get(""))
    if org not in data.organisations:
        raise ValueError(f"no organisation {org!r} for the contact")
    modified = instant(parts[Part.CONTACT_LATEST].get("")) or data.clock.tick()
    # each table's own date when the row gives it, else the row's
    contact_modified = instant(parts[Part.RELATION_MODIFIED].get("")) or modified
    person_modified = instant(parts[Part.PERSON_MODIFIED].get("")) or modified
    data.clock.catch_up_with(max(modified, contact_modified, person_modified))
    data.note_change()
    number = str(parts[Part.PERSON_KEY].get("") or data.next_person_number())
    data.reserve_person_number(number)
    person = data.persons.setdefault(number, Person(number, {}, person_modified))
    person.fields.update(parts[Part.PERSON])
    fields = parts[Part.RELATION]
    contact_id = int(str(fields.get("CdId") or data.next_contact_id))
    data.next_contact_id = max(data.next_contact_id, contact_id + 1)
    fields["CdId"] = contact_id
    fields.setdefault("Bl", False)
    data.relations[CONTACT_ENTITY][str(contact_id)] = Relation(
        str(contact_id), org, fields, contact_modified, person=number
    )
    return str(contact_id)


def edit(data: ProfitData, contact_id: str, changes: Mapping[str, object]) -> None:
    """A user edits a contact in Profit: the contact's or the person's date moves."""
    contact = data.relation(CONTACT_ENTITY, contact_id)
    person = data.persons[contact.person]
    connector = data.environment.connector_for(CONTACT_ENTITY)
    now = data.clock.tick()
    data.note_change()
    for key, raw in changes.items():
        getfield = connector.field(key)
        if getfield is None or getfield.part not in (Part.RELATION, Part.PERSON):
            raise ValueError(f"{connector.id} field {key!r} cannot be edited")
        if getfield.part is Part.PERSON:
            person.fields[getfield.source] = raw
            person.modified = now
        else:
            contact.fields[getfield.source] = raw
            contact.modified = now
