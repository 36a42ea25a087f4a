"""How far long work has come and how long the rest takes, at its pace so far: pure."""

from __future__ import annotations

from datetime import datetime, timedelta

from syncd.state.rows import RunningWork


def share(work: RunningWork) -> float | None:
    """How far it has come, 0 to 1, when its total is known."""
    if not work.expected:
        return None
    return min(1.0, work.listed / work.expected)


def per_minute(work: RunningWork, now: datetime) -> float | None:
    """Records listed a minute so far; None before a second has passed."""
    seconds = (now - work.started).total_seconds()
    return work.listed * 60 / seconds if seconds >= 1 else None


def time_left(work: RunningWork, now: datetime) -> timedelta | None:
    """At the pace so far, how long the rest takes; None while nothing tells."""
    if not work.expected or work.listed <= 0 or work.listed >= work.expected:
        return None
    return (now - work.started) * ((work.expected - work.listed) / work.listed)
