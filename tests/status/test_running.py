"""Whole listings under way, kept in memory for the status page and passed on to
whoever else watches (a terminal's bars)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from syncd.records import Side
from syncd.status.running import Listing, RunningListings

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


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


def test_a_listing_shows_while_it_runs_and_whoever_else_watches_is_told_too() -> None:
    bars = Bars()
    running = RunningListings(also=bars, clock=lambda: T0)

    crm = running.listing("demo/customer", Side.CRM, 100)
    afas = running.listing("demo/customer", Side.AFAS, None)
    crm.listed(40)
    afas.listed(7)

    assert running.now() == [
        Listing("demo/customer", Side.CRM, 100, T0, listed=40),
        Listing("demo/customer", Side.AFAS, None, T0, listed=7),
    ]
    crm.done()
    assert [one.side for one in running.now()] == [Side.AFAS]
    afas.done()
    assert running.now() == []
    [(lane, side, expected, told), _] = bars.told
    assert (lane, side, expected, told.counts, told.finished) == (
        "demo/customer",
        Side.CRM,
        100,
        [40],
        True,
    )


def test_time_left_at_the_pace_so_far_and_only_when_the_total_is_known() -> None:
    later = T0 + timedelta(minutes=4)
    quarter = Listing("l", Side.CRM, expected=400, started=T0, listed=100)
    assert quarter.share() == 0.25
    assert quarter.time_left(later) == timedelta(minutes=12)
    assert Listing("l", Side.CRM, None, T0, listed=100).time_left(later) is None
    assert Listing("l", Side.CRM, 400, T0, listed=0).time_left(later) is None  # no pace yet
    beyond = Listing("l", Side.CRM, expected=400, started=T0, listed=450)
    assert beyond.share() == 1.0  # more than were linked
    assert beyond.time_left(later) is None
