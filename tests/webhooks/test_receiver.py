"""The webhook receiver: HubSpot's signed calls become hints for the connection's lanes,
answered at once; calls that are not HubSpot's are refused and hint nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from syncd.engine.hints import Hints
from syncd.records import Side
from syncd.webhooks.receiver import Endpoint, Received, make_receiver
from syncd.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

SECRET = "app-client-secret"
# Behind a reverse proxy: HubSpot calls (and signs) this URL, not the receiver's own.
PUBLIC_URL = "https://sync.example.com/hubspot/webhooks/main"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ENTITIES = ("customer", "supplier", "contact")
Client = TestClient[web.Request, web.Application]


@pytest.fixture
def hints() -> Hints:
    board = Hints()
    for entity in ENTITIES:
        board.lane("main", entity)
    return board


@pytest.fixture
async def client(hints: Hints) -> AsyncIterator[Client]:
    app = make_receiver({"main": Endpoint(PUBLIC_URL, SECRET)}, hints, now=lambda: NOW)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def headers(body: bytes, *, secret: str = SECRET, at: datetime = NOW) -> dict[str, str]:
    stamp = str(int(at.timestamp() * 1000))
    return {
        SIGNATURE_HEADER: sign(secret, "POST", PUBLIC_URL, body, stamp),
        TIMESTAMP_HEADER: stamp,
        "Content-Type": "application/json",
    }


def event(kind: str, object_id: int, **more: object) -> dict[str, object]:
    return {
        "eventId": object_id * 10,
        "subscriptionId": 7,
        "portalId": 62515,
        "appId": 1234,
        "occurredAt": int(NOW.timestamp() * 1000),
        "subscriptionType": kind,
        "attemptNumber": 0,
        "objectId": object_id,
        "changeSource": "CRM_UI",
        **more,
    }


async def post(
    client: Client, events: list[dict[str, object]], *, secret: str = SECRET, at: datetime = NOW
) -> int:
    body = json.dumps(events).encode()
    signed = headers(body, secret=secret, at=at)
    reply = await client.post("/hubspot/webhooks/main", data=body, headers=signed)
    return reply.status


def waiting(hints: Hints, entity: str) -> frozenset[str]:
    return hints.lane("main", entity).take()[Side.CRM]


async def test_company_events_hint_both_company_lanes(client: Client, hints: Hints) -> None:
    events = [
        event("company.propertyChange", 11, propertyName="city", propertyValue="Zeist"),
        event("company.propertyChange", 11, propertyName="phone", propertyValue="010"),
        event("company.creation", 12),
    ]

    assert await post(client, events) == 200

    assert waiting(hints, "customer") == {"11", "12"}
    assert waiting(hints, "supplier") == {"11", "12"}
    assert waiting(hints, "contact") == frozenset()


async def test_the_reply_comes_before_any_work(client: Client, hints: Hints) -> None:
    """Queued, not done: the ids wait for the daemon's hinted cycle."""
    assert await post(client, [event("contact.creation", 21)]) == 200

    assert hints.lane("main", "contact").waiting == 1


async def test_a_repeated_burst_is_one_hint_per_record(client: Client, hints: Hints) -> None:
    for _ in range(3):
        assert await post(client, [event("contact.propertyChange", 21)]) == 200

    assert waiting(hints, "contact") == {"21"}


async def test_a_merge_hints_every_id_it_names(client: Client, hints: Hints) -> None:
    merge = event("contact.merge", 31, primaryObjectId=31, mergedObjectIds=[32], newObjectId=33)

    assert await post(client, [merge]) == 200

    assert waiting(hints, "contact") == {"31", "32", "33"}


async def test_an_association_change_hints_both_ends(client: Client, hints: Hints) -> None:
    change = event(
        "contact.associationChange",
        41,
        fromObjectId=41,
        toObjectId=42,
        associationType="CONTACT_TO_COMPANY",
        associationRemoved=False,
    )

    assert await post(client, [change]) == 200

    assert waiting(hints, "contact") == {"41"}
    assert waiting(hints, "customer") == {"42"}


async def test_new_platform_events_name_the_object_by_type_id(client: Client, hints: Hints) -> None:
    assert await post(client, [event("object.deletion", 51, objectTypeId="0-2")]) == 200

    assert waiting(hints, "supplier") == {"51"}


async def test_other_objects_hint_nothing(client: Client, hints: Hints) -> None:
    assert await post(client, [event("deal.creation", 61)]) == 200

    assert all(hints.lane("main", e).waiting == 0 for e in ENTITIES)


@pytest.mark.parametrize(
    ("secret", "at"),
    [("not-the-app-secret", NOW), (SECRET, NOW - timedelta(minutes=6))],
    ids=["wrong secret", "older than five minutes"],
)
async def test_calls_not_signed_by_hubspot_just_now_are_refused(
    client: Client, hints: Hints, secret: str, at: datetime
) -> None:
    assert await post(client, [event("company.creation", 71)], secret=secret, at=at) == 401

    assert all(hints.lane("main", e).waiting == 0 for e in ENTITIES)


async def test_a_tampered_body_is_refused(client: Client, hints: Hints) -> None:
    signed = json.dumps([event("company.creation", 71)]).encode()
    sent = json.dumps([event("company.creation", 72)]).encode()

    reply = await client.post("/hubspot/webhooks/main", data=sent, headers=headers(signed))

    assert reply.status == 401
    assert hints.lane("main", "customer").waiting == 0


async def test_an_unknown_connection_is_not_found(client: Client) -> None:
    body = b"[]"
    reply = await client.post("/hubspot/webhooks/other", data=body, headers=headers(body))
    assert reply.status == 404


async def test_a_signed_body_that_is_no_list_of_events_is_a_bad_request(
    client: Client,
) -> None:
    body = b'{"objectId": 1}'
    reply = await client.post("/hubspot/webhooks/main", data=body, headers=headers(body))
    assert reply.status == 400
    assert "array of events" in await reply.text()


async def test_the_secret_never_shows_in_replies(hints: Hints) -> None:
    received = Received()
    app = make_receiver({"main": Endpoint(PUBLIC_URL, SECRET)}, hints, received=received)
    async with TestClient(TestServer(app)) as test_client:
        body = b"[]"
        reply = await test_client.post(
            "/hubspot/webhooks/main", data=body, headers=headers(body, secret="x")
        )
        assert SECRET not in await reply.text()
    assert received.refused == 1
    assert SECRET not in repr(Endpoint(PUBLIC_URL, SECRET))
