"""Long work told to the state store: while it runs, throttled, kept alive, never failing
what it watches, and shown on the status page of any process sharing the store."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from syncd.engine.cycle import run_cycle
from syncd.errors import StateError
from syncd.records import Side
from syncd.state.rows import RunningWork, WorkKind
from syncd.state.store import StateStore
from syncd.status.running import STALE, Here, StoredProgress
from syncd.status.server import Pictures, StatusSource, render_page
from tests.engine.test_cycle import AFAS, CRM, ENTITY, MAPPING, RULES, World

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
LANE = "demo/customer"
HERE = Here("replica-a", 101)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Told:
    counts: list[int] = field(default_factory=list)
    finished: bool = False

    def listed(self, count: int) -> None:
        self.counts.append(count)

    def done(self) -> None:
        self.finished = True


@dataclass
class Bars:
    told: list[tuple[str, Side, int | None, Told]] = field(default_factory=list)

    def listing(self, lane: str, side: Side, expected: int | None) -> Told:
        self.told.append((lane, side, expected, Told()))
        return self.told[-1][3]


@dataclass
class Writes:
    """A store that keeps what it is asked to write, in order; or fails every write."""

    fail: bool = False
    asked: list[tuple[str, object]] = field(default_factory=list)

    async def tell_work(self, work: RunningWork) -> None:
        self._ask("tell", work)

    async def end_work(self, key: str) -> None:
        self._ask("end", key)

    async def forget_stale_work(self, heard_before: datetime) -> None:
        self._ask("forget", heard_before)

    def _ask(self, what: str, value: object) -> None:
        if self.fail:
            raise StateError("cannot save running work (sqlite:///state.db): disk I/O error")
        self.asked.append((what, value))

    def counts(self) -> list[int]:
        return [w.listed for what, w in self.asked if isinstance(w, RunningWork)]


async def test_a_listing_is_in_the_store_while_it_runs_and_the_bars_are_told_too(
    store: StateStore,
) -> None:
    bars, clock = Bars(), Clock()
    async with StoredProgress(store, also=bars, clock=clock, here=HERE) as progress:
        crm = progress.listing(LANE, Side.CRM, 100)
        afas = progress.listing(LANE, Side.AFAS, None)
        clock.advance(3)
        crm.listed(40)
        afas.listed(7)
        await progress.written()

        running = await store.running_work(heard_since=T0)
        assert [(w.side, w.kind, w.listed, w.expected, w.host, w.pid) for w in running] == [
            (Side.AFAS, WorkKind.LISTING, 7, None, "replica-a", 101),
            (Side.CRM, WorkKind.LISTING, 40, 100, "replica-a", 101),
        ]
        assert {w.started for w in running} == {T0}
        crm.done()
        await progress.written()
        assert [w.side for w in await store.running_work(T0)] == [Side.AFAS]
    assert await store.running_work(T0) == []  # what still ran ends with the reporter
    [(lane, side, expected, told), _] = bars.told
    assert (lane, side, expected, told.counts, told.finished) == (LANE, CRM, 100, [40], True)


async def test_a_listing_that_ends_before_it_was_written_writes_nothing() -> None:
    """An idle cycle's listing: one request, ended before the writer ran."""
    writes = Writes()
    async with StoredProgress(writes, clock=Clock(), here=HERE) as progress:
        progress.listing(LANE, Side.CRM, None).done()
        written = progress.listing(LANE, Side.AFAS, None)
        await progress.written()
        written.done()
    assert [what for what, _ in writes.asked] == ["forget", "tell", "end"]  # the AFAS one


async def test_writes_are_throttled_to_one_every_couple_of_seconds_per_listing() -> None:
    writes, clock = Writes(), Clock()
    async with StoredProgress(writes, clock=clock, every=timedelta(seconds=2)) as progress:
        crm = progress.listing(LANE, Side.CRM, None)
        afas = progress.listing(LANE, Side.AFAS, None)
        await progress.written()
        for n in range(1, 11):  # a page every half second, both sides
            clock.advance(0.5)
            crm.listed(n * 100)
            afas.listed(n)
            await progress.written()
        crm.done()
        await progress.written()
        told = [(w.side, w.listed) for what, w in writes.asked if isinstance(w, RunningWork)]
        # at the start, then at 2 s and 4 s; the last count is not written: it ends
        assert [n for side, n in told if side is Side.CRM] == [0, 400, 800]
        assert [n for side, n in told if side is Side.AFAS] == [0, 4, 8]
        assert writes.asked[-1][0] == "end"
        forgets = [what for what, _ in writes.asked if what == "forget"]
        assert len(forgets) == 2  # each listing, as it begins, clears what died before it


async def test_a_listing_waiting_long_for_a_page_still_says_it_runs(store: StateStore) -> None:
    clock = Clock()
    beat = timedelta(milliseconds=5)
    async with StoredProgress(store, clock=clock, beat=beat) as progress:
        listing = progress.listing(LANE, Side.AFAS, None)
        listing.listed(500)
        clock.advance(45)  # no page for a while
        for _ in range(1000):
            running = await store.running_work(T0)
            if running and running[0].heard == clock.now:
                break
            await asyncio.sleep(0.005)
        # alive, with the count the throttle held back
        assert [(w.listed, w.heard) for w in running] == [(500, clock.now)]
        listing.done()


async def test_failed_progress_writes_are_logged_once_and_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    writes, bars = Writes(fail=True), Bars()
    caplog.set_level(logging.DEBUG, "syncd.status.running")
    async with StoredProgress(writes, also=bars, every=timedelta(0)) as progress:
        listing = progress.listing(LANE, Side.CRM, None)
        listing.listed(10)
        await progress.written()
        listing.listed(20)
        await progress.written()
        writes.fail = False
        listing.listed(30)
        await progress.written()

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "syncd: progress not saved, skipped: cannot save running work "
        "(sqlite:///state.db): disk I/O error"
    ]
    assert writes.counts() == [30]  # written again once the store answers
    assert bars.told[0][3].counts == [10, 20, 30]


async def test_a_store_that_fails_progress_never_fails_the_cycle(store: StateStore) -> None:
    world = World(store, RULES, MAPPING)
    world.put(CRM, name="Atlas B.V.")
    world.put(AFAS, name="Borg N.V.")

    async with StoredProgress(Writes(fail=True), every=timedelta(0)) as progress:
        report = await run_cycle(world.conn, ENTITY, progress=progress)

    assert report.clean
    assert await store.link_count("test", ENTITY) == 2


async def test_the_page_shows_the_work_of_every_process_sharing_the_store(
    store: StateStore,
) -> None:
    """The daemon's replica, a ``syncd match --plan`` on a laptop, and a process that
    died: each tells the store; the page reads it, leaving out the dead one."""
    clock = Clock()
    clock.advance(STALE.total_seconds() * 2)
    dead = RunningWork("dead", LANE, Side.CRM, WorkKind.LISTING, T0, T0, "old-box", 9, 70)
    await store.tell_work(dead)
    plan = StoredProgress(store, kind=WorkKind.MATCH_PLAN, clock=clock, here=Here("laptop", 7))
    sweep = StoredProgress(store, clock=clock, here=HERE)
    async with plan, sweep:
        planned = plan.listing("demo/supplier", Side.AFAS, None)
        swept = sweep.listing(LANE, Side.CRM, 3000)
        clock.advance(600)
        planned.listed(250)
        swept.listed(1000)
        await plan.written()
        await sweep.written()

        source = StatusSource(store, [("demo", "customer")], clock=clock)
        running = await source.running()
        text = render_page([], [], [], Pictures(running, now=clock.now))
        kept = {w.key for w in await store.running_work(heard_since=T0)}

    assert len(running) == 2
    assert "dead" not in kept  # not shown, and removed as the others began
    assert (
        "<td>demo/customer</td><td>crm</td><td>listing</td><td class='num'>1,000 of about "
        "3,000</td><td><progress max='100' value='33'></progress> 33%</td>"
        "<td>100 a minute, about 20 min left</td><td>replica-a, pid 101</td>"
    ) in text
    assert (
        "<td>demo/supplier</td><td>afas</td><td>match plan</td><td class='num'>250</td>"
    ) in text
    assert "<td>total unknown; 25 a minute</td><td>laptop, pid 7</td>" in text
    assert "old-box" not in text


async def test_what_ends_while_a_write_is_under_way_is_written_before_the_exit() -> None:
    class Slow(Writes):
        def __init__(self) -> None:
            super().__init__()
            self.writing, self.go_on = asyncio.Event(), asyncio.Event()

        async def tell_work(self, work: RunningWork) -> None:
            self.writing.set()
            await self.go_on.wait()
            await super().tell_work(work)

    writes = Slow()
    progress = StoredProgress(writes)
    await progress.__aenter__()
    progress.listing(LANE, Side.CRM, None)
    await writes.writing.wait()  # the writer is in the start's write

    closing = asyncio.ensure_future(progress.__aexit__(None, None, None))
    await asyncio.sleep(0)  # the exit ends the listing meanwhile
    writes.go_on.set()
    await closing

    assert [what for what, _ in writes.asked] == ["forget", "tell", "end"]
