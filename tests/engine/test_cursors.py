"""Cursor rules, table by table: where a pull starts, where its cursor stands after it,
and where it stays for the records a plan deferred."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncd.engine.cursors import (
    after_pull,
    before_deferred,
    create_cutoff,
    newest_seen,
    pull_start,
)
from syncd.records import Cursor, Record, Side

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # the newest change a pull saw (M)
MIN = timedelta(minutes=1)
SEC = timedelta(seconds=1)
CRM, AFAS = Side.CRM, Side.AFAS


def at(
    modified: datetime, seen: timedelta | None = None, pulled: timedelta | None = None
) -> Cursor:
    """A cursor at ``modified``, first seen and last pulled so long after it."""
    return Cursor(
        modified,
        "7",
        seen_at=None if seen is None else modified + seen,
        pulled_at=None if pulled is None else modified + pulled,
    )


@pytest.mark.parametrize(
    ("cursor", "overlap", "lag", "start"),
    [
        # no clock readings kept (an older cursor): the whole overlap before M
        (at(T0), 5 * MIN, 0 * MIN, T0 - 5 * MIN),
        (at(T0, seen=MIN), 5 * MIN, 0 * MIN, T0 - 5 * MIN),
        # the last pull began as M was first seen: nothing settled yet
        (at(T0, seen=MIN, pulled=MIN), 5 * MIN, 0 * MIN, T0 - 5 * MIN),
        # two minutes of the side's clock past M: the pull starts that much later
        (at(T0, seen=MIN, pulled=3 * MIN), 5 * MIN, 0 * MIN, T0 - 3 * MIN),
        # the side's search lags a minute behind: a minute less settled
        (at(T0, seen=MIN, pulled=3 * MIN), 5 * MIN, MIN, T0 - 4 * MIN),
        # a lag longer than what settled: back to the whole overlap, never earlier
        (at(T0, seen=MIN, pulled=3 * MIN), 5 * MIN, 10 * MIN, T0 - 5 * MIN),
        # a quiet side long past M: up to M itself, never after it
        (at(T0, seen=MIN, pulled=60 * MIN), 5 * MIN, 0 * MIN, T0),
        (at(T0, seen=MIN, pulled=60 * MIN), 0 * MIN, 0 * MIN, T0),
    ],
)
def test_where_an_incremental_pull_starts(
    cursor: Cursor, overlap: timedelta, lag: timedelta, start: datetime
) -> None:
    assert pull_start(cursor, overlap, lag) == start


STARTED, FINISHED = T0 + 10 * MIN, T0 + 11 * MIN


@pytest.mark.parametrize(
    ("cursor", "newest", "expected", "seen_at"),
    [
        # nothing ever seen, nothing seen now: still no cursor
        (None, None, None, None),
        # a first pull: the newest it saw, first seen as the pull ended
        (None, Cursor(T0, "3"), Cursor(T0, "3"), FINISHED),
        # a newer change: the cursor moves to it
        (at(T0, seen=MIN), Cursor(T0 + MIN, "1"), Cursor(T0 + MIN, "1"), FINISHED),
        # the same time, a higher id: later in (modified, id) order
        (at(T0, seen=MIN), Cursor(T0, "8"), Cursor(T0, "8"), FINISHED),
        # only older changes (the overlap window): the cursor stays, as first seen
        (at(T0, seen=MIN), Cursor(T0 - MIN, "9"), at(T0), T0 + MIN),
        (at(T0, seen=MIN), None, at(T0), T0 + MIN),
    ],
)
def test_where_the_cursor_stands_after_a_pull(
    cursor: Cursor | None,
    newest: Cursor | None,
    expected: Cursor | None,
    seen_at: datetime | None,
) -> None:
    moved = after_pull(cursor, newest, STARTED, FINISHED)

    assert moved == expected
    if moved is not None:
        assert (moved.seen_at, moved.pulled_at) == (seen_at, STARTED)


def record(record_id: str, modified: datetime | None) -> Record:
    return Record(record_id, {}, modified=modified)


@pytest.mark.parametrize(
    ("cursor", "records", "expected"),
    [
        (None, [], None),
        (None, [record("1", None)], None),  # no modification time: says nothing
        (None, [record("2", T0), record("1", T0 - MIN)], Cursor(T0, "2")),
        (Cursor(T0, "5"), [record("2", T0), record("9", T0 - MIN)], Cursor(T0, "5")),
        (Cursor(T0, "5"), [record("6", T0)], Cursor(T0, "6")),
    ],
)
def test_the_newest_record_a_page_brings_moves_the_cursor_up(
    cursor: Cursor | None, records: list[Record], expected: Cursor | None
) -> None:
    assert newest_seen(cursor, records) == expected


@pytest.mark.parametrize(
    ("cursor", "deferred", "expected"),
    [
        # nothing deferred: the cursor stays, clock readings and all
        (at(T0, seen=MIN, pulled=MIN), [], at(T0, seen=MIN, pulled=MIN)),
        # deferred on the other side only: not this side's business
        (at(T0, seen=MIN), [(AFAS, record("4", T0 - MIN))], at(T0, seen=MIN)),
        # deferred without a time: nothing to stay before
        (at(T0, seen=MIN), [(CRM, record("4", None))], at(T0, seen=MIN)),
        # deferred: just before the earliest of them, without clock readings
        (
            at(T0, seen=MIN, pulled=MIN),
            [(CRM, record("4", T0 - MIN)), (CRM, record("5", T0 - 2 * MIN))],
            Cursor(T0 - 2 * MIN - timedelta(microseconds=1), ""),
        ),
        # a cursor already before them stays where it is, without clock readings
        (at(T0 - 3 * MIN, seen=MIN), [(CRM, record("4", T0))], at(T0 - 3 * MIN)),
        (None, [(CRM, record("4", T0))], None),
    ],
)
def test_the_cursor_stays_before_deferred_records(
    cursor: Cursor | None, deferred: list[tuple[Side, Record]], expected: Cursor | None
) -> None:
    kept = before_deferred(cursor, deferred, CRM)

    assert kept == expected
    if kept is not None and kept is not cursor:
        assert (kept.seen_at, kept.pulled_at) == (None, None)


def test_records_changed_within_a_sides_lag_are_not_created_there_yet() -> None:
    assert create_cutoff(T0, 0 * SEC) == T0
    assert create_cutoff(T0, 30 * SEC) == T0 - 30 * SEC
