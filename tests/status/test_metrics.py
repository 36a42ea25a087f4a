"""``/metrics``: what alerts and the dashboard read, over a real state store."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from syncd.state.rows import LanePoll, StatusEvent
from syncd.state.store import StateStore
from syncd.status.metrics import polls_added
from syncd.status.server import StatusSource, make_app

LANES = [("demo", "customer"), ("demo", "supplier"), ("demo", "contact")]
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def add(store: StateStore, entity: str, name: str, at: datetime, **data: Any) -> None:
    async with store.transaction() as tx:
        await tx.add_event(StatusEvent("demo", entity, name, data=data, at=at))


def finished(counts: Mapping[str, int], crm_used: int, seconds: float) -> dict[str, Any]:
    budget = {"used": crm_used, "requests_today": 500, "daily_budget": 1000, "budget_left": 500}
    return {
        "counts": dict(counts),
        "requests": {"crm": budget, "afas": {"used": 1}},
        "seconds": seconds,
    }


async def scrape(source: StatusSource, times: int = 1) -> Samples:
    async with TestClient(TestServer(make_app(source))) as client:
        for _ in range(times):
            text = await (await client.get("/metrics")).text()
    return parse(text)


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset({"connection": "demo", **labels}.items())))


async def test_cycles_that_finish_after_the_start_are_counted_once(store: StateStore) -> None:
    await add(store, "customer", "cycle_finished", T0, **finished({"created_afas": 50}, 90, 600))
    source = StatusSource(store, LANES)
    async with TestClient(TestServer(make_app(source))) as client:
        for n in range(2):
            done = finished({"created_afas": 2, "updated_crm": 1, "conflicts": 3}, 5, 12.5)
            await add(store, "customer", "cycle_finished", T0 + timedelta(minutes=n + 1), **done)
            await add(store, "customer", "cycle_failed", T0 + timedelta(minutes=n + 1))
            await client.get("/metrics")
        samples = parse(await (await client.get("/metrics")).text())

    customer = {"entity": "customer"}
    assert value(samples, "syncd_changes_total", kind="created_afas", **customer) == 4
    assert value(samples, "syncd_changes_total", kind="updated_crm", **customer) == 2
    # a standing number is no change: the open conflicts' gauge shows it
    assert value(samples, "syncd_changes_total", kind="conflicts", **customer) is None
    assert value(samples, "syncd_requests_total", side="crm", **customer) == 10
    assert value(samples, "syncd_requests_total", side="afas", **customer) == 2
    assert value(samples, "syncd_cycle_duration_seconds_count", **customer) == 2
    assert value(samples, "syncd_cycle_duration_seconds_sum", **customer) == 25
    assert value(samples, "syncd_cycle_duration_seconds_bucket", le="15.0", **customer) == 2
    # every lane's series are there before its first cycle
    assert value(samples, "syncd_requests_total", side="crm", entity="contact") == 0
    assert value(samples, "syncd_cycle_duration_seconds_count", entity="supplier") == 0


async def test_last_success_guard_failures_and_interval_per_lane(store: StateStore) -> None:
    await add(store, "customer", "cycle_finished", T0, **finished({}, 1, 1))
    await add(store, "customer", "cycle_failed", T0 + timedelta(minutes=5), error="503")
    await add(store, "supplier", "cycle_finished", T0, **finished({}, 1, 1))
    await add(store, "supplier", "guard_tripped", T0 + timedelta(minutes=5))
    failing = {("demo", "customer"): 3}
    source = StatusSource(store, LANES, timedelta(minutes=5), lambda: failing)

    samples = await scrape(source)

    last_success = "syncd_last_successful_cycle_timestamp_seconds"
    assert value(samples, last_success, entity="customer") == T0.timestamp()
    assert value(samples, last_success, entity="contact") is None  # none yet
    assert value(samples, "syncd_healthy", entity="customer") == 0
    assert value(samples, "syncd_failed_cycles_in_a_row", entity="customer") == 3
    assert value(samples, "syncd_failed_cycles_in_a_row", entity="supplier") == 0
    assert value(samples, "syncd_guard_tripped", entity="supplier") == 1
    assert value(samples, "syncd_guard_tripped", entity="customer") == 0
    assert value(samples, "syncd_cycle_interval_seconds", entity="contact") == 300


async def test_the_daily_budget_is_the_connection_s_newest_cycle_s(store: StateStore) -> None:
    older = finished({}, 1, 1)
    await add(store, "supplier", "cycle_finished", T0 + timedelta(minutes=1), **older)
    newer = finished({}, 1, 1)
    newer["requests"]["crm"] |= {"requests_today": 950, "budget_left": 50}
    await add(store, "customer", "cycle_finished", T0 + timedelta(minutes=2), **newer)

    samples = await scrape(StatusSource(store, LANES))

    assert value(samples, "syncd_requests_today", side="crm") == 950
    assert value(samples, "syncd_request_budget_left", side="crm") == 50
    assert value(samples, "syncd_daily_request_budget", side="crm") == 1000
    assert value(samples, "syncd_daily_request_budget", side="afas") is None  # keeps none


async def polls(store: StateStore, entity: str, at: datetime, count: int) -> None:
    async with store.transaction() as tx:
        await tx.record_polls([LanePoll("demo", entity, at, count)])


async def test_quiet_polls_their_newest_time_and_those_since_the_start(store: StateStore) -> None:
    await polls(store, "customer", T0, 100)  # before the status server started: not counted
    source = StatusSource(store, LANES)
    async with TestClient(TestServer(make_app(source))) as client:
        await polls(store, "customer", T0 + timedelta(minutes=1), 3)
        await client.get("/metrics")
        await polls(store, "customer", T0 + timedelta(minutes=2), 2)
        await polls(store, "supplier", T0 + timedelta(minutes=2), 4)
        samples = parse(await (await client.get("/metrics")).text())

    last_poll = "syncd_last_poll_timestamp_seconds"
    newest = (T0 + timedelta(minutes=2)).timestamp()
    assert value(samples, last_poll, entity="customer") == newest
    assert value(samples, last_poll, entity="contact") == 0  # none yet
    assert value(samples, "syncd_quiet_polls_total", entity="customer") == 5
    assert value(samples, "syncd_quiet_polls_total", entity="supplier") == 4
    assert value(samples, "syncd_quiet_polls_total", entity="contact") == 0


def test_polls_forgotten_with_their_connection_are_counted_again_from_nothing() -> None:
    lane, other = ("demo", "customer"), ("demo", "supplier")

    assert polls_added({lane: 12, other: 5}, {lane: 10, other: 5}) == {lane: 2}
    assert polls_added({lane: 3}, {lane: 10}) == {lane: 3}
    assert polls_added({other: 1}, {}) == {other: 1}
