"""The HubSpot gateway's request limits against the simulator: rate windows, retries
after a 429 and the daily budget."""

from __future__ import annotations

import asyncio
from itertools import pairwise

import pytest

from syncd.errors import (
    TransientError,
)
from syncd.sim.hubspot import Fault
from tests.gateways.contract import collect
from tests.gateways.hubspot.harness import ACME, HubSpotHarness, gateway_for

# -- rate limits ----------------------------------------------------------------------------


async def test_a_429_storm_is_retried_with_backoff_until_it_passes(hs: HubSpotHarness) -> None:
    record_id = await hs.seed("customer", ACME)
    body = {
        "status": "error",
        "message": "You have reached your ten_secondly_rolling limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": "c93e06a4-7d61-4c3e-b63f-edf486fc6e90",
        "policyName": "TEN_SECONDLY_ROLLING",
        "groupName": "publicapi:hapikey-api-calls-ten-secondly:6748263",
    }
    hs.sim.fail(Fault(method="POST", path="batch/read", status=429, body=body, count=3))
    page = await hs.hub.read("customer", [record_id])
    assert [r.id for r in page.records] == [record_id]
    assert hs.sim.counts["POST batch/read"] == 4
    assert hs.hub.status()["throttled_today"] == 3


async def test_a_429_storm_that_does_not_end_becomes_a_transient_error(
    hs: HubSpotHarness,
) -> None:
    hs.sim.configure(ten_second_limit=3)
    for _ in range(3):
        await hs.hub.read("customer", ["1"])
    with pytest.raises(TransientError) as raised:
        await hs.hub.read("customer", ["1"])
    assert raised.value.retry_after == 10.0  # TEN_SECONDLY_ROLLING
    assert hs.sim.counts["POST batch/read"] == 3 + 5  # five attempts, then it gives up


async def test_a_read_of_many_ids_sends_its_batches_side_by_side(hs: HubSpotHarness) -> None:
    ids = [await hs.seed("customer", {"name": f"Company {n}"}) for n in range(250)]
    hs.sim.configure(latency=0.05)  # long enough for the requests to meet
    hs.sim.request_log.clear()
    page = await hs.hub.read("customer", ids)
    assert sorted(r.id for r in page.records) == sorted(ids)
    reads = [e for e in hs.sim.request_log.entries if e.path.endswith("batch/read")]
    assert len(reads) == 3  # 100 ids a request
    assert any(a.started < b.finished and b.started < a.finished for a, b in pairwise(reads))


async def test_the_daily_limit_is_not_retried(hs: HubSpotHarness) -> None:
    hs.sim.configure(daily_limit=1)
    await hs.hub.read("customer", ["1"])
    with pytest.raises(TransientError) as raised:
        await hs.hub.read("customer", ["1"])
    assert raised.value.retry_after is not None
    assert raised.value.retry_after > 0
    assert hs.sim.counts["POST batch/read"] == 2


@pytest.mark.parametrize("ours", [4, 5])
async def test_the_search_limiter_keeps_under_hubspots_five_a_second(
    hs: HubSpotHarness, ours: int
) -> None:
    """Even at HubSpot's own 5, when the simulator counts each search as it arrives."""
    hs.sim.configure(search_per_second=5)
    hub = gateway_for(hs.sim.url, hs.mappings, search_per_second=ours, max_attempts=1)
    try:
        await asyncio.gather(*(collect(hub.changed_since("customer", None)) for _ in range(8)))
    finally:
        await hub.aclose()
    assert hs.sim.counts["POST search"] == 8  # no 429: nothing needed a retry


async def test_a_daily_budget_is_counted_and_enforced(hs: HubSpotHarness) -> None:
    hub = gateway_for(hs.sim.url, hs.mappings, daily_budget=2)
    try:
        await hub.read("customer", ["1"])
        await hub.read("customer", ["2"])
        with pytest.raises(TransientError, match="budget"):
            await hub.read("customer", ["3"])
        status = hub.status()
        assert status["requests_today"] == 2
        assert status["budget_left"] == 0
    finally:
        await hub.aclose()


async def test_rate_limit_headers_feed_the_status(hs: HubSpotHarness) -> None:
    hs.sim.configure(daily_limit=1000)
    await hs.hub.read("customer", ["1"])
    assert hs.hub.status()["portal_daily_remaining"] == 999
