"""The HubSpot simulator: a simulated portal's companies, contacts and their associations,
settings, faults and request counts, its Python control API, and the aiohttp app that
serves them.

Public API (both path families over one store, ``/crm/v3/objects/companies`` and the dated
``/crm/objects/{YYYY-MM}/companies``; properties under ``/crm/v3/properties/companies``
and ``/crm/properties/{YYYY-MM}/companies``)::

    GET    /companies                 list (limit <= 100, opaque after, archived=true)
    POST   /companies                 create (201)
    GET    /companies/{id}            read (idProperty, archived; a merged id -> survivor)
    PATCH  /companies/{id}            update ("" clears a value)
    DELETE /companies/{id}            archive (204)
    POST   /companies/batch/read      200, or 207 with OBJECT_NOT_FOUND for unknown ids
    POST   /companies/batch/create    201; 207 per input when every input has an
                                      objectWriteTraceId, else one bad input fails all (400)
    POST   /companies/batch/update    200 / 207; results carry only the properties written
    POST   /companies/batch/upsert    200 / 207, results carry "new"
    POST   /companies/batch/archive   204
    POST   /companies/search          see :mod:`syncd.sim.hubspot.search`
    POST   /companies/merge           the survivor

Contacts are served the same way under ``/crm/v3/objects/contacts`` and
``/crm/objects/{YYYY-MM}/contacts`` (no merge), with their properties under
``.../properties/contacts``; an e-mail another contact has answers 409. Associations v4
between contacts and companies (:mod:`syncd.sim.hubspot.routes.associations`)::

    POST   /crm/v4/associations/{from}/{to}/batch/read | create | archive
    POST   /crm/v4/associations/{from}/{to}/batch/associate/default
    PUT    /crm/v4/objects/{from}/{id}/associations/default/{to}/{id}

The Webhooks Journal (``/webhooks-journal/journal-local/2026-03/...``) holds every
change, as :mod:`syncd.sim.hubspot.journal` says.

Every request needs ``Authorization: Bearer <token>`` (any token, unless the simulator
was given one; else 401 with HubSpot's body); the journal's need the installed app's
client-credentials token instead (:mod:`syncd.sim.hubspot.app_tokens`). Rate limits,
when set, answer 429 with the real bodies (:mod:`syncd.sim.hubspot.rate_limits`).

Control API, under ``/_sim`` (no token)::

    GET|PATCH /_sim/config            search_lag, search_jitter, latency, ten_second_limit,
                                      search_per_second, daily_limit, retry_after,
                                      merge_new_id, unset_as_null
    POST   /_sim/reset                forget every company, fault and count
    POST   /_sim/companies            seed {"companies": [{"id"?, "properties",
                                      "modified"?, "archived"?}]}: stored as they are,
                                      visible to search at once
    GET    /_sim/companies/{id}       the stored company, archived or merged too
    PATCH  /_sim/companies/{id}       a user edits {"properties": {...}} (search lags)
    POST   /_sim/companies/{id}/archive | /restore
    POST   /_sim/merge                {"primary", "other", "new_id"?}
    POST   /_sim/properties           add or replace a property definition (HubSpot JSON)
    POST   /_sim/faults               {"method"?, "path"?, "status"?, "body"?,
                                      "drop"?: answer lost after the work is done,
                                      "delay"?, "count"?, "skip"?: matching requests
                                      let through first, "edit"?: {"id", "properties"}
                                      a user edit made just before the request is
                                      answered (a listing that changes between pages)};
                                      DELETE clears them. A 429 without a body is the
                                      ten-secondly one, or the secondly one on search
    GET    /_sim/requests             request counts by "METHOD operation"; DELETE resets
    GET    /_sim/log                  every API request: times, path, User-Agent
    POST   /_sim/contacts             seed contacts, as companies are seeded
    GET    /_sim/contacts/{id}        the stored contact
    PATCH  /_sim/contacts/{id}        a user edits a contact
    POST   /_sim/contacts/{id}/archive | /restore
    POST   /_sim/associations         {"contact", "company", "primary"?}: a user
                                      associates them
    PUT    /_sim/webhooks             {"target_url", "client_secret", "first_retry"?,
                                      ...}: send changes there as HubSpot's webhooks
                                      (:mod:`syncd.sim.hubspot.webhooks`); GET counts
                                      deliveries, DELETE stops them
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import fields
from datetime import datetime
from typing import Any

from aiohttp import web

from syncd.sim.hubspot.app_tokens import SimApp
from syncd.sim.hubspot.associations import Associations
from syncd.sim.hubspot.faults import Fault
from syncd.sim.hubspot.journal import SimJournal
from syncd.sim.hubspot.kinds import COMPANIES, CONTACTS, ObjectKind
from syncd.sim.hubspot.middlewares import ApiMiddlewares, Exchange
from syncd.sim.hubspot.portal import Company, Invalid, NotFound, Portal
from syncd.sim.hubspot.properties import parse_datetime
from syncd.sim.hubspot.rate_limits import RateLimits
from syncd.sim.hubspot.request_parsing import written_properties
from syncd.sim.hubspot.routes.associations import AssociationRoutes
from syncd.sim.hubspot.routes.batch import BatchRoutes
from syncd.sim.hubspot.routes.companies import CompanyRoutes
from syncd.sim.hubspot.routes.control import ControlRoutes
from syncd.sim.hubspot.search import RememberedSearches, SearchLimits, search_lookup
from syncd.sim.hubspot.settings import SimConfig
from syncd.sim.hubspot.telling import TellingPortal
from syncd.sim.hubspot.webhooks import Subscription, WebhookSender
from syncd.sim.requestlog import RequestLog

OBJECTS_V3 = "/crm/v3/objects/{objects}"
OBJECTS_DATED = "/crm/objects/{version:[0-9]{4}-[0-9]{2}}/{objects}"
PROPERTIES_V3 = "/crm/v3/properties/{objects}"
PROPERTIES_DATED = "/crm/properties/{version:[0-9]{4}-[0-9]{2}}/{objects}"
# Writes shown to search per turn of the background indexing, so requests keep flowing.
INDEXED_PER_TURN = 200


class HubSpotSimulator:
    """A simulated HubSpot portal: its companies, settings, faults and request counts."""

    def __init__(
        self,
        *,
        token: str | None = None,
        config: SimConfig | None = None,
        limits: SearchLimits | None = None,
        record: bool = False,
        app: SimApp | None = None,
    ) -> None:
        self.token = token
        self.config = config or SimConfig()
        self.limits = limits or SearchLimits()
        self.portal = TellingPortal(
            search_lag=self.config.search_lag, search_jitter=self.config.search_jitter
        )
        self.contacts = TellingPortal(
            search_lag=self.config.search_lag,
            search_jitter=self.config.search_jitter,
            kind=CONTACTS,
        )
        self.associations = Associations(self.contacts, self.portal)
        self.searches = RememberedSearches(self._search_version)
        self.contact_searches = RememberedSearches(self._contact_search_version)
        self.faults: list[Fault] = []
        self.counts: Counter[str] = Counter()
        self.request_log = RequestLog()
        self.record = record
        self.exchanges: list[Exchange] = []
        self.rate_limits = RateLimits(self.config)
        self._runner: web.AppRunner | None = None
        self._indexing: asyncio.Future[None] | None = None
        self.url = ""
        self.webhooks: WebhookSender | None = None  # off unless subscribed
        self.journal = SimJournal()  # every change, for an app to pull
        self.installed_app = app or SimApp()  # its client-credentials tokens read the journal
        self._tell_webhooks()

    # -- webhooks -------------------------------------------------------------------------

    async def subscribe_webhooks(self, subscription: Subscription) -> WebhookSender:
        """From now on, changes are sent to ``subscription``'s target URL as HubSpot sends
        them (:mod:`syncd.sim.hubspot.webhooks`); a subscription before replaces it."""
        await self.unsubscribe_webhooks()
        self.webhooks = WebhookSender(subscription)
        self._tell_webhooks()
        return self.webhooks

    def _tell_webhooks(self) -> None:
        for source in (self.portal, self.contacts, self.associations):
            source.changes = self._changed

    def _changed(self, subscription_type: str, object_id: str, **more: Any) -> None:
        """A change goes to the journal, and to the webhook subscriber if there is one."""
        self.journal.record(subscription_type, object_id, **more)
        if self.webhooks is not None:
            self.webhooks.notify(subscription_type, object_id, **more)

    async def unsubscribe_webhooks(self) -> None:
        if self.webhooks is not None:
            await self.webhooks.aclose()
            self.webhooks = None
        self._tell_webhooks()

    # -- the user and operator API (also served under /_sim) ------------------------------

    def seed(
        self,
        properties: Mapping[str, str | None],
        *,
        company_id: str | None = None,
        modified: datetime | None = None,
        archived: bool = False,
    ) -> str:
        """Store a company as it is (visible to search at once); returns its id."""
        values = {k: v for k, v in properties.items() if v is not None}
        return self.portal.seed(
            values, company_id=company_id, modified=modified, archived=archived
        ).id

    def seed_from_json(self, item: Mapping[str, Any]) -> str:
        """Seed one company given as ``{"id"?, "properties", "modified"?, "archived"?}``."""
        modified = parse_datetime(str(item["modified"])) if item.get("modified") else None
        return self.seed(
            item.get("properties") or {},
            company_id=str(item["id"]) if item.get("id") else None,
            modified=modified,
            archived=bool(item.get("archived", False)),
        )

    def edit(self, company_id: str, properties: Mapping[str, str | None]) -> None:
        """A user edits a company in HubSpot's UI (checked; search sees it after the lag)."""
        company = self.portal.get(company_id)
        self.portal.update(company, {k: v or "" for k, v in properties.items()})

    def archive(self, company_id: str) -> None:
        self.portal.archive(self.portal.get(company_id))

    def index_for_search(self, *names: str) -> None:
        """Show search every write that is due, and build now the indexes that filters on
        the properties ``names`` search by. HubSpot's are always there; the simulator's are
        built when first used, then kept up to date."""
        self.portal.search_view()
        for name in names:
            search_lookup(self.portal.properties[name], self.portal.view_lookup)

    def restore(self, company_id: str) -> None:
        self.portal.restore(company_id)

    def merge(self, primary: str, other: str, *, new_id: bool | None = None) -> str:
        """A user merges ``other`` into ``primary``; returns the survivor's id."""
        fresh = self.config.merge_new_id if new_id is None else new_id
        return self.portal.merge(primary, other, new_id=fresh).id

    def company(self, company_id: str) -> Company:
        """The stored company, whatever its state (KeyError if there is none)."""
        return self.portal.companies[company_id]

    # -- contacts and their associations ----------------------------------------------------

    def seed_contact(
        self,
        properties: Mapping[str, str | None],
        *,
        contact_id: str | None = None,
        modified: datetime | None = None,
        archived: bool = False,
    ) -> str:
        """Store a contact as it is (visible to search at once); returns its id."""
        values = {k: v for k, v in properties.items() if v is not None}
        return self.contacts.seed(
            values, company_id=contact_id, modified=modified, archived=archived
        ).id

    def edit_contact(self, contact_id: str, properties: Mapping[str, str | None]) -> None:
        """A user edits a contact (checked; search sees it after the lag)."""
        contact = self.contacts.get(contact_id)
        self.contacts.update(contact, {k: v or "" for k, v in properties.items()})

    def contact(self, contact_id: str) -> Company:
        """The stored contact, whatever its state (KeyError if there is none)."""
        return self.contacts.companies[contact_id]

    def associate(self, contact_id: str, company_id: str, *, primary: bool = False) -> None:
        """A user associates a contact with a company (as its primary company, if asked)."""
        unlabeled, first = self.associations.type_ids(CONTACTS, COMPANIES)
        self.associations.associate(
            CONTACTS, contact_id, company_id, [first] if primary else [unlabeled]
        )

    def create_with_associations(self, kind: ObjectKind, body: Mapping[str, Any]) -> Company:
        """Create a record of ``kind`` with the ``associations`` its create body carries
        (their records checked first, so a bad one creates nothing)."""
        portal = self.portal_of(kind)
        wanted = [
            (str(a["to"]["id"]), [int(t["associationTypeId"]) for t in a.get("types") or []])
            for a in body.get("associations") or []
        ]
        other_kind = CONTACTS if kind is COMPANIES else COMPANIES
        other = self.portal_of(other_kind)
        allowed = set(self.associations.type_ids(kind, other_kind)) if wanted else set()
        for to_id, type_ids in wanted:
            try:
                other.get(to_id)
            except NotFound:
                raise Invalid(f"Cannot associate with {to_id}: no such object") from None
            if not set(type_ids) <= allowed:
                raise Invalid(f"association types {type_ids} are not {kind.singular} types")
        record = portal.create(written_properties(body))
        for to_id, type_ids in wanted:
            self.associations.associate(kind, record.id, to_id, type_ids)
        return record

    def portal_of(self, kind: ObjectKind) -> Portal:
        return self.contacts if kind is CONTACTS else self.portal

    def searches_of(self, kind: ObjectKind) -> RememberedSearches:
        return self.contact_searches if kind is CONTACTS else self.searches

    def fail(self, fault: Fault) -> None:
        self.faults.append(fault)

    def configure(self, **changes: Any) -> None:
        for name, value in changes.items():
            if name not in {f.name for f in fields(SimConfig)}:
                raise ValueError(f"unknown setting {name!r}")
            setattr(self.config, name, value)
        for portal in (self.portal, self.contacts):
            portal.search_lag = self.config.search_lag
            portal.search_jitter = self.config.search_jitter

    def reset(self) -> None:
        self.portal = TellingPortal(
            properties=self.portal.properties,
            search_lag=self.config.search_lag,
            search_jitter=self.config.search_jitter,
        )
        self.contacts = TellingPortal(
            properties=self.contacts.properties,
            search_lag=self.config.search_lag,
            search_jitter=self.config.search_jitter,
            kind=CONTACTS,
        )
        self.associations = Associations(self.contacts, self.portal)
        self._tell_webhooks()  # a subscription outlives a reset, as an app's does
        self.journal.entries.clear()
        self.searches = RememberedSearches(self._search_version)
        self.contact_searches = RememberedSearches(self._contact_search_version)
        self.faults.clear()
        self.counts.clear()
        self.request_log.clear()
        self.exchanges.clear()

    def _search_version(self) -> tuple[int, int]:
        """Changes whenever a search could answer otherwise: what search sees, or the
        properties it can filter on (a reset starts a new memory of its own)."""
        return self.portal.view_version, len(self.portal.properties)

    def _contact_search_version(self) -> tuple[int, int]:
        return self.contacts.view_version, len(self.contacts.properties)

    # -- running ----------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(
            middlewares=ApiMiddlewares(self).in_order(),
            client_max_size=16 * 1024 * 1024,
        )
        for kind in (COMPANIES, CONTACTS):
            records, batches = CompanyRoutes(self, kind), BatchRoutes(self, kind)
            for objects in (OBJECTS_V3, OBJECTS_DATED):
                batches.add_to(app, objects.replace("{objects}", kind.plural))
                records.add_to(app, objects.replace("{objects}", kind.plural))
            for properties in (PROPERTIES_V3, PROPERTIES_DATED):
                app.router.add_get(properties.replace("{objects}", kind.plural), records.properties)
        AssociationRoutes(self).add_to(app)
        self.journal.add_to(app)
        self.installed_app.add_to(app)
        ControlRoutes(self).add_to(app)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host``:``port`` (0: any free port); returns the base URL."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{bound[0]}:{bound[1]}"
        self._indexing = asyncio.ensure_future(self._index_in_background())
        return self.url

    async def close(self) -> None:
        await self.unsubscribe_webhooks()
        if self._indexing is not None:
            self._indexing.cancel()
            await asyncio.gather(self._indexing, return_exceptions=True)
            self._indexing = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _index_in_background(self) -> None:
        """HubSpot indexes writes for search apart from answering searches; so does the
        simulator, a few at a time between requests, so that a search does not pay for
        showing every write made before it."""
        while True:
            more = self.portal.publish_due(at_most=INDEXED_PER_TURN)
            more = self.contacts.publish_due(at_most=INDEXED_PER_TURN) or more
            await asyncio.sleep(0 if more else 0.05)


@asynccontextmanager
async def running(simulator: HubSpotSimulator) -> AsyncIterator[str]:
    """The simulator served on a free loopback port for the block; yields its URL."""
    url = await simulator.start()
    try:
        yield url
    finally:
        await simulator.close()
