"""The campaigns' contact persons: who works where, on which side, and their users' edits.

A person's true identity is their work e-mail, which no edit touches (as a company's is
its KvK number). Each company seeded on both sides has someone in both systems (the same
e-mail, so syncd matches them) and someone on one side only; a company on one side has
someone there. A few HubSpot companies are *prospects* (neither customer nor supplier),
each with a contact: their contacts must wait, never reaching AFAS. A company only in
HubSpot has a contact too: it waits until syncd has created and linked the company.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from syncd.mapping import EntityMapping
from syncd.records import Side, Value
from syncd.sim.afas import AfasSimulator
from syncd.sim.companies import companies
from syncd.sim.hubspot import HubSpotSimulator

if TYPE_CHECKING:
    from tests.reliability.campaign.snapshot import Snapshot

CONTACT = "contact"
EMAIL = "email"
COMPANY = "company"
CONTACT_EDITABLE = ("phone", "job_title")
"""Contact fields users edit: free text (a phone number) on both sides."""
PROSPECTS = 2  # HubSpot companies per run that are neither customer nor supplier

_FIRST = ("Anne", "Bram", "Carla", "Daan", "Eva", "Frank", "Greet", "Hans", "Iris", "Joost")
_LAST = (("van", "Dijk"), ("", "Jansen"), ("de", "Vries"), ("", "Bakker"), ("van der", "Meer"))


@dataclass(frozen=True)
class Person:
    """One contact person as seeded: at which company (KvK; a prospect's HubSpot id),
    on which sides."""

    email: str
    company: str
    crm: bool
    afas: bool
    prospect: bool = False


@dataclass(frozen=True)
class Seats:
    """Where a company is: its HubSpot id and its AFAS organisations (one per role)."""

    crm_id: str | None
    organisations: tuple[str, ...]


def seed_people(
    afas: AfasSimulator,
    hubspot: HubSpotSimulator,
    mapping: EntityMapping,
    seats: Mapping[str, Seats],
    seed: int,
) -> list[Person]:
    """Seed the people of the companies at ``seats`` (KvK -> where) and of a few new
    prospects; returns who is where."""
    rng = random.Random(seed * 104_729)
    people: list[Person] = []
    for kvk, at in sorted(seats.items()):
        both = at.crm_id is not None and bool(at.organisations)
        sides = [(True, True), rng.choice([(True, False), (False, True)])] if both else []
        if not both:
            sides = [(at.crm_id is not None, bool(at.organisations))]
        for crm, on_afas in sides:
            people.append(Person(_email(seed, len(people)), kvk, crm, on_afas))
    for company in companies(PROSPECTS, seed=seed + 104_723):
        prospect = hubspot.seed({"name": str(company.fields["name"])})
        people.append(Person(_email(seed, len(people)), prospect, True, False, prospect=True))
    for n, person in enumerate(people):
        fields = _fields(person, n)
        if person.afas:
            at = seats[person.company]
            row = mapping.to_native(Side.AFAS, fields)
            afas.seed({CONTACT: [{**row, "OrganisationId": rng.choice(at.organisations)}]})
        if person.crm:
            crm_id = person.company if person.prospect else seats[person.company].crm_id
            assert crm_id is not None  # a person on the CRM side is at a HubSpot company
            native = mapping.to_native(Side.CRM, fields)
            native.pop(mapping.native_name(Side.CRM, COMPANY), None)  # an association
            contact_id = hubspot.seed_contact({k: _text(v) for k, v in native.items()})
            hubspot.associate(contact_id, crm_id, primary=True)
    return people


def share_organisations(afas: AfasSimulator, snapshot: Snapshot) -> None:
    """Put a company's debtor and creditor at one organisation, as Profit keeps a company
    (and as syncd adds a company's second role); the simulator's seeding gave each its own.

    (With them apart, a contact cycle that runs while only one of the two roles is
    linked creates in AFAS a contact whose twin waits at the other organisation: a
    limit the campaigns leave out, see docs/reliability.md.)
    """
    for records in _afas_relations(snapshot).values():
        first, *others = [afas.data.relations[entity][number] for entity, number in records]
        for relation in others:
            afas.data.organisations.pop(relation.organisation, None)
            relation.organisation = first.organisation
    afas.data.note_change()


def _afas_relations(snapshot: Snapshot) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (side, entity), held in sorted(snapshot.records.items()):
        if side is Side.AFAS:
            for kvk, records in held.items():
                found[kvk] += [(entity, r.record_id) for r in records]
    return found


def seats_of(afas: AfasSimulator, snapshot: Snapshot) -> dict[str, Seats]:
    """Every company's HubSpot id and AFAS organisations, by KvK number."""
    crm: dict[str, str] = {}
    organisations: dict[str, set[str]] = defaultdict(set)
    for (side, entity), held in snapshot.records.items():
        for kvk, records in held.items():
            for record in records:
                if side is Side.CRM:
                    crm[kvk] = record.record_id
                else:
                    relation = afas.data.relations[entity][record.record_id]
                    organisations[kvk].add(relation.organisation)
    return {
        kvk: Seats(crm.get(kvk), tuple(sorted(organisations.get(kvk, ()))))
        for kvk in set(crm) | set(organisations)
    }


def contact_value(name: str, seed: int, n: int) -> str:
    """A value of a contact field no one wrote before (``n``: the edit's number)."""
    if name == "phone":
        return f"+3120{seed % 100:02d}{n:05d}"
    return f"Functie {seed}-{n}"


def _fields(person: Person, n: int) -> dict[str, Value]:
    prefix, last = _LAST[n % len(_LAST)]
    return {
        "first_name": _FIRST[n % len(_FIRST)],
        "last_name": f"{prefix} {last}".strip(),
        EMAIL: person.email,
        "phone": f"+3110{n:07d}",
        "job_title": "Inkoper",
    }


def _email(seed: int, n: int) -> str:
    return f"persoon{n}.run{seed}@example.nl"


def _text(value: object) -> str | None:
    return None if value is None else str(value)
