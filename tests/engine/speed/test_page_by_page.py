"""An incremental cycle applies each page of changes as it comes, but what a guard counts
waits for the whole cycle's plan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime

import pytest

from syncd.engine import guards
from syncd.engine.actions import Plan
from syncd.engine.plan import PlanInput, make_plan
from syncd.engine.speed.page_by_page import SettleAgreeingPairs
from syncd.engine.stages import plan as plan_stage
from syncd.errors import AuthError
from syncd.gateways.base import BatchOutcome
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import EntityMapping
from syncd.policy import Guards, SyncRules
from syncd.records import Page, Record, Side, Value
from syncd.state.rows import Link
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


# --- a sweep lets go of the pairs that agree --------------------------------------------------


class Listing:
    """What a sweep's settling sees of its cycle: the links, both listings so far, and
    which pairs agree (here: those whose records both say "same")."""

    def __init__(self, links: Sequence[Link]) -> None:
        self.links = {side: {link.id_on(side): link for link in links} for side in Side}
        self.listed: dict[Side, dict[str, Record]] = {CRM: {}, AFAS: {}}
        self.forgotten: dict[Side, list[str]] = {CRM: [], AFAS: []}

    async def links_of(self, side: Side, ids: Sequence[str]) -> dict[str, Link]:
        return {i: self.links[side][i] for i in ids if i in self.links[side]}

    def listed_record(self, side: Side, record_id: str) -> Record | None:
        return self.listed[side].get(record_id)

    async def agreement(self) -> Callable[[Link, Record, Record], bool]:
        return lambda link, crm, afas: crm.fields["city"] == afas.fields["city"] == "same"

    def forget_listed(self, side: Side, ids: Sequence[str]) -> None:
        self.forgotten[side].extend(ids)
        for record_id in ids:
            del self.listed[side][record_id]

    async def page(self, sweep: SettleAgreeingPairs, side: Side, *records: tuple[str, str]) -> None:
        page = [Record(record_id, {"city": city}) for record_id, city in records]
        self.listed[side].update((r.id, r) for r in page)  # as the listing keeps them
        sweep.on_page(side, Page(page))
        await sweep.wait_for_pages()


async def test_a_sweep_settles_a_pair_that_agrees_when_its_second_record_is_listed() -> None:
    gone = datetime(2026, 1, 1, tzinfo=UTC)
    links = [
        Link("test", ENTITY, "c1", "a1", id=1),
        Link("test", ENTITY, "c2", "a2", id=2),
        Link("test", ENTITY, "c3", "a3", id=3),
        Link("test", ENTITY, "c4", "a4", id=4, detached_at=gone),
    ]
    listing = Listing(links)
    sweep = SettleAgreeingPairs(listing)

    await listing.page(sweep, CRM, ("c1", "same"), ("c2", "same"), ("c4", "same"), ("c9", "same"))
    assert sweep.handled == set()  # no partner listed yet: nothing to compare

    await listing.page(sweep, AFAS, ("a1", "same"), ("a2", "other"), ("a4", "same"))
    assert sweep.handled == {1}  # c2/a2 differ, c4/a4 is a tombstone, c9 has no link
    assert listing.forgotten == {CRM: ["c1"], AFAS: ["a1"]}
    assert set(listing.listed[CRM]) == {"c2", "c4", "c9"}  # left to the cycle's plan

    await listing.page(sweep, AFAS, ("a3", "same"))
    await listing.page(sweep, CRM, ("c3", "same"), ("c1", "same"))  # c1 again: settled once
    assert sweep.handled == {1, 3}
    assert listing.forgotten == {CRM: ["c1", "c3"], AFAS: ["a1", "a3"]}


async def test_a_sweep_still_plans_what_changed_or_went_and_the_pairs_that_agree_need_nothing(
    world: Linked, monkeypatch: pytest.MonkeyPatch
) -> None:
    (changed_crm, changed_afas), (_, gone_afas) = world.pairs[:2]
    world.edit(CRM, changed_crm, city="Zwolle")
    world.afas.remove(ENTITY, gone_afas)
    planned: list[int] = []

    def counting(inputs: PlanInput) -> Plan:
        planned.append(len(inputs.pairs))
        return make_plan(inputs)

    monkeypatch.setattr(plan_stage, "make_plan", counting)

    report = await world.cycle(full=True)

    # the pairs that agree were let go as they were listed: only the two others planned
    assert planned
    assert max(planned) == 2

    assert report.applied
    assert world.fields(AFAS, changed_afas)["city"] == "Zwolle"
    assert report.counts["updated_afas"] == 1
    assert report.counts["deactivated"] + report.counts["unlinked"] == 1  # as the rules say
    assert len(report.plan.actions) == 2  # the other 18 pairs agree: nothing planned


async def test_a_conflicted_pair_listed_again_unchanged_is_neither_read_nor_planned(
    world: Linked,
) -> None:
    crm_id, afas_id = world.pairs[0]
    world.edit(CRM, crm_id, city="Utrecht")
    world.edit(AFAS, afas_id, city="Gouda")
    opened = await world.cycle()
    assert opened.counts["conflicts"] == 1
    reads = world.crm.calls["read"] + world.afas.calls["read"]
    world.log.clear()

    again = await world.cycle()  # the overlap window brings both records again

    assert {("page", CRM), ("page", AFAS)} <= set(world.log)
    assert world.crm.calls["read"] + world.afas.calls["read"] == reads
    assert not again.plan.actions
    [conflict] = await world.store.conflicts("test", ENTITY)  # still open, as it was
    assert (conflict.crm, conflict.afas) == ("Utrecht", "Gouda")

    world.edit(AFAS, afas_id, city="Utrecht")  # AFAS gives in: a change, planned again
    settled = await world.cycle()

    assert settled.applied
    assert await world.store.conflicts("test", ENTITY) == []


async def test_a_pair_whose_record_is_gone_takes_its_open_conflict_with_it(world: Linked) -> None:
    crm_id, afas_id = world.pairs[0]
    world.edit(CRM, crm_id, city="Utrecht")
    world.edit(AFAS, afas_id, city="Gouda")
    assert (await world.cycle()).counts["conflicts"] == 1
    world.afas.remove(ENTITY, afas_id)

    report = await world.cycle(full=True)

    assert report.counts["deactivated"] + report.counts["unlinked"] == 1
    assert await world.store.conflicts("test", ENTITY) == []  # nothing left to decide
    assert "conflicts" not in report.counts
