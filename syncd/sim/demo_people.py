"""The demo's contact persons: who works where, on which side, seeded into both simulators.

At a company on both sides most people are in both systems with the same work e-mail
(what syncd matches contacts on first); some are only in HubSpot, some only in AFAS, and
a few have a new mobile number on one side only. The people of a company on one side are
on that side. Some HubSpot companies are prospects (neither customer nor supplier), with
people of their own: their contacts wait until the company becomes a customer or
supplier, as mappings/contact.toml says.

HubSpot holds a contact with the company as its *primary* company (association type 1),
AFAS a contact under the company's organisation. The field names are the simulators'
own, those mappings/contact.toml maps: HubSpot's standard contact properties and the
``syncd_contacts`` GetConnector of the simulated Profit.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from syncd.records import Value
from syncd.sim.afas import AfasSimulator
from syncd.sim.afas.schema import CONTACT_ENTITY
from syncd.sim.companies import companies
from syncd.sim.hubspot import HubSpotSimulator
from syncd.sim.people import People, Person

Fields = dict[str, Value]


class Where(StrEnum):
    """On which sides a person at a company on both sides is, and how the sides differ."""

    BOTH = "both"
    CRM_ONLY = "crm only"
    AFAS_ONLY = "afas only"
    NEW_MOBILE_IN_CRM = "new mobile in crm"
    NEW_MOBILE_IN_AFAS = "new mobile in afas"
    # HubSpot has a new work e-mail, the one AFAS still has among its additional ones
    NEW_EMAIL_IN_CRM = "new e-mail in crm"


# Out of 20 people at a company on both sides
_SHARES = {
    Where.BOTH: 13,
    Where.CRM_ONLY: 2,
    Where.AFAS_ONLY: 2,
    Where.NEW_MOBILE_IN_CRM: 1,
    Where.NEW_MOBILE_IN_AFAS: 1,
    Where.NEW_EMAIL_IN_CRM: 1,
}
PROSPECT_SHARE = 10
"""One HubSpot prospect for every this many companies."""


@dataclass(frozen=True)
class SeededCompany:
    """A company as seeded: its fields and its ids on the sides it is on."""

    fields: Fields
    crm_id: str | None  # the HubSpot company
    organisation: str | None  # the AFAS organisation (BcCo) of its first relation
    prospect: bool = False  # in HubSpot only, neither customer nor supplier


@dataclass(frozen=True)
class Staffed:
    """One person at a company, as each side holds them (None: not on that side)."""

    company: SeededCompany
    crm: Person | None
    afas: Person | None
    where: Where | None  # None at a company on one side only


def staff(at: Iterable[SeededCompany], *, seed: int = 2026) -> list[Staffed]:
    """The people of each company, each placed on the company's sides. Pure."""
    rng, people = random.Random(seed), People(seed)
    staffed = []
    for company in at:
        at_least = 1 if company.prospect else 0  # a prospect is known by someone there
        for person in people.at(_domain(company.fields), _area_code(company.fields), at_least):
            staffed.append(_placed(rng, people, company, person))
    return staffed


def _placed(rng: random.Random, people: People, company: SeededCompany, person: Person) -> Staffed:
    on_crm, on_afas = company.crm_id is not None, company.organisation is not None
    if not (on_crm and on_afas):
        return Staffed(company, person if on_crm else None, person if on_afas else None, None)
    (where,) = rng.choices(list(_SHARES), weights=list(_SHARES.values()))
    crm = None if where is Where.AFAS_ONLY else person
    afas = None if where is Where.CRM_ONLY else person
    if where is Where.NEW_MOBILE_IN_CRM:
        crm = people.with_new_mobile(person)
    if where is Where.NEW_MOBILE_IN_AFAS:
        afas = people.with_new_mobile(person)
    if where is Where.NEW_EMAIL_IN_CRM:
        crm = people.with_new_email(person)
    return Staffed(company, crm, afas, where)


def seed_people(
    afas: AfasSimulator,
    hubspot: HubSpotSimulator,
    seeded: Sequence[SeededCompany],
    *,
    seed: int = 2026,
) -> list[Staffed]:
    """Seed the people of the ``seeded`` companies and of some new HubSpot prospects."""
    prospects = [
        SeededCompany(c.fields, seed_prospect(hubspot, c.fields), None, prospect=True)
        for c in companies(max(1, len(seeded) // PROSPECT_SHARE), seed=seed + 1)
    ]
    staffed = staff([*seeded, *prospects], seed=seed)
    afas.seed(
        {
            CONTACT_ENTITY: [
                afas_row(s.afas, s.company.organisation)
                for s in staffed
                if s.afas is not None and s.company.organisation is not None
            ]
        }
    )
    for one in staffed:
        if one.crm is not None and one.company.crm_id is not None:
            contact_id = hubspot.seed_contact(crm_properties(one.crm))
            hubspot.associate(contact_id, one.company.crm_id, primary=True)
    return staffed


def seed_prospect(hubspot: HubSpotSimulator, fields: Fields) -> str:
    """A HubSpot company without a role: a prospect, neither customer nor supplier."""
    wanted = ("name", "phone", "website", "city")
    properties = {name: str(fields[name]) for name in wanted}
    return hubspot.seed({**properties, "domain": _domain(fields)})


def crm_properties(person: Person) -> dict[str, str | None]:
    """A person as a HubSpot contact's properties."""
    return {
        "firstname": person.first_name,
        "lastname": person.last_name_line,
        "email": person.email,
        "phone": person.phone,
        "mobilephone": person.mobile,
        "jobtitle": person.job_title,
        "hs_additional_emails": ";".join(person.other_emails) or None,
    }


def afas_row(person: Person, organisation: str) -> dict[str, object]:
    """A person at ``organisation`` as a ``syncd_contacts`` row of the simulated Profit."""
    return {
        "OrganisationId": organisation,
        "FirstName": person.first_name,
        "Prefix": person.prefix or None,
        "LastName": person.last_name,
        "Email": person.email,
        "Phone": person.phone,
        "Mobile": person.mobile,
        "Function": person.job_title,
    }


def _domain(fields: Fields) -> str:
    """The company's internet domain, from its website ("https://www.x.nl" -> "x.nl")."""
    host = urlsplit(str(fields["website"])).hostname or ""
    return host.removeprefix("www.")


def _area_code(fields: Fields) -> str:
    """The Dutch area code of the company's phone number ("+3120..." -> "020"), as
    :mod:`syncd.sim.companies` writes it."""
    return "0" + str(fields["phone"])[3:5]
