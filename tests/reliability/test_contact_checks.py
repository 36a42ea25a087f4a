"""The campaigns' contact checks find what they look for: a contact twice on a side, a
contact of a linked company not linked, one at the wrong organisation, a prospect's
contact in AFAS."""

from __future__ import annotations

from syncd.records import Side
from syncd.state.rows import Link
from tests.reliability.campaign.contact_checks import contact_duplicates, contact_problems
from tests.reliability.campaign.people import CONTACT, Person
from tests.reliability.campaign.world import ENTITIES, World
from tests.reliability.test_fault_campaign import MAPPINGS


class _Linked:
    """A world whose first person on both sides is at a company linked as a customer,
    and the links a converged run would have for them."""

    def __init__(self) -> None:
        self.world = World(MAPPINGS, 12, seed=5)
        snapshot = self.world.snapshot()
        self.person = next(
            p
            for p in self.world.people
            if p.crm and p.afas and snapshot.of(Side.AFAS, "customer").get(p.company)
        )
        crm_company = snapshot.of(Side.CRM, "customer")[self.person.company][0].record_id
        debtor = snapshot.of(Side.AFAS, "customer")[self.person.company][0].record_id
        crm_contact = snapshot.of(Side.CRM, CONTACT)[self.person.email][0].record_id
        afas_contact = snapshot.of(Side.AFAS, CONTACT)[self.person.email][0].record_id
        self.company_link = Link("campaign", "customer", crm_company, debtor, id=1)
        self.contact_link = Link("campaign", CONTACT, crm_contact, afas_contact, id=2)
        self.organisation_of = {
            number: relation.organisation
            for entity in ENTITIES
            for number, relation in self.world.afas.data.relations[entity].items()
        }

    def problems(self, links: list[Link], people: list[Person] | None = None) -> list[str]:
        return contact_problems(
            self.world.snapshot(),
            people or [self.person],
            MAPPINGS[CONTACT],
            links,
            [],
            self.organisation_of,
        )


def test_a_linked_contact_at_its_company_s_organisation_passes_and_unlinked_it_does_not() -> None:
    linked = _Linked()
    assert linked.problems([linked.company_link, linked.contact_link]) == []

    found = linked.problems([linked.company_link])
    assert len(found) == 1
    assert linked.person.email in found[0]
    assert "0 links" in found[0]


def test_a_contact_at_another_organisation_than_its_company_s_is_misplaced() -> None:
    linked = _Linked()
    debtor = linked.company_link.afas_id
    linked.organisation_of[debtor] = "another organisation"

    found = linked.problems([linked.company_link, linked.contact_link])
    assert len(found) == 1
    assert "not one linked to HubSpot company" in found[0]


def test_a_contact_twice_in_afas_is_a_duplicate_and_a_prospect_s_contact_there_is_wrong() -> None:
    linked = _Linked()
    assert contact_duplicates(linked.world.snapshot()) == []
    prospect = next(p for p in linked.world.people if p.prospect)
    organisation = linked.organisation_of[linked.company_link.afas_id]
    for email in (linked.person.email, prospect.email):
        row = {"OrganisationId": organisation, "LastName": "Dubbel", "Email": email}
        linked.world.afas.seed({CONTACT: [row]})

    duplicates = contact_duplicates(linked.world.snapshot())
    assert len(duplicates) == 1
    assert linked.person.email in duplicates[0]
    found = linked.problems([linked.company_link, linked.contact_link], [prospect])
    assert found == [f"prospect's contact {prospect.email} is in AFAS: it must wait"]
