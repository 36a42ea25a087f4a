"""Creates in doubt: sent (or about to be) when the process died or the answer was lost.

Such a create is looked up by its correlation key at the start of every cycle (one
batched look-up for all of a side's, see :mod:`syncd.engine.recovery`). Not found, it
may still be saved while its side goes on with a request whose caller is gone: until the
side's ``outcome_window`` has passed since the request reached it. When that was is not
known, but not later than the first cycle boundary after its journal row: the end of
the cycle that sent it (a cycle ends once its requests are answered or given up), or,
after a crash, the start of the next cycle. Until that boundary plus the window its
source is not created again (docs/writes-in-doubt.md tells the operator why).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from syncd.events import EventName
from syncd.records import Side
from syncd.state.rows import JournalAction, JournalEntry
from syncd.state.store import StateStore

# No request of a cycle leaves after its end, nor after the start of a later cycle.
BOUNDARIES = (EventName.CYCLE_STARTED, EventName.CYCLE_FINISHED, EventName.CYCLE_FAILED)


@dataclass(frozen=True)
class InDoubt:
    """The creates on ``target`` whose outcome is unknown."""

    target: Side
    count: int
    since: datetime  # the oldest of them was journalled
    retry_at: datetime | None  # the first may be sent again (if not found); None: unknown

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": str(self.target),
            "count": self.count,
            "since": self.since.isoformat(),
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
        }

    def as_text(self) -> str:
        head = f"{self.count} create(s) in {self.target} in doubt since {_as_utc_text(self.since)}"
        if self.retry_at is None:
            return f"{head}: looked up again next cycle"
        again = _as_utc_text(self.retry_at)
        return f"{head}: looked up each cycle, sent again from {again} if not found"


def outcome_window(gateway: object) -> timedelta:
    """How long after it reached ``gateway``'s side a write may still be saved there."""
    window = getattr(gateway, "outcome_window", timedelta(0))
    return window if isinstance(window, timedelta) else timedelta(0)


def last_landing(
    entry: JournalEntry, boundaries: Sequence[datetime], window: timedelta
) -> datetime | None:
    """Until when ``entry``'s write may still be saved: ``window`` after the first cycle
    boundary after its journal row (``boundaries`` ascending). None while there is none
    yet: the cycle that journalled it may still be sending."""
    if entry.created_at is None:
        return None
    at = bisect_right(boundaries, entry.created_at)
    return boundaries[at] + window if at < len(boundaries) else None


def creates_in_doubt(
    entries: Iterable[JournalEntry],
    boundaries: Sequence[datetime],
    windows: Mapping[Side, timedelta | None],
) -> list[InDoubt]:
    """The pending creates among ``entries``, per target side (a side's window None:
    not known, so neither is when they are sent again)."""
    found: dict[Side, list[JournalEntry]] = {}
    for entry in entries:
        if entry.action is JournalAction.CREATE and entry.created_at is not None:
            found.setdefault(entry.target, []).append(entry)
    return [
        InDoubt(
            side,
            len(creates),
            min(e.created_at for e in creates if e.created_at is not None),
            _first_retry(creates, boundaries, windows.get(side)),
        )
        for side, creates in sorted(found.items())
    ]


async def cycle_boundaries(
    store: StateStore, connection: str, entity: str, entries: Sequence[JournalEntry]
) -> list[datetime]:
    """When cycles of the lane began and ended since the oldest of ``entries``."""
    times = [e.created_at for e in entries if e.created_at is not None]
    if not times:
        return []
    events = await store.events(
        connection, entity=entity, names=[str(n) for n in BOUNDARIES], since=min(times)
    )
    return sorted(e.at for e in events if e.at is not None)


def _first_retry(
    creates: Sequence[JournalEntry], boundaries: Sequence[datetime], window: timedelta | None
) -> datetime | None:
    if window is None:
        return None
    ends = [last_landing(e, boundaries, window) for e in creates]
    known = [end for end in ends if end is not None]
    return min(known) if known else None


def _as_utc_text(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")
