"""A search index that lags behind writes shows a record's earlier version meanwhile,
with its earlier modification time (HubSpot's search). The overlap window brings such a
version back right after syncd wrote the record: taken for a user's edit, it undid the
write (issue #20, point 0). Listed rows of such a side only say which records changed;
what the engine decides on is read by id."""

from __future__ import annotations

from syncd.gateways.memory import MemoryGateway
from syncd.state.store import StateStore
from tests.engine.test_cycle import AFAS, CRM, ENTITY, MAPPING, RULES, World


async def lagging_world(store: StateStore) -> tuple[World, str, str]:
    """A linked pair, and a CRM whose search index has caught up with it."""
    world = World(store, RULES, MAPPING)
    world.crm = MemoryGateway(CRM, {ENTITY: MAPPING}, page_size=2, search_lags=True)
    crm_id = world.put(CRM, name="Atlas", kvk="27654321", city="Delft")
    await world.cycle()
    world.crm.catch_up_search()
    return world, crm_id, await world.partner(CRM, crm_id)


async def written_to_crm(world: World, afas_id: str) -> None:
    """An AFAS user's edit, written to the CRM; the index still shows the earlier city."""
    world.edit(AFAS, afas_id, city="Zeist")
    assert (await world.cycle()).counts["updated_crm"] == 1


async def test_the_earlier_version_search_shows_does_not_undo_a_write(store: StateStore) -> None:
    world, crm_id, afas_id = await lagging_world(store)
    await written_to_crm(world, afas_id)

    after = await world.cycle()

    assert after.counts["updated_afas"] == 0
    assert world.fields(AFAS, afas_id)["city"] == "Zeist"
    assert world.fields(CRM, crm_id)["city"] == "Zeist"
    world.crm.catch_up_search()
    assert (await world.cycle()).plan.writes == 0


async def test_a_plan_is_made_on_what_the_records_hold(store: StateStore) -> None:
    """``syncd plan`` (a dry run) plans without applying pages as they come."""
    world, _, afas_id = await lagging_world(store)
    await written_to_crm(world, afas_id)

    report = await world.cycle(dry_run=True)

    assert report.plan.actions == []


async def test_a_new_record_is_created_with_what_it_holds(store: StateStore) -> None:
    world, _, _ = await lagging_world(store)
    crm_id = world.put(CRM, name="Korenaar", kvk="30145872", city="Delft")
    world.crm.catch_up_search()
    world.edit(CRM, crm_id, city="Leiden")

    assert (await world.cycle()).counts["created_afas"] == 1

    assert world.fields(AFAS, await world.partner(CRM, crm_id))["city"] == "Leiden"


async def test_only_records_changed_since_their_base_are_read_by_id(store: StateStore) -> None:
    world, _, afas_id = await lagging_world(store)
    await written_to_crm(world, afas_id)
    world.crm.catch_up_search()
    reads = world.crm.calls["read"]

    await world.cycle()  # the write comes back from search: an echo, at its base

    assert world.crm.calls["read"] == reads
