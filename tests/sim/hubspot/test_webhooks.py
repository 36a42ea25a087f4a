"""The HubSpot simulator's webhooks: changes go to the subscriber in signed batches of at
most 100 events; a failed call is sent again with a higher ``attemptNumber``, up to ten
retries. The signature is checked with syncd's receiver rule, so the two readings of
HubSpot's rule agree."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from syncd.clock import utc_now
from syncd.sim.hubspot import HubSpotSimulator
from syncd.sim.hubspot.webhooks import MAX_RETRIES, Subscription
from syncd.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, refusal

SECRET = "sim-app-secret"


@dataclass
class Subscriber:
    """An endpoint that records what it is sent; ``answer`` picks each call's status."""

    answer: Callable[[int], int] = lambda call: 200
    calls: list[list[dict[str, Any]]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    url: str = ""

    async def take(self, request: web.Request) -> web.Response:
        body = await request.read()
        reason = refusal(
            SECRET,
            request.method,
            self.url,
            body,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            utc_now(),
        )
        if reason is not None:
            self.refused.append(reason)
            return web.Response(status=401)
        self.calls.append(json.loads(body))
        return web.Response(status=self.answer(len(self.calls)))

    def events(self) -> list[dict[str, Any]]:
        return [event for call in self.calls for event in call]


@pytest.fixture
async def subscriber() -> AsyncIterator[Subscriber]:
    endpoint = Subscriber()
    app = web.Application()
    app.router.add_post("/hooks", endpoint.take)
    async with TestServer(app, host="127.0.0.1") as server:
        endpoint.url = str(server.make_url("/hooks"))
        yield endpoint


@pytest.fixture
async def sim(subscriber: Subscriber) -> AsyncIterator[HubSpotSimulator]:
    simulator = HubSpotSimulator()
    await simulator.start()
    await simulator.subscribe_webhooks(
        Subscription(subscriber.url, SECRET, first_retry=0.001, gather=0.01)
    )
    try:
        yield simulator
    finally:
        await simulator.close()


async def settled(sim: HubSpotSimulator) -> None:
    assert sim.webhooks is not None
    await sim.webhooks.settled()


async def test_an_edit_is_sent_signed_with_the_fields_hubspot_sends(
    sim: HubSpotSimulator, subscriber: Subscriber
) -> None:
    company = sim.seed({"name": "Atlas", "city": "Delft"})
    sim.edit(company, {"city": "Zeist"})
    await settled(sim)

    assert subscriber.refused == []
    (event,) = subscriber.events()
    assert event["subscriptionType"] == "company.propertyChange"
    assert (event["objectId"], event["propertyName"], event["propertyValue"]) == (
        int(company),
        "city",
        "Zeist",
    )
    assert {"eventId", "subscriptionId", "portalId", "appId", "occurredAt"} <= event.keys()
    assert event["attemptNumber"] == 0


async def test_a_burst_comes_in_batches_of_at_most_100(
    sim: HubSpotSimulator, subscriber: Subscriber
) -> None:
    ids = [sim.seed({"name": f"Firm {n}"}) for n in range(150)]
    for company in ids:
        sim.edit(company, {"city": "Gouda"})
    await settled(sim)

    assert max(len(call) for call in subscriber.calls) == 100
    assert sorted(e["objectId"] for e in subscriber.events()) == sorted(map(int, ids))


async def test_a_failed_call_is_sent_again_with_the_next_attempt_number(
    sim: HubSpotSimulator, subscriber: Subscriber
) -> None:
    subscriber.answer = lambda call: 500 if call == 1 else 200
    company = sim.seed({"name": "Atlas"})
    sim.edit(company, {"city": "Zeist"})
    await settled(sim)

    first, again = subscriber.calls
    assert [e["eventId"] for e in first] == [e["eventId"] for e in again]
    assert [e["attemptNumber"] for e in again] == [1]
    assert sim.webhooks is not None
    assert sim.webhooks.deliveries.failed == 1


async def test_after_ten_retries_an_event_is_dropped(
    sim: HubSpotSimulator, subscriber: Subscriber
) -> None:
    subscriber.answer = lambda call: 503
    company = sim.seed({"name": "Atlas"})
    sim.edit(company, {"city": "Zeist"})
    await settled(sim)

    assert len(subscriber.calls) == 1 + MAX_RETRIES
    assert sim.webhooks is not None
    assert [e["attemptNumber"] for e in sim.webhooks.deliveries.dropped] == [MAX_RETRIES]


async def test_merges_deletions_and_associations_are_sent(
    sim: HubSpotSimulator, subscriber: Subscriber
) -> None:
    primary, other = sim.seed({"name": "Atlas"}), sim.seed({"name": "Atlas B.V."})
    contact = sim.seed_contact({"email": "anouk@atlas.example"})
    sim.merge(primary, other, new_id=False)
    sim.associate(contact, primary)
    sim.archive(primary)
    await settled(sim)

    kinds = [e["subscriptionType"] for e in subscriber.events()]
    assert kinds == [
        "company.merge",
        "contact.associationChange",
        "company.associationChange",
        "company.deletion",
    ]
    merge = subscriber.events()[0]
    assert (merge["primaryObjectId"], merge["mergedObjectIds"]) == (int(primary), [int(other)])


async def test_no_subscription_sends_nothing(subscriber: Subscriber) -> None:
    simulator = HubSpotSimulator()
    await simulator.start()
    try:
        simulator.edit(simulator.seed({"name": "Atlas"}), {"city": "Zeist"})
        assert simulator.webhooks is None
    finally:
        await simulator.close()
    assert subscriber.calls == []


async def test_the_control_api_subscribes_counts_and_stops(subscriber: Subscriber) -> None:
    simulator = HubSpotSimulator()
    url = await simulator.start()
    try:
        async with aiohttp.ClientSession() as session:
            given = {"target_url": subscriber.url, "client_secret": SECRET, "gather": 0.01}
            async with session.put(f"{url}/_sim/webhooks", json=given) as reply:
                assert reply.status == 204
            simulator.edit(simulator.seed({"name": "Atlas"}), {"city": "Zeist"})
            await settled(simulator)
            async with session.get(f"{url}/_sim/webhooks") as reply:
                counts = await reply.json()
            async with session.put(f"{url}/_sim/webhooks", json={"url": "x"}) as reply:
                assert reply.status == 400
            async with session.delete(f"{url}/_sim/webhooks") as reply:
                assert reply.status == 204
    finally:
        await simulator.close()
    assert counts == {
        "subscribed": True,
        "requests": 1,
        "failed": 0,
        "delivered": 1,
        "dropped": 0,
    }
    assert simulator.webhooks is None


async def test_a_subscription_outlives_a_reset(
    sim: HubSpotSimulator, subscriber: Subscriber
) -> None:
    sim.reset()
    sim.edit(sim.seed({"name": "Atlas"}), {"city": "Zeist"})
    await settled(sim)

    assert [e["subscriptionType"] for e in subscriber.events()] == ["company.propertyChange"]
