"""Contact cycles with AFAS on the simulator: a person moves to another company.

The CRM is the shipped fixture in memory, AFAS the simulator seeded with the same
fixture; the customer and supplier cycles link the companies first.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from syncd.engine.cycle import Connection, CycleReport, run_cycle
from syncd.gateways.afas.gateway import AfasGateway
from syncd.gateways.base import Gateway
from syncd.gateways.fixture import load_fixture
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import KNOWN_ENTITIES, load_mappings
from syncd.policy import SyncRules
from syncd.records import Side
from syncd.sim.afas import AfasSimulator
from syncd.state.rows import Link
from syncd.state.store import StateStore, open_store
from tests.gateways.afas.helpers import gateway, served, simulator
from tests.gateways.contract.gateway_contract import SHIPPED_FIXTURE, SHIPPED_MAPPINGS

MAPPINGS = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
ANOUK, ATLAS = "anouk@korenaar.nl", "9000000105"  # Drukkerij Atlas: debtor 10005 in AFAS
SPAAK = "10006"  # Fietsenwinkel De Spaak: a blocked debtor, so linked to no company


@dataclass
class World:
    crm: MemoryGateway
    afas: AfasGateway
    sim: AfasSimulator
    store: StateStore
    overlap: timedelta = timedelta(minutes=5)  # the change listings' overlap window

    async def cycle(self, entity: str, *, full: bool = False) -> CycleReport:
        gateways: dict[Side, Gateway] = {Side.CRM: self.crm, Side.AFAS: self.afas}
        conn = Connection("test", gateways, self.store, MAPPINGS, SyncRules(), self.overlap)
        return await run_cycle(conn, entity, full=full)

    async def link_of(self, email: str) -> Link:
        crm_id = next(
            str(row["hs_object_id"]) for row in self.crm.rows("contact") if row["email"] == email
        )
        links = await self.store.links_by_ids("test", "contact", Side.CRM, [crm_id])
        return links[crm_id]

    def afas_contact(self, contact_id: str) -> dict[str, object]:
        return next(r for r in self.sim.rows("contact") if str(r["ContactId"]) == contact_id)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    crm, _ = load_fixture(SHIPPED_FIXTURE, MAPPINGS)
    sim = simulator()
    sim.seed(json.loads(SHIPPED_FIXTURE.read_text(encoding="utf-8")))
    store = await open_store(f"sqlite:///{tmp_path}/state.db")
    async with served(sim) as url:
        afas = gateway(url, MAPPINGS, page_size=3)
        synced = World(crm, afas, sim, store)
        for entity in KNOWN_ENTITIES:  # companies first, then their contacts
            await synced.cycle(entity)
        yield synced
        await afas.aclose()
    await store.close()


def _writes(report: CycleReport) -> int:
    return sum(n for key, n in report.counts.items() if key.startswith(("created", "updated")))


async def test_a_move_in_the_crm_ends_the_afas_contact_and_adds_one_at_the_new_company(
    world: World,
) -> None:
    before = await world.link_of(ANOUK)
    person = world.afas_contact(before.afas_id)["PersonId"]
    world.crm.edit("contact", before.crm_id, {"primary_company": ATLAS})

    await world.cycle("contact")

    after = await world.link_of(ANOUK)
    assert after.id == before.id
    assert after.afas_id != before.afas_id
    moved = world.afas_contact(after.afas_id)
    assert (moved["OrganisationId"], moved["PersonId"]) == ("10005", person)
    assert moved["Email"] == ANOUK
    assert not moved["Blocked"]
    assert world.afas_contact(before.afas_id)["Blocked"]  # ended, not deleted
    assert _writes(await world.cycle("contact", full=True)) == 0


@pytest.mark.parametrize("full", [False, True], ids=["incremental", "sweep"])
async def test_a_move_in_afas_follows_the_person_and_moves_the_crm_contact(
    world: World, full: bool
) -> None:
    before = await world.link_of(ANOUK)
    # a user in Profit ends Anouk's contact at De Korenaar and adds her at Atlas
    await world.afas.update("contact", before.afas_id, {"company": "10005"})

    report = await world.cycle("contact", full=full)

    after = await world.link_of(ANOUK)
    assert after.id == before.id
    assert after.afas_id != before.afas_id
    assert world.crm.row("contact", before.crm_id)["primary_company"] == ATLAS
    assert report.counts["created_crm"] == 0  # followed, not created a second time
    assert sum(row["email"] == ANOUK for row in world.crm.rows("contact")) == 1
    assert _writes(await world.cycle("contact", full=True)) == 0


async def test_a_move_in_afas_to_an_organisation_not_linked_waits_and_goes_once_it_is(
    world: World,
) -> None:
    world.overlap = timedelta(0)  # a later cycle lists Anouk again only if she changes
    before = await world.link_of(ANOUK)
    anouk_in_crm = world.crm.row("contact", before.crm_id)
    # De Spaak's debtor is blocked: its organisation is linked to no company
    await world.afas.update("contact", before.afas_id, {"company": SPAAK})
    fatima = await world.link_of("f.elamrani@vanderlinden.nl")
    world.sim.edit("contact", fatima.afas_id, {"Function": "Directeur"})  # the newest change

    await world.cycle("contact")

    held = await world.link_of(ANOUK)
    assert held.afas_id != before.afas_id  # the link follows her new contact
    assert world.crm.row("contact", before.crm_id) == anouk_in_crm  # nothing written
    assert world.crm.row("contact", fatima.crm_id)["jobtitle"] == "Directeur"  # the rest goes
    assert await world.store.quarantined("test", "contact") == []
    reasons = await world.store.waiting_reasons("test", "contact")
    assert reasons == {f"moved to AFAS organisation {SPAAK}, not linked yet": 1}

    world.sim.edit("customer", SPAAK, {"Blocked": False})  # a customer again
    await world.cycle("customer")  # created in the CRM and linked
    await world.cycle("contact")  # nothing new listed: the link frees the pair

    [spaak] = [k for k in await world.store.get_links("test", "customer") if k.afas_id == SPAAK]
    assert world.crm.row("contact", before.crm_id)["primary_company"] == spaak.crm_id
    assert sum((await world.store.waiting_reasons("test", "contact")).values()) == 0
    assert _writes(await world.cycle("contact", full=True)) == 0
