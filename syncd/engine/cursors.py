"""Where each side's pull starts, and where its cursor stands after a cycle. Pure.

A cursor is the highest (modified, id) a side's pull has seen: never "now", so nothing
is skipped. An incremental pull starts an overlap window before it, for changes saved
late under an earlier time; a cycle that defers records keeps the cursor before them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from syncd.records import Cursor, Record, Side


def pull_start(cursor: Cursor, overlap: timedelta, lag: timedelta) -> datetime:
    """Where an incremental pull starts.

    ``overlap`` before the newest change seen (M), for changes saved late under an
    earlier time. But the side's clock was at M or later when M was first seen, and has
    moved on since by as much as syncd's: when the last pull began it was past M + (that
    pull's start - M first seen), so every change up to that, less the ``overlap`` for
    late saves and the side's ``lag``, was there for the last pull to see. The pull
    starts there if that is later, up to M itself: a quiet side is not read again, cycle
    after cycle, for a burst of changes long past. syncd's clock is only compared with
    itself, never with the side's, and nothing after M is ever skipped.
    """
    if cursor.seen_at is None or cursor.pulled_at is None:
        return cursor.modified - overlap
    settled = cursor.pulled_at - cursor.seen_at - lag  # the side's clock past M, at least
    return cursor.modified - overlap + min(overlap, max(timedelta(0), settled))


def newest_seen(cursor: Cursor | None, records: Iterable[Record]) -> Cursor | None:
    """``cursor`` moved up to the newest of ``records`` that carries a modification time."""
    for record in records:
        if record.modified is not None:
            seen = Cursor(record.modified, record.id)
            cursor = max(seen, cursor) if cursor else seen
    return cursor


def after_pull(
    cursor: Cursor | None, newest: Cursor | None, started: datetime, finished: datetime
) -> Cursor | None:
    """The cursor after a pull from ``started`` to ``finished`` that saw ``newest``."""
    if newest is not None and (cursor is None or newest > cursor):
        return replace(newest, seen_at=finished, pulled_at=started)
    return None if cursor is None else replace(cursor, pulled_at=started)


def before_deferred(
    cursor: Cursor | None, deferred: Iterable[tuple[Side, Record]], side: Side
) -> Cursor | None:
    """Keep the cursor before ``side``'s deferred records, so the next pull brings them
    again (without the time of its pull, which would let the next one start after them)."""
    times = [r.modified for s, r in deferred if s is side and r.modified is not None]
    if not times or cursor is None:
        return cursor
    earlier = min(cursor, Cursor(min(times) - timedelta(microseconds=1), ""))
    return replace(earlier, seen_at=None, pulled_at=None)


def create_cutoff(started: datetime, lag: timedelta) -> datetime:
    """Records changed after this are not created on a side yet: a twin made there at
    the same time may not be visible to its searches for ``lag``."""
    return started - lag
