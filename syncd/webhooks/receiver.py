"""The HTTP endpoint HubSpot calls with webhook events: ``POST /hubspot/webhooks/<connection>``.

It checks the v3 signature, turns the events into hints for the connection's lanes and
answers at once; the hinted cycles run afterwards, in the daemon. It listens on a port
of its own, apart from the status server: HubSpot must reach it (through a reverse proxy
that ends TLS), while the status page is for operators and usually stays on loopback.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from syncd.clock import utc_now
from syncd.config import ConnectionSettings, Settings
from syncd.engine.hints import Hints
from syncd.gateways.hubspot.change_events import COMPANY, CONTACT, Hinted, NotEvents, hinted_by
from syncd.mapping import COMPANY_ENTITIES
from syncd.records import Side
from syncd.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, refusal

LOG = logging.getLogger(__name__)

PATH = "/hubspot/webhooks/{connection}"
_ENTITIES = {COMPANY: COMPANY_ENTITIES, CONTACT: ("contact",)}


@dataclass(frozen=True)
class Endpoint:
    """What checking one connection's webhook calls takes."""

    public_url: str  # what HubSpot calls, and signs: the URL set in the app's settings
    client_secret: str = field(repr=False)


@dataclass
class Received:
    """Counts of what came in, for the status of the receiver and for tests."""

    accepted: int = 0
    refused: int = 0


def endpoints_of(connections: Iterable[ConnectionSettings]) -> dict[str, Endpoint]:
    """The connections that take webhook calls, by name."""
    return {
        c.name: Endpoint(c.webhooks.public_url, c.webhooks.client_secret.value)
        for c in connections
        if c.webhooks is not None
    }


async def serve_webhooks(
    stack: AsyncExitStack, settings: Settings, hints: Hints, received: Received
) -> None:
    """When a connection takes webhook calls, the receiver on ``[webhooks] host`` and
    ``port`` until ``stack`` closes; it says where on stderr."""
    endpoints = endpoints_of(settings.connections)
    if not endpoints:
        return
    app = make_receiver(endpoints, hints, received=received)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    await web.TCPSite(runner, settings.webhooks.host, settings.webhooks.port).start()
    for bound, bound_port, *_ in runner.addresses:  # port 0 binds any free port
        shown = f"[{bound}]" if ":" in bound else bound
        where = f"http://{shown}:{bound_port}{PATH.replace('{connection}', '<connection>')}"
        print(f"syncd: webhook receiver on {where}", file=sys.stderr, flush=True)


def queue_hinted(hints: Hints, connection: str, hinted: Hinted) -> None:
    """Queue the ids HubSpot's events name in the connection's lanes: a company in the
    customer and supplier lanes, a contact in the contact lane."""
    for kind, ids in hinted.ids.items():
        for entity in _ENTITIES[kind]:
            hints.add(connection, entity, Side.CRM, ids)


def make_receiver(
    endpoints: Mapping[str, Endpoint],
    hints: Hints,
    *,
    now: Callable[[], datetime] = utc_now,
    received: Received | None = None,
) -> web.Application:
    counts = received if received is not None else Received()

    async def webhook(request: web.Request) -> web.Response:
        connection = request.match_info["connection"]
        endpoint = endpoints.get(connection)
        if endpoint is None:
            raise web.HTTPNotFound(text=f"no connection {connection!r} takes webhooks here\n")
        body = await request.read()
        reason = refusal(
            endpoint.client_secret,
            request.method,
            endpoint.public_url,
            body,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            now(),
        )
        if reason is not None:
            counts.refused += 1
            LOG.warning("%s: a webhook call was refused: %s", connection, reason)
            raise web.HTTPUnauthorized(text=f"{reason}\n")
        try:
            hinted = hinted_by(json.loads(body))
        except (ValueError, NotEvents) as error:
            raise web.HTTPBadRequest(text=f"{error}\n") from None
        queue_hinted(hints, connection, hinted)
        counts.accepted += 1
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post(PATH, webhook)
    return app
