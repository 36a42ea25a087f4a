"""The demo's people: each under their company on each side it is on, most of those at a
company on both sides in both systems, and the ones on one side or differing as planned."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from syncd.mapping import load_mapping, load_mappings
from syncd.records import Side
from syncd.sim.afas import AfasSimulator
from syncd.sim.demo import seed_simulators
from syncd.sim.demo_people import (
    PROSPECT_SHARE,
    Staffed,
    Where,
    afas_row,
    crm_properties,
    seed_people,
)
from syncd.sim.hubspot import HubSpotSimulator
from syncd.sim.hubspot.associations import Associated
from syncd.sim.hubspot.kinds import CONTACTS

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = load_mappings(ROOT / "mappings", ["customer", "supplier"])
CONTACT = load_mapping(ROOT / "mappings" / "contact.toml")
COMPANIES = 300


@dataclass
class Demo:
    afas: AfasSimulator
    hubspot: HubSpotSimulator
    staffed: list[Staffed]

    def crm_contacts(self) -> dict[str, str]:
        """HubSpot contact ids by e-mail."""
        return {c.properties["email"]: c.id for c in self.hubspot.contacts.companies.values()}

    def afas_contacts(self) -> dict[object, dict[str, object]]:
        """AFAS syncd_contacts rows by e-mail."""
        return {row["Email"]: row for row in self.afas.rows("contact")}


def seeded(seed: int = 2026) -> Demo:
    afas, hubspot = AfasSimulator(), HubSpotSimulator()
    companies = seed_simulators(afas, hubspot, MAPPINGS, COMPANIES, seed=seed)
    return Demo(afas, hubspot, seed_people(afas, hubspot, companies, seed=seed))


@pytest.fixture(scope="module")
def demo() -> Demo:
    return seeded()


def test_each_hubspot_contact_has_its_company_as_its_one_primary_company(demo: Demo) -> None:
    contacts = demo.crm_contacts()
    on_crm = [s for s in demo.staffed if s.crm is not None]
    assert len(contacts) == len(on_crm), "e-mails are unique, and no one else is there"
    for one in on_crm:
        assert one.crm is not None
        assert one.company.crm_id is not None
        company = demo.hubspot.associations.of(CONTACTS, contacts[one.crm.email])
        assert company == [Associated(one.company.crm_id, primary=True)]
        stored = demo.hubspot.company(one.company.crm_id).properties
        assert stored["name"] == one.company.fields["name"]


def test_each_afas_contact_is_under_its_company_s_organisation(demo: Demo) -> None:
    rows = demo.afas_contacts()
    on_afas = [s for s in demo.staffed if s.afas is not None]
    assert len(rows) == len(on_afas) == len(demo.afas.rows("contact"))
    for one in on_afas:
        assert one.afas is not None
        assert one.company.organisation is not None
        assert rows[one.afas.email]["OrganisationId"] == one.company.organisation
        organisation = demo.afas.data.organisations[one.company.organisation]
        assert organisation.fields["Nm"] == one.company.fields["name"]


def test_most_people_of_companies_on_both_sides_are_on_both_sides(demo: Demo) -> None:
    places = Counter(s.where for s in demo.staffed if s.where is not None)
    assert set(places) == set(Where)
    assert places[Where.BOTH] > 0.6 * places.total()
    crm, afas = demo.crm_contacts(), demo.afas_contacts()
    for one in demo.staffed:
        person = one.crm or one.afas or pytest.fail("on no side")
        emails = {person.email, *person.other_emails}  # HubSpot keeps a former one
        assert (bool(emails & crm.keys()), bool(emails & afas.keys())) == (
            one.crm is not None,
            one.afas is not None,
        )


_DIFFERING: dict[Where | None, set[str]] = {
    Where.NEW_MOBILE_IN_CRM: {"mobile"},
    Where.NEW_MOBILE_IN_AFAS: {"mobile"},
    Where.NEW_EMAIL_IN_CRM: {"email"},
}


def test_people_on_both_sides_read_alike_but_for_a_new_mobile_number(demo: Demo) -> None:
    both = [s for s in demo.staffed if s.crm is not None and s.afas is not None]
    for one in both:
        assert one.crm is not None
        assert one.afas is not None
        crm = CONTACT.to_canonical(Side.CRM, crm_properties(one.crm))
        afas = CONTACT.to_canonical(Side.AFAS, afas_row(one.afas, "1"))
        differing = {k for k in afas if crm[k] != afas[k]} - {"company"}
        assert differing == _DIFFERING.get(one.where, set())
        if one.where is Where.NEW_EMAIL_IN_CRM:  # AFAS's is among HubSpot's others
            assert crm["email+others"] == afas["email"]


def test_the_people_of_a_company_on_one_side_are_on_that_side(demo: Demo) -> None:
    one_sided = [s for s in demo.staffed if s.where is None]
    assert one_sided
    for one in one_sided:
        assert (one.crm is None) == (one.company.crm_id is None)
        assert (one.afas is None) == (one.company.organisation is None)


def test_hubspot_prospects_have_people_who_wait_for_their_company(demo: Demo) -> None:
    companies = demo.hubspot.portal.companies.values()
    prospects = {c.id for c in companies if not c.properties.get("afas_roles")}
    assert len(prospects) == COMPANIES // PROSPECT_SHARE
    staffed = Counter(s.company.crm_id for s in demo.staffed if s.company.crm_id in prospects)
    assert set(staffed) == prospects, "every prospect has someone"
    assert all(s.afas is None for s in demo.staffed if s.company.crm_id in prospects)


def test_the_same_seed_seeds_the_same_people() -> None:
    first, again = seeded(seed=11), seeded(seed=11)
    assert first.staffed == again.staffed
    assert first.afas_contacts().keys() == again.afas_contacts().keys()
    assert first.crm_contacts().keys() == again.crm_contacts().keys()
