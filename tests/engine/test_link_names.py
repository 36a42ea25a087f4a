"""Links keep what people call their records: named as cycles link and change them."""

from __future__ import annotations

import dataclasses

from syncd.state.store import StateStore
from tests.engine.test_cycle import AFAS, CRM, ENTITY, MAPPING, RULES, World


async def names(world: World) -> dict[str, str | None]:
    return {link.crm_id: link.name for link in await world.store.get_links("test", ENTITY)}


async def test_a_cycle_names_the_pairs_it_links_and_creates(store: StateStore) -> None:
    world = World(store, RULES, MAPPING)
    matched = world.put(CRM, name="Atlas", kvk="27654321")
    world.put(AFAS, name="Atlas", kvk="27654321", city="Delft")
    created = world.put(CRM, name="Korenaar")
    afas_only = world.put(AFAS, name="Moerman")

    await world.cycle()

    found = await names(world)
    assert found[matched] == "Atlas"
    assert found[created] == "Korenaar"
    links = await store.get_links("test", ENTITY)
    assert next(link.name for link in links if link.afas_id == afas_only) == "Moerman"


async def test_a_renamed_record_renames_its_link(store: StateStore) -> None:
    world = World(store, RULES, MAPPING)
    crm_id = world.put(CRM, name="Atlas")
    await world.cycle()
    world.edit(CRM, crm_id, name="Atlas Installatietechniek")

    await world.cycle()

    assert (await names(world))[crm_id] == "Atlas Installatietechniek"


async def test_a_name_in_conflict_leaves_the_link_unnamed(store: StateStore) -> None:
    """Only a name both sides agree on is the pair's name; the conflict shows both."""
    world = World(store, RULES, MAPPING)
    matched = world.put(CRM, name="Atlas", kvk="27654321")
    world.put(AFAS, name="Atlas Holding", kvk="27654321")

    await world.cycle()

    assert (await names(world))[matched] is None


async def test_links_without_a_name_are_named_when_a_cycle_reads_them(store: StateStore) -> None:
    """As after the upgrade that added names: the next sweep fills them in."""
    world = World(store, RULES, MAPPING)
    crm_id = world.put(CRM, name="Atlas")
    await world.cycle()
    links = await store.get_links("test", ENTITY)
    async with store.transaction() as tx:
        await tx.save_names([dataclasses.replace(link, name=None) for link in links])
    assert (await names(world))[crm_id] is None

    await world.cycle(full=True)

    assert (await names(world))[crm_id] == "Atlas"
