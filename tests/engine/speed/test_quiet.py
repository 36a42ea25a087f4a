"""Quiet polls (syncd.engine.speed.quiet): an idle lane's poll lists both sides' changes
and, when there are none and nothing stands, reads and writes nothing in the store; any
change, anything standing, and anything that happened elsewhere makes it a whole cycle."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from syncd.engine.cycle import Connection
from syncd.engine.speed.fast import FAST
from syncd.engine.speed.plain import PLAIN
from syncd.engine.speed.quiet import QuietLanes, nothing_listed
from syncd.engine.speed.seam import SpeedStrategy
from syncd.errors import RecordError
from syncd.gateways.http.pages_ahead import HeadStart
from syncd.records import Cursor, Page, Record
from syncd.state.store import StateStore
from tests.engine.test_cycle import AFAS, CRM, ENTITY, MAPPING, RULES, World


class QuietWorld(World):
    """A world whose connection remembers its lanes between cycles, as the daemon's do."""

    def __init__(self, store: StateStore) -> None:
        super().__init__(store, RULES, MAPPING)
        self.quiet = QuietLanes()
        self.speed: SpeedStrategy = FAST
        self.crm_id = ""

    @property
    def conn(self) -> Connection:
        return dataclasses.replace(super().conn, quiet=self.quiet, speed=self.speed)

    def listings(self) -> int:
        return sum(g.calls["changed_since"] for g in (self.crm, self.afas))


@pytest.fixture
async def idle(store: StateStore) -> QuietWorld:
    """A linked pair, and one whole cycle since that found nothing."""
    world = QuietWorld(store)
    world.crm_id = world.put(CRM, name="Atlas", kvk="27654321", city="Delft")
    for _ in range(3):  # the last past the overlap window (5 minutes) after the create
        world.clock.now += timedelta(minutes=6)
        report = await world.cycle()
    assert report.plan.writes == 0
    return world


async def test_an_idle_poll_lists_both_sides_and_touches_nothing_in_the_store(
    idle: QuietWorld,
) -> None:
    events = await idle.store.events("test")
    cursors = await idle.store.cursors("test", ENTITY)
    listings = idle.listings()

    idle.clock.now += timedelta(minutes=1)
    report = await idle.cycle()

    assert report.quiet
    assert report.applied
    assert report.plan.writes == 0
    assert idle.listings() == listings + 2  # one listing of changes per side, as always
    assert await idle.store.events("test") == events  # no cycle_started or _finished
    assert await idle.store.cursors("test", ENTITY) == cursors


async def test_an_edit_after_quiet_polls_is_synced_by_a_whole_cycle(idle: QuietWorld) -> None:
    idle.clock.now += timedelta(minutes=1)
    assert (await idle.cycle()).quiet
    afas_id = await idle.partner(CRM, idle.crm_id)
    idle.edit(CRM, idle.crm_id, city="Zeist")
    listings = idle.listings()

    idle.clock.now += timedelta(minutes=1)
    report = await idle.cycle()

    assert not report.quiet
    assert report.counts["updated_afas"] == 1
    assert idle.fields(AFAS, afas_id)["city"] == "Zeist"
    assert idle.listings() == listings + 2  # the pages a quiet poll read are not read twice


async def test_something_elsewhere_makes_the_next_poll_a_whole_cycle(idle: QuietWorld) -> None:
    idle.quiet.disturb()  # the daemon saw an operator's event of the connection

    report = await idle.cycle()

    assert not report.quiet
    assert (await idle.store.events("test"))[-1].name == "cycle_finished"
    assert (await idle.cycle()).quiet  # found nothing: quiet again


def test_a_cycle_disturbed_while_it_ran_is_not_remembered() -> None:
    lanes = QuietLanes()
    began = lanes.generation
    lanes.disturb()  # an event written while the cycle ran
    lanes.remember(ENTITY, {CRM: CURSOR, AFAS: CURSOR}, since=began)
    assert lanes.start(ENTITY) is None
    lanes.remember(ENTITY, {CRM: CURSOR, AFAS: CURSOR}, since=lanes.generation)
    assert lanes.start(ENTITY) is not None


async def test_a_record_in_quarantine_keeps_polls_whole_until_it_is_released(
    idle: QuietWorld,
) -> None:
    idle.put(CRM, name="Refused")
    idle.afas.fail_next("create", RecordError("Naam is te lang", field="name"))
    idle.clock.now += timedelta(minutes=1)
    assert (await idle.cycle()).counts["quarantined"] == 1

    # Nothing changes, but the retry time will come: no poll may skip it.
    assert not (await idle.cycle()).quiet
    assert len(await idle.store.quarantined("test", ENTITY)) == 1
    idle.clock.now += timedelta(hours=1)
    released = await idle.cycle()
    assert not released.quiet
    assert released.counts["created_afas"] == 1
    assert not (await idle.cycle()).quiet  # the release stood at its start
    idle.clock.now += timedelta(minutes=6)  # past the overlap window of the new record
    await idle.cycle()
    assert (await idle.cycle()).quiet


async def test_the_plain_strategy_never_polls_quietly(idle: QuietWorld) -> None:
    idle.speed = PLAIN
    for _ in range(2):
        assert not (await idle.cycle()).quiet


async def test_a_sweep_and_a_dry_run_are_never_quiet(idle: QuietWorld) -> None:
    assert not (await idle.cycle(full=True)).quiet
    assert not (await idle.cycle(dry_run=True)).quiet
    assert (await idle.cycle()).quiet


CURSOR = Cursor(datetime(2026, 11, 1, tzinfo=UTC), "1")


async def _pages(*pages: Page) -> AsyncIterator[Page]:
    for page in pages:
        yield page


async def test_a_listing_that_brings_something_is_handed_back_whole() -> None:
    record = Record("7", {"name": "Atlas"})
    pages = {
        CRM: HeadStart(_pages(Page(), Page([record]), Page([Record("8", {})]))),
        AFAS: HeadStart(_pages()),
    }

    seen = {CRM: lambda r: r.id == "8", AFAS: lambda r: True}
    assert not await nothing_listed(pages, seen)  # type: ignore[arg-type]

    read = [page async for page in pages[CRM]]
    assert [[r.id for r in page.records] for page in read] == [[], ["7"], ["8"]]


async def test_an_entity_with_no_records_yet_polls_quietly(store: StateStore) -> None:
    """No suppliers on either side: each poll lists both sides whole (there is no cursor
    to list changes since), and finds nothing."""
    world = QuietWorld(store)
    assert not (await world.cycle()).quiet
    assert (await world.cycle()).quiet
    world.put(CRM, name="Atlas", kvk="27654321", city="Delft")
    report = await world.cycle()
    assert not report.quiet
    assert report.counts["created_afas"] == 1
