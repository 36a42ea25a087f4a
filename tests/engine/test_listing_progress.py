"""A whole listing (first sync, full sweep) tells its progress as pages come; a cycle of
changes tells nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from syncd.engine.cycle import run_cycle
from syncd.engine.progress import NO_PROGRESS
from syncd.engine.review import match_plan
from syncd.errors import TransientError
from syncd.gateways.memory import MemoryGateway
from syncd.records import Side
from syncd.state.store import StateStore
from tests.engine.test_cycle import AFAS, CRM, ENTITY, MAPPING, RULES, World


@dataclass
class Watched:
    lane: str
    side: Side
    expected: int | None
    counts: list[int] = field(default_factory=list)
    finished: bool = False

    def listed(self, count: int) -> None:
        self.counts.append(count)

    def done(self) -> None:
        self.finished = True


@dataclass
class Recorder:
    """What a progress bar would be told."""

    listings: list[Watched] = field(default_factory=list)

    def listing(self, lane: str, side: Side, expected: int | None) -> Watched:
        self.listings.append(Watched(lane, side, expected))
        return self.listings[-1]


async def cycle(world: World, recorder: Recorder, *, full: bool = False) -> None:
    await run_cycle(world.conn, ENTITY, full=full, progress=recorder)


async def test_whole_listings_tell_their_counts_and_a_sweep_its_expected_total(
    store: StateStore,
) -> None:
    world = World(store, RULES, MAPPING)
    for n in range(5):
        world.put(CRM, name=f"Company {n}")  # pages of two: three pages
    world.put(AFAS, name="Only in AFAS")  # so that each side has a cursor after the first
    first = Recorder()

    await cycle(world, first)

    assert {(w.lane, w.side) for w in first.listings} == {(f"test/{ENTITY}", s) for s in Side}
    (crm,) = (w for w in first.listings if w.side is CRM)
    assert crm.expected is None  # the memory gateway counts nothing
    assert crm.counts == [2, 4, 5]
    assert all(w.finished for w in first.listings)

    changes = Recorder()
    await cycle(world, changes)
    assert changes.listings == []  # quick: no bar

    sweep = Recorder()
    await cycle(world, sweep, full=True)
    assert [w.expected for w in sweep.listings] == [6, 6]  # as many as are linked
    assert all(w.counts[-1] == 6 and w.finished for w in sweep.listings)


async def test_a_match_plan_tells_how_far_each_side_is_listed(store: StateStore) -> None:
    world = World(store, RULES, MAPPING)
    for n in range(3):
        world.put(CRM, name=f"Company {n}")
    recorder = Recorder()

    await match_plan(world.conn, ENTITY, recorder)

    assert [(w.side, w.counts, w.finished) for w in recorder.listings] == [
        (CRM, [2, 3], True),
        (AFAS, [], True),
    ]


class Counting(MemoryGateway):
    """A side that counts its records in one request, as HubSpot's search does."""

    asked = 0
    fails = False

    async def count_all(self, entity: str) -> int | None:
        self.asked += 1
        if self.fails:
            raise TransientError("429: too many searches")
        return len(self.rows(entity))


def counting_world(store: StateStore) -> tuple[World, Counting]:
    world = World(store, RULES, MAPPING)
    world.crm = counting = Counting(CRM, {ENTITY: MAPPING}, page_size=2)
    for n in range(5):
        world.put(CRM, name=f"Company {n}")
    world.put(AFAS, name="Only in AFAS")
    return world, counting


async def test_a_first_sync_expects_what_its_side_counts(store: StateStore) -> None:
    world, counting = counting_world(store)
    recorder = Recorder()

    await cycle(world, recorder)

    expected = {w.side: w.expected for w in recorder.listings}
    assert expected == {CRM: 5, AFAS: None}  # AFAS counts nothing: total unknown
    assert counting.asked == 1  # one request for the whole listing


async def test_a_match_plan_expects_what_its_side_counts(store: StateStore) -> None:
    world, counting = counting_world(store)
    recorder = Recorder()

    await match_plan(world.conn, ENTITY, recorder)

    assert [(w.side, w.expected, w.counts[-1]) for w in recorder.listings] == [
        (CRM, 5, 5),
        (AFAS, None, 1),
    ]
    assert counting.asked == 1


async def test_nothing_is_counted_when_nobody_watches(store: StateStore) -> None:
    world, counting = counting_world(store)

    await run_cycle(world.conn, ENTITY, progress=NO_PROGRESS)

    assert counting.asked == 0  # requests as before


async def test_a_failed_count_leaves_the_total_unknown_not_the_cycle_failed(
    store: StateStore,
) -> None:
    world, counting = counting_world(store)
    counting.fails = True
    recorder = Recorder()

    report = await run_cycle(world.conn, ENTITY, progress=recorder)

    assert report.clean
    assert [w.expected for w in recorder.listings] == [None, None]
