"""Creates in doubt after a crash or a lost answer: looked up together, not resent while
their side may still save them, and shown by ``syncd plan``, ``syncd status`` and the
status page (how many, since when, when they are sent again)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syncd.cli import cycles
from syncd.engine.apply.applier import Applier
from syncd.engine.recovery import settle_pending
from syncd.errors import OutcomeUnknownError
from syncd.gateways.memory import MemoryGateway
from syncd.records import Record, Side, Value
from syncd.state.store import StateStore
from syncd.status.server import StatusSource, render_page
from syncd.status.views import entity_health, health_as_text
from tests.engine.test_create_in_doubt import SavesLate
from tests.engine.test_cycle import AFAS, CRM, ENTITY, MAPPING, RULES, World

WINDOW = timedelta(minutes=15)


def _late(world: World, window: timedelta = WINDOW) -> SavesLate:
    late = SavesLate(world.afas, window)
    world.afas = late  # type: ignore[assignment]
    return late


def _put(world: World, count: int) -> list[str]:
    return [world.put(CRM, name=f"Atlas {n}", kvk=f"2765{n:04d}") for n in range(count)]


async def test_creates_in_doubt_are_looked_up_in_one_request_not_one_each(
    store: StateStore,
) -> None:
    world = World(store, RULES, MAPPING)
    _put(world, 12)
    late = _late(world)
    first = await world.cycle()
    assert first.counts["outcome_unknown"] == 12

    before = late.inner.calls["find_by_correlation"]
    second = await world.cycle()
    assert late.inner.calls["find_by_correlation"] - before == 1  # not 12
    assert second.counts["creates_in_doubt"] == 12  # still waiting: not an idle cycle
    assert not second.clean  # `syncd once` says so in its exit status
    assert len(late.unsaved) == 12  # none sent again


class AnswersLate(SavesLate):
    """A side whose create request is held ``seconds`` before the caller gives up: the
    cycle that sent it ends that much after its journal row."""

    def __init__(self, world: World, window: timedelta, seconds: float) -> None:
        super().__init__(world.afas, window)
        self.seconds = seconds

    async def create(self, entity: str, fields: Mapping[str, Value], correlation: str) -> Record:
        await asyncio.sleep(self.seconds)
        return await super().create(entity, fields, correlation)


async def test_the_wait_runs_from_the_end_of_the_cycle_that_sent_the_create(
    store: StateStore,
) -> None:
    """A request may reach the side as late as its cycle's end (it waited its turn, or
    for an answer): the side's window runs from there, not from the journal row."""
    world = World(store, RULES, MAPPING)
    world.put(CRM, name="Atlas", kvk="27654321")
    window = timedelta(seconds=2)
    late = AnswersLate(world, window, seconds=0.5)
    world.afas = late  # type: ignore[assignment]
    await world.cycle()
    [entry] = await store.pending_journal("test", ENTITY)
    assert entry.created_at is not None
    ended = [e.at for e in await store.events("test", names=["cycle_finished"])][-1]
    assert ended is not None
    assert ended - entry.created_at >= timedelta(seconds=0.5)

    world.clock.now = entry.created_at + window + timedelta(seconds=0.1)
    waiting = await world.cycle()  # past the row's window, not past the cycle's
    assert not waiting.counts["created_afas"]
    assert waiting.counts["creates_in_doubt"] == 1

    world.clock.now = ended + window + timedelta(seconds=0.1)
    world.afas = late.inner
    again = await world.cycle()
    assert again.counts["created_afas"] == 1


async def _in_doubt_world(store: StateStore) -> World:
    world = World(store, RULES, MAPPING)
    _put(world, 3)
    _late(world)
    await world.cycle()
    await world.cycle()  # looked up, not found, kept waiting
    return world


async def test_status_shows_the_creates_in_doubt_and_when_they_are_sent_again(
    store: StateStore,
) -> None:
    await _in_doubt_world(store)
    entries = await store.pending_journal("test", ENTITY)
    ended = next(e.at for e in await store.events("test", names=["cycle_finished"]))
    assert ended is not None

    health = await entity_health(store, "test", ENTITY)
    [doubt] = health.in_doubt
    assert (doubt.target, doubt.count) == (AFAS, 3)
    assert doubt.since == min(e.created_at for e in entries if e.created_at)
    assert doubt.retry_at == ended + WINDOW  # the first cycle's end: they were sent in it
    text = health_as_text([health])
    assert "3 create(s) in afas in doubt since" in text
    assert f"sent again from {doubt.retry_at:%Y-%m-%d %H:%M:%S} UTC" in text
    assert health.as_dict()["in_doubt"] == [doubt.as_dict()]


async def test_plan_shows_the_creates_in_doubt(
    store: StateStore, capsys: pytest.CaptureFixture[str]
) -> None:
    world = await _in_doubt_world(store)
    report = await world.cycle(dry_run=True)
    [doubt] = report.in_doubt
    assert (doubt.target, doubt.count) == (AFAS, 3)
    assert doubt.retry_at is not None
    assert doubt.retry_at > datetime.now(UTC)

    cycles._show_plan(argparse.Namespace(json=False), report)
    assert "3 create(s) in afas in doubt since" in capsys.readouterr().out
    cycles._show_plan(argparse.Namespace(json=True), report)
    assert '"count": 3' in capsys.readouterr().out


async def test_the_status_page_shows_the_creates_in_doubt(store: StateStore) -> None:
    await _in_doubt_world(store)
    source = StatusSource(store, [("test", ENTITY)])
    page = render_page(await source.health(), [], [])
    assert "Writes in doubt" in page
    assert "test/customer: 3 create(s) in afas in doubt since" in page


async def test_a_create_whose_side_saves_nothing_late_is_not_in_doubt(
    store: StateStore,
) -> None:
    """HubSpot answers or fails: a create with no window is settled at the next cycle."""
    world = World(store, RULES, MAPPING)
    world.put(CRM, name="Atlas", kvk="27654321")
    late = _late(world, timedelta(0))
    await world.cycle()
    report = await world.cycle()
    assert not report.counts["creates_in_doubt"]
    assert len(late.unsaved) == 2  # sent again at once (and lost again)
    [doubt] = (await entity_health(store, "test", ENTITY)).in_doubt
    assert doubt.count == 1
    assert doubt.retry_at is None
    assert doubt.as_text().endswith("looked up again next cycle")


class LosesUpdates:
    """A side that answers no update (they may or may not have been saved)."""

    def __init__(self, inner: MemoryGateway) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        if name == "update_batch":
            raise AttributeError(name)
        return getattr(self.inner, name)

    async def update(
        self, entity: str, record_id: str, fields: Any, correlation: Any = None
    ) -> Any:
        raise OutcomeUnknownError("no answer within the timeout")


async def test_updates_in_doubt_are_read_again_in_one_request(store: StateStore) -> None:
    world = World(store, RULES, MAPPING)
    crm_ids = _put(world, 3)
    await world.cycle()
    for crm_id in crm_ids:
        world.edit(CRM, crm_id, city="Zeist")
    memory = world.afas
    world.afas = LosesUpdates(memory)  # type: ignore[assignment]
    assert (await world.cycle()).counts["outcome_unknown"] == 3

    gateways: dict[Side, Any] = {CRM: world.crm, AFAS: memory}
    applier = Applier(store, gateways, "test", ENTITY, {}, {}, world.clock)
    before = memory.calls["read"]
    touched = await settle_pending(store, gateways, applier)
    assert memory.calls["read"] - before == 1  # not 3
    assert len(touched) == 3
    assert not await store.pending_journal("test", ENTITY)
