"""Whole cycles of the engine with HubSpot (the simulator) on the CRM side.

The AFAS side is the in-memory gateway: these tests are about what HubSpot's search lag,
batches and archiving do to a cycle, not about AFAS.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from syncd.engine.cycle import Connection, CycleReport, run_cycle
from syncd.gateways.base import BatchGateway
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import KNOWN_ENTITIES, EntityMapping, load_mappings
from syncd.policy import Guards, SyncRules
from syncd.records import Side
from syncd.sim.hubspot import SimConfig
from syncd.state.store import StateStore, open_store
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS
from tests.gateways.hubspot.harness import HubSpotHarness, harness_for

ENTITY = "customer"
LAG, SETTLE = 0.5, 0.6


@dataclass
class World:
    hs: HubSpotHarness
    afas: MemoryGateway
    store: StateStore
    mappings: dict[str, EntityMapping]

    @property
    def conn(self) -> Connection:
        return Connection(
            "test",
            {Side.CRM: self.hs.hub, Side.AFAS: self.afas},
            self.store,
            self.mappings,
            SyncRules(guards=Guards(min_records_for_share=1000)),
        )

    async def cycle(self) -> CycleReport:
        return await run_cycle(self.conn, ENTITY)

    def afas_rows(self) -> list[dict[str, object]]:
        return self.afas.rows(ENTITY)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    mappings = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
    store = await open_store(f"sqlite:///{tmp_path}/state.db")
    config = SimConfig(search_lag=LAG)
    try:
        async with harness_for(mappings, config=config, settle=SETTLE, page_size=50) as hs:
            yield World(hs, MemoryGateway(Side.AFAS, mappings), store, mappings)
    finally:
        await store.close()


async def settle() -> None:
    await asyncio.sleep(SETTLE + 0.1)


async def test_the_hubspot_gateway_is_a_batch_gateway(world: World) -> None:
    assert isinstance(world.hs.hub, BatchGateway)


async def test_an_edit_made_just_before_a_cycle_reaches_afas_in_a_later_cycle(
    world: World,
) -> None:
    company = await world.hs.seed(ENTITY, {"name": "Atlas B.V.", "city": "Delft"})
    await settle()
    first = await world.cycle()
    assert first.counts["created_afas"] == 1
    [debtor] = world.afas_rows()
    assert debtor["City"] == "Delft"
    assert debtor["ExternalKey"] == company  # the correlation key

    world.hs.sim.edit(company, {"city": "Leiden"})
    await world.cycle()  # the edit is not in search yet, nor settled: left for later
    assert world.afas_rows()[0]["City"] == "Delft"

    await settle()
    later = await world.cycle()
    assert later.counts["updated_afas"] == 1
    assert world.afas_rows()[0]["City"] == "Leiden"

    await settle()
    assert (await world.cycle()).counts == {}  # our own writes come back as echoes only


async def test_an_afas_edit_written_to_hubspot_is_not_undone_by_search_lag(
    world: World,
) -> None:
    """The cycle after a write to HubSpot finds the company's earlier version in search
    (the overlap window brings it back, the index has not caught up): that version is
    no edit of a HubSpot user, and the AFAS edit stays."""
    company = await world.hs.seed(ENTITY, {"name": "Atlas B.V.", "phone": "010-5500000"})
    await settle()
    await world.cycle()
    [debtor] = world.afas_rows()
    await settle()
    world.afas.edit(ENTITY, str(debtor["DebtorId"]), {"Phone": "010-5500001"})
    written = await world.cycle()
    assert written.counts["updated_crm"] == 1

    # Search still shows the company as it was before that write, with its earlier time.
    earlier = world.hs.sim.portal.search_view()[company]
    assert earlier["phone"] == "+31105500000"
    assert (
        earlier["hs_lastmodifieddate"]
        < world.hs.sim.company(company).properties["hs_lastmodifieddate"]
    )
    reads = world.hs.sim.counts["POST batch/read"]
    after = await world.cycle()
    assert after.counts["updated_afas"] == 0
    assert world.afas_rows()[0]["Phone"] == "010-5500001"
    assert world.hs.sim.counts["POST batch/read"] == reads + 1  # the company, by id

    await settle()
    assert (await world.cycle()).counts == {}
    assert world.afas_rows()[0]["Phone"] == "010-5500001"
    assert world.hs.sim.company(company).properties["phone"] == "+31105500001"


async def test_creates_in_hubspot_go_in_batches(world: World) -> None:
    for n in range(5):
        world.afas.put(ENTITY, {"DebtorName": f"Debtor {n}", "City": "Gouda"})
    report = await world.cycle()
    assert report.counts["created_crm"] == 5
    assert world.hs.sim.counts["POST batch/create"] == 1
    assert world.hs.sim.counts["POST create"] == 0
    companies = list(world.hs.sim.portal.live())
    assert sorted(c.properties["afas_roles"] for c in companies) == ["customer"] * 5
    numbers = sorted(c.properties["afas_debtor_number"] for c in companies)
    assert numbers == sorted(str(r["DebtorId"]) for r in world.afas_rows())


async def test_a_merge_in_hubspot_moves_the_link_and_blocks_nothing(world: World) -> None:
    kept = await world.hs.seed(ENTITY, {"name": "Atlas B.V.", "kvk": "27654321"})
    dropped = await world.hs.seed(ENTITY, {"name": "Atlas Groep", "kvk": "27654322"})
    lone = await world.hs.seed(ENTITY, {"name": "Korenaar", "kvk": "30145872"})
    await settle()
    await world.cycle()
    links = {k.crm_id: k.afas_id for k in await world.store.get_links("test", ENTITY)}
    assert set(links) == {kept, dropped, lone}

    # A user merges a linked company into a company without a link of its own...
    unlinked = world.hs.sim.seed({"name": "Korenaar Bakkerij"})  # no role: not synced
    survivor = world.hs.sim.merge(unlinked, lone)
    report = await run_cycle(world.conn, ENTITY, full=True)
    assert report.counts["merged"] == 1
    moved = {k.crm_id: k.afas_id for k in await world.store.get_links("test", ENTITY)}
    assert moved[survivor] == links[lone]

    # ...and two linked companies into one: nothing is deactivated, a person decides.
    world.hs.sim.merge(kept, dropped)
    report = await run_cycle(world.conn, ENTITY, full=True)
    assert report.counts["unlinked"] == 1
    assert report.counts["deactivated"] == 0
    assert all(world.afas.is_active(ENTITY, a) for a in links.values())


async def test_a_customer_that_becomes_a_supplier_stays_one_company(world: World) -> None:
    company = await world.hs.seed(ENTITY, {"name": "Atlas B.V.", "kvk": "27654321"})
    await settle()
    await run_cycle(world.conn, ENTITY)
    supplier = world.mappings["supplier"]
    creditor = world.afas.put(
        "supplier", supplier.to_native(Side.AFAS, {"name": "Atlas B.V.", "kvk": "27654321"})
    )

    searches = world.hs.sim.counts["POST search"]
    report = await run_cycle(world.conn, "supplier")

    assert report.counts["adopted"] == 1
    assert report.counts["created_crm"] == 0
    # the first supplier cycle lists every company: it finds the customer there
    assert world.hs.sim.counts["POST search"] == searches
    roles = world.hs.sim.company(company).properties["afas_roles"].split(";")
    assert sorted(roles) == ["customer", "supplier"]
    assert len(list(world.hs.sim.portal.live())) == 1  # one company, two roles
    [link] = await world.store.get_links("test", "supplier")
    assert (link.crm_id, link.afas_id) == (company, creditor)
    await settle()
    quiet = await run_cycle(world.conn, "supplier")
    assert quiet.counts["created_crm"] == 0


async def test_a_later_supplier_is_found_among_the_customers_by_a_search(world: World) -> None:
    await world.hs.seed("supplier", {"name": "Molen De Hoop", "kvk": "41234567"})
    await settle()
    await run_cycle(world.conn, "supplier")  # the first supplier cycle lists everything
    company = await world.hs.seed(ENTITY, {"name": "Korenaar", "kvk": "30145872"})
    await settle()
    await run_cycle(world.conn, ENTITY)
    supplier = world.mappings["supplier"]
    world.afas.put(
        "supplier", supplier.to_native(Side.AFAS, {"name": "Korenaar", "kvk": "30145872"})
    )
    searches = world.hs.sim.counts["POST search"]

    report = await run_cycle(world.conn, "supplier")  # changes only: no whole listing

    assert report.counts["adopted"] == 1
    assert report.counts["created_crm"] == 0
    assert world.hs.sim.counts["POST search"] > searches
    roles = world.hs.sim.company(company).properties["afas_roles"].split(";")
    assert sorted(roles) == ["customer", "supplier"]


class Crash(Exception):
    """The process dies: not a syncd error."""


async def test_an_adopted_company_whose_first_link_write_never_landed_keeps_an_edit(
    world: World,
) -> None:
    """A company adopted into its second role is linked without a base; its first cycle
    gives it the value the first link overwrites as the base before writing, as a first
    sync's link has: a user's edit of that value meanwhile is a conflict, not lost."""
    await world.hs.seed(ENTITY, {"name": "Atlas B.V.", "kvk": "27654321", "phone": "0105500000"})
    await settle()
    await run_cycle(world.conn, ENTITY)
    supplier = world.mappings["supplier"]
    creditor = world.afas.put(
        "supplier",
        supplier.to_native(
            Side.AFAS, {"name": "Atlas B.V.", "kvk": "27654321", "phone": "+31105599999"}
        ),
    )
    assert (await run_cycle(world.conn, "supplier")).counts["adopted"] == 1
    world.afas.fail_next("update", Crash("died before writing the CRM's phone to AFAS"))
    with pytest.raises(Crash):
        await run_cycle(world.conn, "supplier")  # first_link: the CRM's phone
    world.afas.clear_faults()
    world.afas.edit("supplier", creditor, supplier.to_native(Side.AFAS, {"phone": "0107777777"}))

    await run_cycle(world.conn, "supplier")

    assert [c.field for c in await world.store.conflicts("test")] == ["phone"]
    row = supplier.to_canonical(Side.AFAS, world.afas.row("supplier", creditor))
    assert row["phone"] == "+31107777777"
