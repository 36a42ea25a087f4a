"""What a listing keeps: its records, and the newest change it saw (its cursor)."""

from __future__ import annotations

from datetime import UTC, datetime

from syncd.engine.stages.listings import PullSoFar
from syncd.records import Cursor, Page, Record

EARLY = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LATE = datetime(2026, 11, 1, 13, 0, tzinfo=UTC)


def test_other_entities_records_move_the_cursor_too() -> None:
    """A side with no supplier yet lists only other companies: their times are of the
    same clock, so the next poll lists the changes since, not everything again."""
    listed = PullSoFar()
    listed.keep(Page(others=[Record("7", {"name": "Klant"}, modified=EARLY)]), set())
    assert listed.cursor == Cursor(EARLY, "7")
    listed.keep(Page([Record("8", {}, modified=LATE)]), set())
    assert listed.cursor == Cursor(LATE, "8")
    assert list(listed.records) == ["8"]
