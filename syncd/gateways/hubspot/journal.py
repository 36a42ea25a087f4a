"""HubSpot's Webhooks Journal (2026-03), read by offset: change hints with no inbound port.

The journal keeps the change events an app subscribed to for three days, in order, each
entry a file at a short-lived URL; an entry's ``currentOffset`` names the place after it.
:meth:`JournalReader.poll` asks for the entries after the stored offset, a page at a
time until a page comes back short, turns their events into ids with the webhook events'
mapping, hands them on, and only then stores the new offset: a crash in between reads
the entries again, which costs reads by id and nothing else. When nothing happened, a
poll is one request (an empty page).

With no offset stored yet, reading starts at the newest entry: older changes are
polling's. A journal with no entry at all (HubSpot answers 404) is read from its
earliest entry from then on, since everything that comes is new (an empty offset is
kept for that, so a restart does not lose it).

Every journal request carries the app's client-credentials token and names the portal
(:mod:`syncd.gateways.hubspot.app_token`); a token HubSpot refuses is asked for again
once, at once.

An offset HubSpot no longer knows (older than its retention) answers 404: it is then
forgotten and the next poll starts at the newest entry again, while polling finds the
changes in between, as it always would.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from syncd.errors import AuthError, TransientError
from syncd.gateways.hubspot.app_token import AppToken
from syncd.gateways.hubspot.change_events import Hinted, NotEvents, hinted_by
from syncd.gateways.hubspot.client import HubSpotClient, NotFound, Reply

LOG = logging.getLogger(__name__)

JOURNAL = "/webhooks-journal/journal-local/2026-03"
PAGE = 100  # entries asked for per request
FROM_EARLIEST = ""  # the offset kept while the journal had no entry: all that comes is new


@dataclass(frozen=True)
class JournalStore:
    """Where a connection's offset is kept (the state store, by the daemon)."""

    load: Callable[[], Awaitable[str | None]]
    save: Callable[[str | None], Awaitable[None]]


@dataclass
class JournalPoll:
    """What one poll did, for the log and tests."""

    entries: int = 0
    expired: bool = False  # the stored offset was unknown to HubSpot: forgotten


class JournalReader:
    """Reads one portal's journal from its stored offset and hands on what it hints."""

    def __init__(
        self,
        client: HubSpotClient,
        app: AppToken,
        store: JournalStore,
        hint: Callable[[Hinted], None],
        *,
        page: int = PAGE,
    ) -> None:
        self._client = client
        self._app = app
        self._store = store
        self._hint = hint
        self._page = page

    async def poll(self) -> JournalPoll:
        """Read every entry after the stored offset; see the module's docstring."""
        done = JournalPoll()
        offset = await self._store.load()
        if offset is None:
            newest = await self._newest_offset()
            await self._store.save(FROM_EARLIEST if newest is None else newest)
            return done
        while True:
            try:
                reply = await self._get(_after(offset, self._page))
            except NotFound:
                LOG.warning("the journal no longer has offset %s: polling covers the gap", offset)
                await self._store.save(None)
                done.expired = True
                return done
            entries = _results(reply.body)
            for entry in entries:
                self._hint(await self._hinted_in(entry))
            if entries:
                offset = str(entries[-1]["currentOffset"])
                await self._store.save(offset)
                done.entries += len(entries)
            if len(entries) < self._page:
                return done

    async def _newest_offset(self) -> str | None:
        try:
            reply = await self._get(f"{JOURNAL}/latest")
        except NotFound:  # nothing in the journal yet
            return None
        newest = reply.body.get("currentOffset") if isinstance(reply.body, dict) else None
        if not newest:
            raise TransientError("HubSpot's journal named its newest entry without an offset")
        return str(newest)

    async def _get(self, path: str) -> Reply:
        """One journal request with the app's token; a refused token is renewed once."""
        for last_try in (False, True):
            try:
                return await self._client.call(
                    "GET",
                    path,
                    params={"installPortalId": str(self._app.portal_id)},
                    token=await self._app.bearer(),
                )
            except AuthError:
                self._app.forget()
                if last_try:
                    raise
        raise AssertionError("unreachable: the last try returns or raises")

    async def _hinted_in(self, entry: dict[str, Any]) -> Hinted:
        body = await self._client.download(str(entry["url"]))
        try:
            return hinted_by([body] if isinstance(body, dict) else body)
        except NotEvents as error:
            raise TransientError(
                f"HubSpot journal entry {entry['currentOffset']}: {error}"
            ) from None


def _after(offset: str, count: int) -> str:
    if offset == FROM_EARLIEST:
        return f"{JOURNAL}/batch/earliest/{count}"
    return f"{JOURNAL}/batch/{offset}/next/{count}"


def _results(body: Any) -> list[dict[str, Any]]:
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list) or not all(
        isinstance(r, dict) and "currentOffset" in r and "url" in r for r in results
    ):
        raise TransientError("HubSpot's journal answered without a list of entries")
    return results
