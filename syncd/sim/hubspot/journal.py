"""The simulator's Webhooks Journal (2026-03): the change events it would send as
webhooks, kept for an app to pull by offset, as HubSpot keeps them.

Each change is one entry: a ``currentOffset`` (a UUID naming the place after it), and a
``url`` where the entry's file (a JSON array of events, the webhook events' shape) can be
fetched until ``expiresAt``. Entries older than the retention window (HubSpot keeps three
days) are gone; an offset the journal does not know, or no longer knows, answers 404 with
HubSpot's error body. The file URL stands for a pre-signed storage link: it needs no token,
refuses one (400, as storage refuses a second way to authenticate), and expires (403).

Served (with the API's token, counted and throttled like the rest)::

    GET /webhooks-journal/journal-local/2026-03/earliest | latest      one entry, or 404
    GET /webhooks-journal/journal-local/2026-03/batch/earliest/{count} | latest/{count}
    GET /webhooks-journal/journal-local/2026-03/batch/{offset}/next/{count}
    GET /_sim/journal-files/{offset}?expires=<ms>                       the entry's events

and the same under ``/webhooks-journal/journal/2026-03`` (one portal: the same entries).
Not served: ``offset/{offset}/next``, ``batch/read``, snapshots and the subscription API
(the simulator's journal holds every change, as if subscribed to all of them).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from syncd.sim.hubspot.properties import format_datetime
from syncd.sim.hubspot.responses import error_response
from syncd.sim.hubspot.webhooks import change_event

RETENTION = 3 * 24 * 3600.0  # seconds HubSpot keeps an entry
LINK_LIFETIME = 300.0  # seconds a file URL works (HubSpot names no figure: a guess)
FILES = "/_sim/journal-files/{offset}"
_JOURNALS = ("/webhooks-journal/journal-local/2026-03", "/webhooks-journal/journal/2026-03")


@dataclass(frozen=True)
class Entry:
    offset: str
    at: float  # seconds since the epoch
    events: list[dict[str, Any]]


@dataclass
class SimJournal:
    """Every change of the simulated portal, in order, within the retention window."""

    retention: float = RETENTION
    clock: Callable[[], float] = time.time
    entries: list[Entry] = field(default_factory=list)
    _event_ids: int = 0

    def record(self, subscription_type: str, object_id: str, **more: Any) -> None:
        self._event_ids += 1
        event = change_event(subscription_type, object_id, self._event_ids, **more)
        self.entries.append(Entry(str(uuid.uuid4()), self.clock(), [event]))

    def kept(self) -> list[Entry]:
        """The entries still within the retention window (older ones are dropped)."""
        oldest = self.clock() - self.retention
        self.entries = [entry for entry in self.entries if entry.at >= oldest]
        return self.entries

    def after(self, offset: str) -> list[Entry] | None:
        """The entries after ``offset``; None when the journal does not know it."""
        entries = self.kept()
        places = [i for i, entry in enumerate(entries) if entry.offset == offset]
        return entries[places[0] + 1 :] if places else None

    def add_to(self, app: web.Application) -> None:
        for base in _JOURNALS:
            app.router.add_get(f"{base}/earliest", self._earliest)
            app.router.add_get(f"{base}/latest", self._latest)
            app.router.add_get(f"{base}/batch/earliest/{{count}}", self._batch_earliest)
            app.router.add_get(f"{base}/batch/latest/{{count}}", self._batch_latest)
            app.router.add_get(f"{base}/batch/{{offset}}/next/{{count}}", self._batch_next)
        app.router.add_get(FILES, self._file)

    # -- the API ------------------------------------------------------------------------

    async def _earliest(self, request: web.Request) -> web.Response:
        return self._one(request, self.kept()[:1])

    async def _latest(self, request: web.Request) -> web.Response:
        return self._one(request, self.kept()[-1:])

    async def _batch_earliest(self, request: web.Request) -> web.Response:
        return self._batch(request, self.kept()[: _count(request)])

    async def _batch_latest(self, request: web.Request) -> web.Response:
        count = _count(request)
        return self._batch(request, self.kept()[-count:])

    async def _batch_next(self, request: web.Request) -> web.Response:
        count, offset = _count(request), request.match_info["offset"]
        entries = self.after(offset)
        if entries is None:
            return _unknown(offset)
        return self._batch(request, entries[:count])

    def _one(self, request: web.Request, entries: list[Entry]) -> web.Response:
        if not entries:
            return error_response(404, "OBJECT_NOT_FOUND", "The journal has no entries")
        return web.json_response(self._fetched(request, entries[0]))

    def _batch(self, request: web.Request, entries: list[Entry]) -> web.Response:
        now = format_datetime(datetime.now(UTC))
        return web.json_response(
            {
                "status": "COMPLETE",
                "results": [self._fetched(request, entry) for entry in entries],
                "requestedAt": now,
                "startedAt": now,
                "completedAt": now,
            }
        )

    def _fetched(self, request: web.Request, entry: Entry) -> dict[str, str]:
        """A JournalFetchResponse: where the entry's file is, until when, and its offset."""
        expires = self.clock() + LINK_LIFETIME
        path = FILES.replace("{offset}", entry.offset)
        return {
            "currentOffset": entry.offset,
            "expiresAt": format_datetime(datetime.fromtimestamp(expires, UTC)),
            "url": f"{request.url.origin()}{path}?expires={int(expires * 1000)}",
        }

    # -- the file store -----------------------------------------------------------------

    async def _file(self, request: web.Request) -> web.Response:
        if "Authorization" in request.headers:
            raise web.HTTPBadRequest(text="Only one auth mechanism allowed\n")
        expires = request.query.get("expires", "")
        if not expires.isdigit() or int(expires) / 1000 < self.clock():
            raise web.HTTPForbidden(text="Request has expired\n")
        offset = request.match_info["offset"]
        for entry in self.kept():
            if entry.offset == offset:
                return web.json_response(entry.events)
        raise web.HTTPNotFound(text="The specified key does not exist.\n")


def _count(request: web.Request) -> int:
    count = int(request.match_info["count"])  # not a number: the middleware's 400
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    return count


def _unknown(offset: str) -> web.Response:
    return error_response(
        404,
        "OBJECT_NOT_FOUND",
        f"Offset {offset} does not exist or has expired",
    )
