"""AFAS Profit time: Amsterdam wall-clock time, dressed up as UTC.

Profit shows date-times as ``YYYY-MM-DDTHH:MM:SSZ`` but the ``Z`` is fake: the value is
the wall-clock time in Amsterdam. Filter values carry no ``Z`` at all. So:

* :func:`parse_local` reads a GetConnector value into a *naive* Amsterdam wall time.
* :func:`earliest_utc` turns that into the aware UTC instant the engine sees. In the
  hour that repeats when summer time ends, a wall time means two instants: syncd reports
  the earlier one, so a record never looks newer than it is and a later poll re-reads
  it rather than skipping it. A wall time that never existed (the hour skipped in
  spring) is clamped to the moment of the change, so the mapping stays monotone.
* :func:`latest_utc` is the other reading; ``changed_since`` keeps a row when its latest
  possible instant is at or after ``since``, so nothing modified in the repeated hour is
  missed (such a row may be listed with a time a little before ``since``).
* :func:`filter_floor` is the wall time to filter from so that every row that may be at
  or after ``since`` is fetched; :func:`filter_value` formats it the way filters want it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

# What Profit shows: a date, or a date and time with at most six digits of a second.
_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,6})?)?", re.ASCII)
_FIRST_YEAR, _LAST_YEAR = 1753, 9998


def parse_local(value: object) -> datetime | None:
    """A GetConnector date-time (fake ``Z`` and all) as a naive Amsterdam wall time."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().removesuffix("Z")
    if not _SHAPE.fullmatch(text):
        return None
    try:
        wall = datetime.fromisoformat(text)  # the shape is checked: no offsets, no weeks
    except ValueError:  # e.g. a 31st of February
        return None
    # Profit's dates lie within SQL Server's datetime range; a date outside it is
    # no modification time (and would overflow when moved to UTC).
    return wall if _FIRST_YEAR <= wall.year <= _LAST_YEAR else None


def _exists(wall: datetime, fold: int) -> bool:
    aware = wall.replace(tzinfo=AMSTERDAM, fold=fold)
    back = aware.astimezone(UTC).astimezone(AMSTERDAM).replace(tzinfo=None)
    return back == wall


def earliest_utc(wall: datetime) -> datetime:
    """The earliest UTC instant the naive Amsterdam wall time ``wall`` can mean."""
    if not _exists(wall, 0):  # skipped in spring: clamp to the change itself
        return _gap_end(wall)
    return wall.replace(tzinfo=AMSTERDAM, fold=0).astimezone(UTC)


def latest_utc(wall: datetime) -> datetime:
    """The latest UTC instant ``wall`` can mean (differs from earliest only in autumn)."""
    if not _exists(wall, 0):
        return _gap_end(wall)
    return wall.replace(tzinfo=AMSTERDAM, fold=1).astimezone(UTC)


def _gap_end(wall: datetime) -> datetime:
    """The instant summer time began, for a wall time inside the skipped hour."""
    before = wall.replace(tzinfo=AMSTERDAM, fold=0).utcoffset()
    after = wall.replace(tzinfo=AMSTERDAM, fold=1).utcoffset()
    assert before is not None
    assert after is not None
    # fold=0 reads the wall time with the offset from before the change: the first
    # wall time after the gap, read that way, is the change itself.
    first_after = wall.replace(minute=0, second=0, microsecond=0) + (after - before)
    return first_after.replace(tzinfo=AMSTERDAM, fold=1).astimezone(UTC)


def to_wall(instant: datetime) -> datetime:
    """An aware instant as a naive Amsterdam wall time."""
    if instant.tzinfo is None:
        raise ValueError("expected a timezone-aware datetime")
    return instant.astimezone(AMSTERDAM).replace(tzinfo=None)


def filter_floor(since: datetime) -> datetime:
    """The wall time from which every row possibly modified at or after ``since`` shows.

    One second lower than ``since`` itself, as Profit stores fractions of a second but
    shows whole ones; and, when ``since`` falls in the first pass through the repeated
    autumn hour, lowered by that hour, as the second pass shows the same wall times.
    """
    aware = since.astimezone(AMSTERDAM)
    wall = aware.replace(tzinfo=None)
    if _is_ambiguous(wall) and aware.fold == 0:
        wall -= timedelta(hours=1)
    return wall.replace(microsecond=0) - timedelta(seconds=1)


def _is_ambiguous(wall: datetime) -> bool:
    first = wall.replace(tzinfo=AMSTERDAM, fold=0).utcoffset()
    second = wall.replace(tzinfo=AMSTERDAM, fold=1).utcoffset()
    return first != second and _exists(wall, 0)


def filter_value(wall: datetime) -> str:
    """A wall time as a filter value: whole seconds, no ``Z``."""
    return wall.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S")


def display_value(wall: datetime) -> str:
    """A wall time the way a GetConnector shows it: whole seconds and the fake ``Z``."""
    return wall.isoformat(timespec="seconds") + "Z"  # the fraction dropped, not rounded
