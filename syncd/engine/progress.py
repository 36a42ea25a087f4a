"""How far a whole listing has come: the seam a progress bar watches.

A first sync and a full sweep list every record on both sides, which takes minutes at
tens of thousands of records. The cycle tells a :class:`ListingProgress` as pages arrive;
what shows it (a bar on a terminal) lives with the commands, and by default nothing does.
"""

from __future__ import annotations

from typing import Protocol

from syncd.records import Side


class SideListing(Protocol):
    """One side's whole listing in one cycle."""

    def listed(self, count: int) -> None:
        """``count`` records listed so far."""

    def done(self) -> None:
        """The listing ended (or stopped)."""


class ListingProgress(Protocol):
    def listing(self, lane: str, side: Side, expected: int | None) -> SideListing:
        """A whole listing of ``lane`` (connection/entity) begins on ``side``;
        ``expected``: about how many records it will list, None when unknown."""


class _Unwatched:
    def listed(self, count: int) -> None:
        pass

    def done(self) -> None:
        pass


class NoProgress:
    """Nobody watches (JSON output, tests, the container)."""

    def listing(self, lane: str, side: Side, expected: int | None) -> SideListing:
        return _Unwatched()


NO_PROGRESS = NoProgress()
