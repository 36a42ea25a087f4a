"""The simulator's webhooks: it calls a subscriber's target URL as HubSpot does.

HubSpot POSTs a JSON array of events (at most 100 a request) for the subscribed changes
of an app's portals, signs each request with the v3 signature (HMAC-SHA256 under the
app's client secret of method + URL + body + timestamp, base64, in
``X-HubSpot-Signature-v3`` beside ``X-HubSpot-Request-Timestamp``), and sends a batch
again when the call fails (an error status, no answer within its timeout, or no
connection): up to 10 retries, spread out over a day, each event's ``attemptNumber``
one higher. Delivery is therefore at least once, and a retried event may arrive after
newer ones. The simulator keeps that shape with a shorter schedule: the first retry
after ``first_retry`` seconds, each next one twice as late.

The simulator signs on its own here, apart from the receiver's code, so that a test of
the receiver against it checks two readings of HubSpot's rule against each other.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

MAX_BATCH = 100  # events per request, as HubSpot sends them
MAX_RETRIES = 10  # after the first attempt
# The escapes HubSpot decodes in the URL it signs (others, like %20, stay).
RESERVED_ESCAPES = {f"%{ord(c):02X}": c for c in ":/?@!$'()*,;"}


def change_event(
    subscription_type: str,
    object_id: str,
    event_id: int,
    *,
    portal_id: int = 62515,
    app_id: int = 1001,
    **more: Any,
) -> dict[str, Any]:
    """One change event as HubSpot's webhooks (and its journal) carry it."""
    return {
        "eventId": event_id,
        "subscriptionId": 1,
        "portalId": portal_id,
        "appId": app_id,
        "occurredAt": int(time.time() * 1000),
        "subscriptionType": subscription_type,
        "attemptNumber": 0,
        "objectId": int(object_id),
        "changeSource": "CRM",
        **more,
    }


@dataclass(frozen=True)
class Subscription:
    """Where and how the simulated app's webhooks go."""

    target_url: str
    client_secret: str = field(repr=False)
    app_id: int = 1001
    portal_id: int = 62515
    first_retry: float = 1.0  # seconds; HubSpot's retries spread over 24 hours
    timeout: float = 5.0  # HubSpot's time for an answer
    gather: float = 0.05  # events this close together go in one request


@dataclass
class Deliveries:
    """What the sender did, for tests and ``GET /_sim/webhooks``."""

    requests: int = 0
    failed: int = 0
    delivered: list[dict[str, Any]] = field(default_factory=list)  # the events taken
    dropped: list[dict[str, Any]] = field(default_factory=list)  # out of retries


class WebhookSender:
    """Queues the portal's change events and delivers them in signed batches."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription
        self.deliveries = Deliveries()
        self._queue: list[dict[str, Any]] = []
        self._event_ids = itertools.count(1)
        self._sending: set[asyncio.Task[None]] = set()  # batches under way or waiting to retry
        self._sender: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._wake = asyncio.Event()

    def notify(self, subscription_type: str, object_id: str, **more: Any) -> None:
        """A change HubSpot tells subscribers of (``company.propertyChange``...)."""
        subscription = self.subscription
        event = change_event(
            subscription_type,
            object_id,
            next(self._event_ids),
            portal_id=subscription.portal_id,
            app_id=subscription.app_id,
            **more,
        )
        self._queue.append(event)
        self._start()

    def _start(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: sent once one runs and another change comes
        if self._sender is None:
            self._sender = asyncio.ensure_future(self._send_queued())
        self._wake.set()

    async def _send_queued(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self.subscription.gather)  # a burst goes out together
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                task = asyncio.ensure_future(self._deliver(batch))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)

    async def _deliver(self, batch: list[dict[str, Any]]) -> None:
        if await self._post(batch):
            self.deliveries.delivered.extend(batch)
            return
        attempt = batch[0]["attemptNumber"]
        if attempt >= MAX_RETRIES:
            self.deliveries.dropped.extend(batch)
            return
        await asyncio.sleep(self.subscription.first_retry * 2**attempt)
        self._queue.extend({**event, "attemptNumber": attempt + 1} for event in batch)
        self._start()

    async def _post(self, batch: list[dict[str, Any]]) -> bool:
        body = json.dumps(batch).encode()
        stamp = str(int(time.time() * 1000))
        headers = {
            "Content-Type": "application/json",
            "X-HubSpot-Signature-v3": self.signature("POST", body, stamp),
            "X-HubSpot-Request-Timestamp": stamp,
        }
        self.deliveries.requests += 1
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self.subscription.timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
        try:
            async with self._session.post(
                self.subscription.target_url, data=body, headers=headers
            ) as reply:
                ok = 200 <= reply.status < 300
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        self.deliveries.failed += not ok
        return ok

    def signature(self, method: str, body: bytes, stamp: str) -> str:
        url = self.subscription.target_url
        for escaped, char in RESERVED_ESCAPES.items():
            url = url.replace(escaped, char).replace(escaped.lower(), char)
        signed = f"{method}{url}".encode() + body
        secret = self.subscription.client_secret.encode()
        digest = hmac.new(secret, signed + stamp.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    async def settled(self) -> None:
        """Wait until every event so far was delivered or dropped (tests)."""
        while self._queue or self._sending or self._wake.is_set():  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    async def aclose(self) -> None:
        tasks = [*self._sending, *([self._sender] if self._sender is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._sender = None
        if self._session is not None:
            await self._session.close()
            self._session = None
