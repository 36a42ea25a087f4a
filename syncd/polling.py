"""Adaptive polling: how long a lane waits before its next incremental cycle.

AFAS has no webhooks, so changes are found by polling. After a cycle that changed
something, more changes often follow (a person editing several relations, an import):
the lane polls sooner, every ``busy_interval``, until ``busy_for`` has passed since its
last change, then settles back to ``interval``. Pure: the daemon supplies the times.

AFAS publishes no request rate, only a fair-use policy (its heaviest users are told to
change their process, and a GetConnector that burdens others may be blocked), and at most
8 calls at once. :data:`FAIR_USE_FLOOR` bounds the busy pace so that a lane's polling
stays a modest, known number of requests per hour (docs/operations.md shows the sums).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["FAIR_USE_FLOOR", "PollPace", "next_poll_delay", "polls_per_hour", "saw_changes"]

FAIR_USE_FLOOR = timedelta(seconds=10)
"""The shortest busy interval allowed: at most 360 polls an hour per lane."""

# Counts of a cycle that are not changes it made: standing numbers (open conflicts,
# creates in doubt) and trouble (a record refused again each cycle must not keep a lane
# busy for ever).
_NOT_CHANGES = frozenset({"conflicts", "creates_in_doubt", "quarantined", "outcome_unknown"})


@dataclass(frozen=True)
class PollPace:
    """A lane's polling pace: quiet, busy, and how long busy lasts after a change."""

    interval: timedelta
    busy_interval: timedelta
    busy_for: timedelta

    def busy_delay(self) -> timedelta:
        """The busy interval, never below the fair-use floor nor above the quiet one."""
        return min(self.interval, max(self.busy_interval, FAIR_USE_FLOOR))


def next_poll_delay(last_change: datetime | None, now: datetime, pace: PollPace) -> timedelta:
    """How long after ``now`` a lane whose last change was at ``last_change`` polls again."""
    if last_change is not None and now - last_change < pace.busy_for:
        return pace.busy_delay()
    return pace.interval


def saw_changes(counts: Mapping[str, int]) -> bool:
    """Whether a cycle with these counts changed something (created, updated, linked...)."""
    return any(n > 0 for kind, n in counts.items() if kind not in _NOT_CHANGES)


def polls_per_hour(delay: timedelta) -> float:
    """Polls an hour of one lane at ``delay``: each sends one AFAS read when idle."""
    return timedelta(hours=1) / delay
