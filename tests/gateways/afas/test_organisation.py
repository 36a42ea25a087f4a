"""A company's roles are one AFAS organisation: cycles with HubSpot (the simulator) on
the CRM side and the AFAS gateway against the AFAS simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest

from syncd.engine.cycle import run_cycle
from syncd.mapping import KNOWN_ENTITIES, load_mappings
from syncd.policy import SyncRules
from syncd.records import Side, Value
from syncd.state.store import open_store
from syncd.status.render import plan_as_dict, plan_as_text
from syncd.status.views import entity_health, health_as_text
from tests.gateways.afas.helpers import gateway, served, simulator
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS
from tests.gateways.hubspot.harness import harness_for, native
from tests.two_simulators import TwoSimulators

BOTH = "customer;supplier"
ATLAS: Mapping[str, Value] = {
    "name": "Atlas B.V.",
    "kvk": "27654321",
    "street": "Stationsweg",
    "house_number": "12",
    "postcode": "3811 AB",
    "city": "Amersfoort",
    "country": "NL",
}
# A Belgian company: no KvK number.
BRUGES: Mapping[str, Value] = {
    "name": "Brugse Bakkerij BV",
    "street": "Markt",
    "house_number": "3",
    "postcode": "8000",
    "city": "Brugge",
    "country": "BE",
}


class World(TwoSimulators):
    async def both_at_once(self) -> None:
        await asyncio.gather(self.cycle("customer"), self.cycle("supplier"))

    def company(self, fields: Mapping[str, Value], roles: str) -> str:
        values = {k: v for k, v in native(self.mappings["customer"], fields).items() if v}
        return self.hs.sim.seed({**values, "afas_roles": roles})

    def organisations_of(self, company: str) -> dict[str, str]:
        """Per role, the organisation number of the AFAS relation carrying ``company``."""
        found: dict[str, str] = {}
        for entity, relations in self.sim.data.relations.items():
            for relation in relations.values():
                org = self.sim.data.organisations[relation.organisation]
                if org.fields.get("XpRe") == company:
                    assert entity not in found, f"two {entity} relations for {company}"
                    found[entity] = org.number
        return found


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    mappings = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
    store = await open_store(f"sqlite:///{tmp_path}/state.db")
    sim = simulator()
    try:
        async with harness_for(mappings, page_size=50) as hs, served(sim) as url:
            afas = gateway(url, mappings, page_size=50)
            yield World(hs, afas, sim, store, mappings, SyncRules())
            await afas.aclose()
    finally:
        await store.close()


@pytest.mark.parametrize("fields", [ATLAS, BRUGES], ids=["with KvK", "without KvK"])
async def test_a_company_with_both_roles_is_one_organisation(
    world: World, fields: Mapping[str, Value]
) -> None:
    company = world.company(fields, BOTH)

    await world.both_at_once()  # a first sync of both lanes at once (early creates)
    await world.both_at_once()

    organisations = world.organisations_of(company)
    assert sorted(organisations) == ["customer", "supplier"]
    assert organisations["customer"] == organisations["supplier"]
    assert len(world.sim.data.organisations) == 1
    for entity in ("customer", "supplier"):
        [link] = await world.store.get_links("test", entity)
        assert link.crm_id == company


async def test_the_second_role_waits_for_the_first_and_says_why(world: World) -> None:
    company = world.company(ATLAS, BOTH)

    waiting = await world.cycle("supplier")

    assert waiting.counts["created_afas"] == 0
    [note] = [n for n in waiting.plan.notes if n.record_id == company]
    assert "customer" in note.reason
    said = "1 create waits for its customer first: a company's roles are one record"
    health = await entity_health(world.store, "test", "supplier")
    assert health.waiting_for_sibling == {"customer": 1}
    assert said in health_as_text([health])
    planned = await run_cycle(world.conn, "supplier", dry_run=True)
    assert said in plan_as_text(planned.plan, "test")
    assert plan_as_dict(planned.plan, "test")["waiting_for_sibling"] == {"customer": 1}
    await world.cycle("customer")
    created = await world.cycle("supplier")  # the record waited: it is pulled again
    assert created.counts["created_afas"] == 1
    health = await entity_health(world.store, "test", "supplier")
    assert health.waiting_for_sibling == {}
    assert "waits for" not in health_as_text([health])
    organisations = world.organisations_of(company)
    assert organisations["customer"] == organisations["supplier"]


async def test_a_supplier_that_becomes_a_customer_joins_its_organisation(world: World) -> None:
    company = world.company(ATLAS, "supplier")
    await world.cycle("supplier")
    world.hs.sim.edit(company, {"afas_roles": BOTH})

    report = await world.cycle("customer")  # its first sync: creates as it lists

    assert report.counts["created_afas"] == 1
    organisations = world.organisations_of(company)
    assert organisations["customer"] == organisations["supplier"]
    assert len(world.sim.data.organisations) == 1


async def test_an_edit_made_meanwhile_goes_to_the_shared_organisation(world: World) -> None:
    company = world.company(ATLAS, "customer")
    await world.cycle("customer")
    world.hs.sim.edit(company, {"afas_roles": BOTH, "city": "Utrecht"})

    await world.cycle("supplier")  # before the customer lane saw the new city

    [org] = world.sim.data.organisations.values()
    assert org.address["Rs"] == "Utrecht"
    assert (await world.cycle("customer")).counts["updated_crm"] == 0


def afas_native(world: World, entity: str, fields: Mapping[str, Value]) -> dict[str, object]:
    return world.mappings[entity].to_native(Side.AFAS, fields)


async def test_a_link_through_the_other_role_gets_its_keys_on_both_sides(world: World) -> None:
    world.rules = SyncRules(write_correlation_keys=True)
    creditor = world.sim.data.seed("supplier", afas_native(world, "supplier", ATLAS))
    await world.cycle("supplier")  # the company is made for the creditor
    [supplier_link] = await world.store.get_links("test", "supplier")
    company = supplier_link.crm_id
    organisation = world.sim.data.relations["supplier"][creditor].organisation
    # Someone makes the organisation a debtor too, in AFAS.
    native = {**afas_native(world, "customer", ATLAS), "OrganisationId": organisation}
    debtor = world.sim.data.seed("customer", native)

    report = await world.cycle("customer")

    assert report.counts["adopted"] == 1
    properties = world.hs.sim.company(company).properties
    assert properties["afas_debtor_number"] == debtor
    assert properties["afas_creditor_number"] == creditor
    assert world.sim.data.organisations[organisation].fields["XpRe"] == company


async def test_a_relation_added_in_afas_to_a_linked_organisation_joins_its_company(
    world: World,
) -> None:
    company = world.company(ATLAS, "customer")
    world.company(BRUGES, "supplier")
    await world.cycle("supplier")  # the next supplier cycle lists changes only
    await world.cycle("customer")  # the debtor's organisation carries the company's id
    [link] = await world.store.get_links("test", "customer")
    organisation = world.sim.data.relations["customer"][link.afas_id].organisation
    native = {**afas_native(world, "supplier", ATLAS), "OrganisationId": organisation}
    creditor = world.sim.data.seed("supplier", native)

    report = await world.cycle("supplier")

    assert report.counts["adopted"] == 1
    assert report.counts["quarantined"] == 0
    links = await world.store.get_links("test", "supplier")
    assert (company, creditor) in {(link.crm_id, link.afas_id) for link in links}
    assert world.hs.sim.company(company).properties["afas_roles"] == BOTH


async def test_an_organisation_with_both_roles_is_one_company(world: World) -> None:
    debtor = world.sim.data.seed("customer", afas_native(world, "customer", BRUGES))
    organisation = world.sim.data.relations["customer"][debtor].organisation
    native = {**afas_native(world, "supplier", BRUGES), "OrganisationId": organisation}
    creditor = world.sim.data.seed("supplier", native)

    await world.both_at_once()  # a first sync of both lanes at once
    await world.both_at_once()

    [company] = world.hs.sim.portal.live()
    assert company.properties["afas_roles"] == BOTH
    customer = await world.store.get_links("test", "customer")
    supplier = await world.store.get_links("test", "supplier")
    assert [(link.crm_id, link.afas_id) for link in customer] == [(company.id, debtor)]
    assert [(link.crm_id, link.afas_id) for link in supplier] == [(company.id, creditor)]
