"""Whole listings running in this process now (a first sync's, a full sweep's), kept in
memory for the status page.

The daemon hands its cycles a :class:`RunningListings` as their
:class:`~syncd.engine.progress.ListingProgress`; its status server, in the same process,
reads :meth:`RunningListings.now`. Nothing is stored: a listing shows while it runs, on
the replica that runs it. Whoever else watches (a terminal's bars) is told too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from syncd.clock import utc_now
from syncd.engine.progress import NO_PROGRESS, ListingProgress, SideListing
from syncd.records import Side


@dataclass(frozen=True)
class Listing:
    lane: str  # connection/entity
    side: Side
    expected: int | None  # about how many records it will list; None when unknown
    started: datetime
    listed: int = 0

    def share(self) -> float | None:
        """How far it has come, 0 to 1, when the total is known."""
        if not self.expected:
            return None
        return min(1.0, self.listed / self.expected)

    def time_left(self, now: datetime) -> timedelta | None:
        """At the pace so far, how long the rest takes; None while nothing tells."""
        if not self.expected or self.listed <= 0 or self.listed >= self.expected:
            return None
        return (now - self.started) * ((self.expected - self.listed) / self.listed)


class RunningListings:
    """A :class:`~syncd.engine.progress.ListingProgress` that remembers what runs."""

    def __init__(
        self, also: ListingProgress = NO_PROGRESS, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._also = also
        self._clock = clock
        self._running: dict[int, Listing] = {}
        self._ids = 0

    def listing(self, lane: str, side: Side, expected: int | None) -> SideListing:
        self._ids += 1
        self._running[self._ids] = Listing(lane, side, expected, self._clock())
        return _Tracked(self, self._ids, self._also.listing(lane, side, expected))

    def now(self) -> list[Listing]:
        """The listings running, in the order they began."""
        return list(self._running.values())

    def update(self, key: int, count: int) -> None:
        if key in self._running:
            self._running[key] = replace(self._running[key], listed=count)

    def finish(self, key: int) -> None:
        self._running.pop(key, None)


class _Tracked:
    def __init__(self, owner: RunningListings, key: int, also: SideListing) -> None:
        self._owner = owner
        self._key = key
        self._also = also

    def listed(self, count: int) -> None:
        self._owner.update(self._key, count)
        self._also.listed(count)

    def done(self) -> None:
        self._owner.finish(self._key)
        self._also.done()
