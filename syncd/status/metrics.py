"""What ``/metrics`` serves, in Prometheus' text format (prometheus-client).

Gauges are read from the state store at each scrape, so every replica of a deployment
serves every lane's figures: dashboards and alerts take the ``max`` over replicas, never
the ``sum``. Counters and the cycle-duration histogram count the ``cycle_finished``
events committed since the status server started (any replica's cycles), read from the
store at each scrape after the last one counted; the quiet polls' counter, what the
store's per-lane totals of them grew by since then. The failed cycles in a row are this
process's own: only the replica that holds a lane runs (and fails) its cycles.
deploy/prometheus and deploy/grafana hold the alerts and the dashboard built on these.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from syncd.events import EventName
from syncd.records import Side
from syncd.state.rows import LanePoll, StatusEvent
from syncd.state.store import StateStore
from syncd.status.activity import changes_of, requests_of
from syncd.status.views import EntityHealth, Lane

LANE = ["connection", "entity"]
# From a cycle of a few seconds to a first sync of hours.
DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600)
FINISHED = [str(EventName.CYCLE_FINISHED)]


class MetricsSource(Protocol):
    """What the metrics are read from (the status server's source)."""

    @property
    def store(self) -> StateStore: ...

    @property
    def lanes(self) -> Sequence[Lane]: ...

    @property
    def interval(self) -> timedelta | None: ...

    async def health(self) -> list[EntityHealth]: ...

    def failed_in_a_row(self) -> Mapping[Lane, int]: ...


class Metrics:
    """The registry of one status server; :meth:`start` before the first scrape."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.counted = 0  # the id of the last cycle_finished event counted
        self.polls_counted: dict[Lane, int] = {}  # per lane, its stored quiet polls counted
        self._scraping = asyncio.Lock()  # two scrapes at once must not count twice
        self._gauges()
        self._counters()

    def _gauge(self, name: str, text: str, labels: Sequence[str] = LANE) -> Gauge:
        return Gauge(name, text, labels, registry=self.registry)

    def _gauges(self) -> None:
        gauge = self._gauge
        self.linked = gauge("syncd_linked_records", "Linked record pairs")
        self.conflicts = gauge("syncd_open_conflicts", "Conflicts waiting for a person")
        self.quarantined = gauge("syncd_quarantined_records", "Records in quarantine")
        self.healthy = gauge("syncd_healthy", "1 when the last cycle went well")
        self.last = gauge("syncd_last_cycle_timestamp_seconds", "End of the last cycle")
        self.last_poll = gauge(
            "syncd_last_poll_timestamp_seconds",
            "The newest quiet poll (nothing new, no cycle event written); 0 before the first",
        )
        self.in_doubt = gauge(
            "syncd_creates_in_doubt", "Creates whose outcome is unknown (looked up each cycle)"
        )
        self.succeeded = gauge(
            "syncd_last_successful_cycle_timestamp_seconds",
            "End of the last cycle that finished (absent before the first)",
        )
        self.interval = gauge(
            "syncd_cycle_interval_seconds", "Configured time between a lane's cycles"
        )
        self.guard = gauge(
            "syncd_guard_tripped", "1 while a guard holds the lane's plan back until confirmed"
        )
        self.failing = gauge(
            "syncd_failed_cycles_in_a_row",
            "Cycles of the lane that failed since its last good one (this replica's)",
        )
        budget = ["connection", "side"]
        self.budget_left = gauge(
            "syncd_request_budget_left",
            "Requests left today in a side's daily budget (HubSpot)",
            budget,
        )
        self.requests_today = gauge(
            "syncd_requests_today", "Requests sent today against a side's daily budget", budget
        )
        self.daily_budget = gauge(
            "syncd_daily_request_budget", "A side's daily request budget (HubSpot)", budget
        )

    def _counters(self) -> None:
        self.changes = Counter(
            "syncd_changes",
            "What finished cycles did, by kind (the counts of cycle_finished)",
            [*LANE, "kind"],
            registry=self.registry,
        )
        self.requests = Counter(
            "syncd_requests",
            "Requests finished cycles sent, per side",
            [*LANE, "side"],
            registry=self.registry,
        )
        self.quiet_polls = Counter(
            "syncd_quiet_polls",
            "Polls that listed nothing new and did nothing (they write no cycle events)",
            LANE,
            registry=self.registry,
        )
        self.duration = Histogram(
            "syncd_cycle_duration_seconds",
            "How long finished cycles took",
            LANE,
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )

    async def start(self, source: MetricsSource) -> None:
        """Count from the newest event on; every lane's series exist from the start."""
        newest = await source.store.events(limit=1, newest=True)
        self.counted = (newest[-1].id or 0) if newest else 0
        self.polls_counted = _poll_totals(await source.store.lane_polls())
        for lane in source.lanes:
            self.duration.labels(*lane)
            self.quiet_polls.labels(*lane)
            for side in Side:
                self.requests.labels(*lane, str(side))

    async def scrape(self, source: MetricsSource) -> bytes:
        async with self._scraping:
            rows = await source.health()
            self._set_health(rows)
            self._set_budgets(rows)
            self._set_lanes(source, await _last_successes(source))
            await self._count_new_cycles(source.store)
            await self._count_new_polls(source.store)
            return generate_latest(self.registry)

    def _set_health(self, rows: Sequence[EntityHealth]) -> None:
        for h in rows:
            lane = (h.connection, h.entity)
            self.linked.labels(*lane).set(h.linked)
            self.conflicts.labels(*lane).set(h.conflicts)
            self.quarantined.labels(*lane).set(h.quarantined)
            self.in_doubt.labels(*lane).set(sum(d.count for d in h.in_doubt))
            self.healthy.labels(*lane).set(1 if h.healthy else 0)
            self.last.labels(*lane).set(h.last_cycle.timestamp() if h.last_cycle else 0)
            self.last_poll.labels(*lane).set(h.last_poll.timestamp() if h.last_poll else 0)
            self.guard.labels(*lane).set(1 if h.last_outcome == EventName.GUARD_TRIPPED else 0)

    def _set_budgets(self, rows: Sequence[EntityHealth]) -> None:
        """A connection's lanes share its gateways: its newest cycle has their count."""
        for (connection, side), budget in newest_budgets(rows).items():
            self.budget_left.labels(connection, side).set(budget["budget_left"])
            self.requests_today.labels(connection, side).set(budget["requests_today"])
            self.daily_budget.labels(connection, side).set(budget["daily_budget"])

    def _set_lanes(self, source: MetricsSource, successes: Mapping[Lane, datetime]) -> None:
        failing = source.failed_in_a_row()
        for lane in source.lanes:
            if source.interval is not None:
                self.interval.labels(*lane).set(source.interval.total_seconds())
            if lane in successes:
                self.succeeded.labels(*lane).set(successes[lane].timestamp())
            self.failing.labels(*lane).set(failing.get(lane, 0))

    async def _count_new_cycles(self, store: StateStore) -> None:
        while page := await store.events(names=FINISHED, after_id=self.counted):
            for event in page:
                self._count(event)
            self.counted = page[-1].id or self.counted

    async def _count_new_polls(self, store: StateStore) -> None:
        totals = _poll_totals(await store.lane_polls())
        for lane, added in polls_added(totals, self.polls_counted).items():
            self.quiet_polls.labels(*lane).inc(added)
        self.polls_counted = totals

    def _count(self, event: StatusEvent) -> None:
        lane = (event.connection, event.entity or "")
        for kind, number in changes_of(event).items():
            self.changes.labels(*lane, kind).inc(number)
        for side, used in requests_of(event).items():
            self.requests.labels(*lane, side).inc(used)
        seconds = event.data.get("seconds")
        if isinstance(seconds, int | float):
            self.duration.labels(*lane).observe(seconds)


def _poll_totals(polls: Mapping[Lane, LanePoll]) -> dict[Lane, int]:
    return {lane: poll.polls for lane, poll in polls.items()}


def polls_added(totals: Mapping[Lane, int], counted: Mapping[Lane, int]) -> dict[Lane, int]:
    """Per lane, the quiet polls stored since ``counted``; a total below what was counted
    was forgotten (``syncd`` forgets a reset connection) and counted again from 0."""
    added = {}
    for lane, total in totals.items():
        before = counted.get(lane, 0)
        grown = total - before if total >= before else total
        if grown:
            added[lane] = grown
    return added


BUDGET_KEYS = ("budget_left", "requests_today", "daily_budget")


def newest_budgets(rows: Sequence[EntityHealth]) -> dict[tuple[str, str], dict[str, int]]:
    """Per connection and side, the daily budget its newest finished cycle reported."""
    found: dict[tuple[str, str], tuple[datetime, dict[str, int]]] = {}
    for h in rows:
        if h.last_cycle is None:
            continue
        for side, status in h.requests.items():
            if not isinstance(status, dict):
                continue
            budget = {k: status[k] for k in BUDGET_KEYS if isinstance(status.get(k), int)}
            key = (h.connection, side)
            if len(budget) == len(BUDGET_KEYS) and (
                key not in found or found[key][0] < h.last_cycle
            ):
                found[key] = (h.last_cycle, budget)
    return {key: budget for key, (_, budget) in found.items()}


async def _last_successes(source: MetricsSource) -> dict[Lane, datetime]:
    """When each lane's newest cycle_finished event was written."""
    found: dict[Lane, datetime] = {}
    for connection, entity in source.lanes:
        newest = await source.store.events(
            connection, entity=entity, names=FINISHED, limit=1, newest=True
        )
        if newest and newest[-1].at is not None:
            found[(connection, entity)] = newest[-1].at
    return found
