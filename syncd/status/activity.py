"""What each connection and entity did per hour over the last day: the page's charts.

Pure: the ``cycle_finished`` events of the day in, 24 hourly buckets per lane out (the
current hour last, so far). A cycle counts in the hour it finished.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from syncd.state.rows import StatusEvent

HOURS = 24
HOUR = timedelta(hours=1)
# Counts of a cycle_finished event that are standing numbers, not things it did (the open
# conflicts, the creates in doubt): neither a change nor a chart's bar.
STANDING = frozenset({"conflicts", "creates_in_doubt"})

Lane = tuple[str, str]  # (connection, entity)


@dataclass(frozen=True)
class Hour:
    start: datetime
    changes: Mapping[str, int]  # by kind: created_afas, updated_crm, linked, ...
    requests: Mapping[str, int]  # by side: crm, afas

    @property
    def changed(self) -> int:
        return sum(self.changes.values())


@dataclass(frozen=True)
class LaneDay:
    connection: str
    entity: str
    hours: tuple[Hour, ...]  # oldest first

    @property
    def changed(self) -> int:
        return sum(h.changed for h in self.hours)

    def requested(self, side: str) -> int:
        return sum(h.requests.get(side, 0) for h in self.hours)


def day_start(now: datetime) -> datetime:
    """Where the oldest of the 24 hours begins: whole hours, the current one included."""
    return now.replace(minute=0, second=0, microsecond=0) - (HOURS - 1) * HOUR


def by_hour(events: Iterable[StatusEvent], lanes: Sequence[Lane], now: datetime) -> list[LaneDay]:
    """Per lane (in the order given), what its finished cycles did and sent each hour.
    Events of other lanes or outside the day are left out."""
    first = day_start(now)
    changes = {lane: [Counter[str]() for _ in range(HOURS)] for lane in lanes}
    requests = {lane: [Counter[str]() for _ in range(HOURS)] for lane in lanes}
    for event in events:
        lane = (event.connection, event.entity or "")
        if lane not in changes or event.at is None:
            continue
        index = (event.at - first) // HOUR
        if 0 <= index < HOURS:
            changes[lane][index].update(changes_of(event))
            requests[lane][index].update(requests_of(event))
    return [
        LaneDay(
            connection,
            entity,
            tuple(
                Hour(first + n * HOUR, dict(+done), dict(+sent))  # + drops the zeros
                for n, (done, sent) in enumerate(
                    zip(changes[(connection, entity)], requests[(connection, entity)], strict=True)
                )
            ),
        )
        for connection, entity in lanes
    ]


def changes_of(event: StatusEvent) -> Counter[str]:
    """What a finished cycle did, by kind (its counts less the standing numbers)."""
    counts = event.data.get("counts")
    return Counter(
        {
            kind: number
            for kind, number in (counts if isinstance(counts, dict) else {}).items()
            if kind not in STANDING and isinstance(number, int)
        }
    )


def requests_of(event: StatusEvent) -> Counter[str]:
    """The requests a finished cycle sent, per side."""
    requests = event.data.get("requests")
    return Counter(
        {
            side: used["used"]
            for side, used in (requests if isinstance(requests, dict) else {}).items()
            if isinstance(used, dict) and isinstance(used.get("used"), int)
        }
    )
