"""An incremental cycle applies each page of changes as it comes, but what a guard counts
waits for the whole cycle's plan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime

import pytest

from syncd.engine import guards
from syncd.errors import AuthError
from syncd.gateways.base import BatchOutcome
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import EntityMapping
from syncd.policy import Guards, SyncRules
from syncd.records import Page, Side, Value
from syncd.state.store import StateStore
from tests.engine.test_cycle import ENTITY, MAPPING, World

CRM, AFAS = Side.CRM, Side.AFAS
PAIRS = 20

Event = tuple[str, Side]


class Paced(MemoryGateway):
    """A memory side whose change listing and reads take a while (as a network one's
    do), logging its pages and writes in one log shared by both sides."""

    def __init__(self, side: Side, mapping: EntityMapping, log: list[Event]) -> None:
        super().__init__(side, {ENTITY: mapping}, page_size=2)
        self.log = log
        self.page_seconds = 0.0
        self.read_seconds = 0.0

    async def changed_since(self, entity: str, since: datetime | None) -> AsyncIterator[Page]:
        async for page in super().changed_since(entity, since):
            self.log.append(("page", self.side))
            yield page
            await asyncio.sleep(self.page_seconds)

    async def read(self, entity: str, ids: Sequence[str]) -> Page:
        await asyncio.sleep(self.read_seconds)
        return await super().read(entity, ids)

    async def update_batch(
        self, entity: str, items: Sequence[tuple[str, Mapping[str, Value], str | None]]
    ) -> list[BatchOutcome]:
        self.log.append(("update", self.side))
        return await super().update_batch(entity, items)


class Linked(World):
    """``PAIRS`` companies on both sides (paced), linked by a first cycle."""

    crm: Paced
    afas: Paced

    def __init__(self, store: StateStore, rules: SyncRules) -> None:
        super().__init__(store, rules, MAPPING)
        self.log: list[Event] = []
        self.crm, self.afas = Paced(CRM, MAPPING, self.log), Paced(AFAS, MAPPING, self.log)
        self.pairs: list[tuple[str, str]] = []
        for n in range(PAIRS):
            fields: dict[str, Value] = {"kvk": f"{n:08}", "name": f"Company {n}", "city": "Delft"}
            self.pairs.append((self.put(CRM, **fields), self.put(AFAS, **fields)))

    async def start(self) -> None:
        report = await self.cycle()
        assert report.counts["linked"] == PAIRS
        self.log.clear()

    def city(self, side: Side, pairs: Sequence[tuple[str, str]]) -> set[Value]:
        return {self.fields(side, pair[side is AFAS])["city"] for pair in pairs}


RULES = SyncRules(guards=Guards(min_records_for_share=10, max_blank_share=0.1))


@pytest.fixture
async def world(store: StateStore) -> Linked:
    world = Linked(store, RULES)
    await world.start()
    return world


async def test_writes_begin_before_the_other_sides_changes_are_all_listed(world: Linked) -> None:
    world.crm.page_seconds = 0.02  # ten pages of changes
    for n, (crm_id, _) in enumerate(world.pairs):
        world.edit(CRM, crm_id, city=f"Zwolle {n}")

    report = await world.cycle()

    first_write = world.log.index(("update", AFAS))
    last_page = max(n for n, event in enumerate(world.log) if event == ("page", CRM))
    assert first_write < last_page
    assert report.applied
    assert report.counts["updated_afas"] == PAIRS
    for n, (_, afas_id) in enumerate(world.pairs):
        assert world.fields(AFAS, afas_id)["city"] == f"Zwolle {n}"
    again = await world.cycle()
    assert not again.plan.actions  # its own writes came back: nothing to do


async def test_a_mass_blanking_waits_whole_while_other_edits_go_through(world: Linked) -> None:
    blanked = world.pairs[:5]  # a quarter of the pairs: over the 10 % guard
    edited = world.pairs[5:10]
    for crm_id, _ in blanked:
        world.edit(CRM, crm_id, city=None)
    for crm_id, _ in edited:
        world.edit(CRM, crm_id, city="Zwolle")
    world.rules = SyncRules(blank_overwrites=True, guards=RULES.guards)

    tripped = await world.cycle()

    assert [f.guard for f in tripped.plan.findings] == ["blank_share"]
    assert not tripped.applied
    assert world.city(AFAS, blanked) == {"Delft"}  # refused as a whole
    assert world.city(AFAS, edited) == {"Zwolle"}  # not held back by it
    assert tripped.counts["updated_afas"] == len(edited)
    again = await world.cycle()  # the changes are listed again: still refused
    assert [f.guard for f in again.plan.findings] == ["blank_share"]
    assert world.city(AFAS, blanked) == {"Delft"}

    await guards.confirm(world.store, "test", ENTITY)
    confirmed = await world.cycle()

    assert confirmed.applied
    assert confirmed.counts["updated_afas"] == len(blanked)  # the edits are at the base now
    assert world.city(AFAS, blanked) == {None}


async def test_a_pair_changed_on_both_sides_is_planned_once(world: Linked) -> None:
    (crm_merged, afas_merged), (crm_clash, afas_clash) = world.pairs[:2]
    world.edit(CRM, crm_merged, city="Zwolle")
    world.edit(AFAS, afas_merged, name="Company 0 BV")
    world.edit(CRM, crm_clash, city="Utrecht")
    world.edit(AFAS, afas_clash, city="Gouda")
    # both pages' pairs are taken before either reads a partner
    world.crm.read_seconds = world.afas.read_seconds = 0.05

    report = await world.cycle()

    assert {("page", CRM), ("page", AFAS)} <= set(world.log)
    assert report.counts["updated_afas"] == report.counts["updated_crm"] == 1
    assert world.fields(CRM, crm_merged)["name"] == "Company 0 BV"
    assert world.fields(AFAS, afas_merged)["city"] == "Zwolle"
    [conflict] = await world.store.conflicts("test", ENTITY)
    assert conflict.field == "city"


async def test_a_failed_write_fails_the_cycle_and_the_changes_are_listed_again(
    world: Linked,
) -> None:
    world.crm.page_seconds = 0.02
    for crm_id, _ in world.pairs:
        world.edit(CRM, crm_id, city="Zwolle")
    cursor = await world.store.get_cursor("test", ENTITY, CRM)
    world.afas.fail_next("update", AuthError("token refused"))

    with pytest.raises(AuthError):
        await world.cycle()
    written = world.city(AFAS, world.pairs)
    await asyncio.sleep(0.2)
    assert world.city(AFAS, world.pairs) == written  # nothing of it goes on writing
    assert await world.store.get_cursor("test", ENTITY, CRM) == cursor

    world.afas.clear_faults()
    report = await world.cycle()
    assert report.applied
    assert world.city(AFAS, world.pairs) == {"Zwolle"}
