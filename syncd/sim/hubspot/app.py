"""The HubSpot simulator as an aiohttp app: the companies API syncd uses, and a control API.

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

Every request needs ``Authorization: Bearer <token>`` (any token, unless the simulator
was given one; else 401 with HubSpot's body). Rate limits, when set, answer 429 with the
real bodies (``policyName`` ``TEN_SECONDLY_ROLLING``, ``SECONDLY`` for search, ``DAILY``)
and send the ``X-HubSpot-RateLimit-*`` headers on non-search responses.

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
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from syncd.sim.hubspot.portal import (
    Company,
    Invalid,
    NotFound,
    Portal,
    PortalError,
)
from syncd.sim.hubspot.properties import PropertyDef, format_datetime, parse_datetime
from syncd.sim.hubspot.search import Remembered, SearchLimits, run_search, search_lookup
from syncd.sim.latency import answered_after
from syncd.sim.requestlog import RequestLog

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

OBJECTS_V3 = "/crm/v3/objects/companies"
OBJECTS_DATED = "/crm/objects/{version:[0-9]{4}-[0-9]{2}}/companies"
PROPERTIES_V3 = "/crm/v3/properties/companies"
PROPERTIES_DATED = "/crm/properties/{version:[0-9]{4}-[0-9]{2}}/companies"
BATCH_LIMIT = 100
LIST_LIMIT = 100


@dataclass
class SimConfig:
    """What the control API can change; None switches a limit off."""

    search_lag: float = 0.0
    search_jitter: float = 0.0
    latency: float = 0.0  # the least time a request takes, its work included
    ten_second_limit: int | None = None
    search_per_second: int | None = None
    daily_limit: int | None = None
    retry_after: bool = False
    merge_new_id: bool = False
    unset_as_null: bool = True  # requested but unset properties: null (HubSpot) or left out


REALISTIC = SimConfig(
    search_lag=3.0,
    search_jitter=2.0,
    ten_second_limit=100,
    search_per_second=5,
    daily_limit=250_000,
)
"""Free/Starter private-app limits and a few seconds of search lag (the standalone default)."""


@dataclass
class Fault:
    """An injected failure for the next ``count`` matching requests."""

    method: str | None = None
    path: str | None = None  # a substring of the path
    status: int | None = None
    body: Mapping[str, Any] | None = None
    drop: bool = False  # do the work, then lose the answer
    delay: float = 0.0
    count: int = 1
    skip: int = 0  # matching requests let through before the fault fires
    edit: Mapping[str, Any] | None = None  # {"id", "properties"}: a user edits first

    def matches(self, request: web.Request) -> bool:
        return (self.method is None or self.method.upper() == request.method) and (
            self.path is None or self.path in request.path
        )


@dataclass
class Exchange:
    """One request and its answer, recorded for checks against the OpenAPI files."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    response: Any
    headers: dict[str, str] = field(default_factory=dict)


class HubSpotSimulator:
    """A simulated HubSpot portal: its companies, settings, faults and request counts."""

    def __init__(
        self,
        *,
        token: str | None = None,
        config: SimConfig | None = None,
        limits: SearchLimits | None = None,
        record: bool = False,
    ) -> None:
        self.token = token
        self.config = config or SimConfig()
        self.limits = limits or SearchLimits()
        self.portal = Portal(
            search_lag=self.config.search_lag, search_jitter=self.config.search_jitter
        )
        self._searched = Remembered(self._search_version)
        self.faults: list[Fault] = []
        self.counts: Counter[str] = Counter()
        self.request_log = RequestLog()
        self.record = record
        self.exchanges: list[Exchange] = []
        self._windows: dict[str, deque[float]] = {"ten": deque(), "search": deque()}
        self._daily: tuple[str, int] = ("", 0)
        self._runner: web.AppRunner | None = None
        self._indexing: asyncio.Future[None] | None = None
        self.url = ""

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

    def edit(self, company_id: str, properties: Mapping[str, str | None]) -> None:
        """A user edits a company in HubSpot's UI (checked; search sees it after the lag)."""
        company = self.portal.get(company_id)
        self.portal.update(company, {k: v or "" for k, v in properties.items()})

    def archive(self, company_id: str) -> None:
        self.portal.archive(self.portal.get(company_id))

    def index_for_search(self, *names: str) -> None:
        """Show search every write that is due, and build now the indexes that filters on
        the properties ``names`` search by. HubSpot's are always there; the simulator's are
        built when first used (a second at 100,000 companies), then kept up to date."""
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

    def fail(self, fault: Fault) -> None:
        self.faults.append(fault)

    def configure(self, **changes: Any) -> None:
        for name, value in changes.items():
            if name not in {f.name for f in fields(SimConfig)}:
                raise ValueError(f"unknown setting {name!r}")
            setattr(self.config, name, value)
        self.portal.search_lag = self.config.search_lag
        self.portal.search_jitter = self.config.search_jitter

    def reset(self) -> None:
        self.portal = Portal(
            properties=self.portal.properties,
            search_lag=self.config.search_lag,
            search_jitter=self.config.search_jitter,
        )
        self._searched = Remembered(self._search_version)
        self.faults.clear()
        self.counts.clear()
        self.request_log.clear()
        self.exchanges.clear()

    # -- running ----------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(
            middlewares=[self._outermost, self._errors, self._guard],
            client_max_size=16 * 1024 * 1024,
        )
        for prefix in (OBJECTS_V3, OBJECTS_DATED):
            self._public_routes(app, prefix)
        for prefix in (PROPERTIES_V3, PROPERTIES_DATED):
            app.router.add_get(prefix, self._properties)
        self._control_routes(app)
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
        if self._indexing is not None:
            self._indexing.cancel()
            await asyncio.gather(self._indexing, return_exceptions=True)
            self._indexing = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _index_in_background(self) -> None:
        """HubSpot indexes writes for search apart from answering searches; so does the
        simulator, a few hundred at a time between requests, so that a search does not
        pay for showing the writes before it (a first sync writes tens of thousands)."""
        while True:
            more = self.portal.publish_due(at_most=200)
            await asyncio.sleep(0 if more else 0.05)

    # -- middlewares ------------------------------------------------------------------------

    @web.middleware
    async def _outermost(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Control requests: errors as plain bodies. Public ones: recorded when asked."""
        if request.path.startswith("/_sim"):
            try:
                return await handler(request)
            except PortalError as exc:
                return _error(exc.status, exc.category, exc.message)
            except (ValueError, KeyError, TypeError) as exc:
                return _error(400, "VALIDATION_ERROR", str(exc))
        return await self.request_log.served(request, lambda r: self._public(r, handler))

    async def _public(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await _body(request)
        response = await handler(request)
        if self.record and isinstance(response, web.Response):
            text = response.text
            self.exchanges.append(
                Exchange(
                    request.method,
                    request.path,
                    dict(request.query),
                    body,
                    response.status,
                    json.loads(text) if text else None,
                    dict(response.headers),
                )
            )
        return response

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Portal errors and malformed input as HubSpot's error bodies."""
        try:
            return await handler(request)
        except PortalError as exc:
            return _error(exc.status, exc.category, exc.message, exc.errors, exc.context)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            return _error(400, "VALIDATION_ERROR", f"Invalid input JSON: {exc}")

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Count, delay, authenticate, throttle and inject faults, as configured."""
        if request.path.startswith("/_sim"):
            return await handler(request)
        self.counts[_operation(request)] += 1
        return await answered_after(self.config.latency, self._guarded(request, handler))

    async def _guarded(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        denied = self._authenticate(request) or self._throttle(request)
        if denied is not None:
            return denied
        fault = self._take_fault(request)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.edit is not None:
            self.edit(str(fault.edit["id"]), fault.edit["properties"])
        if fault is not None and fault.status == 429 and fault.body is None:
            if request.path.endswith("/search"):
                return self._too_many("SECONDLY", "You have reached your secondly limit.")
            return self._too_many(
                "TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit."
            )
        if fault is not None and fault.status is not None:
            return _fault_response(fault)
        response = await handler(request)
        if fault is not None and fault.drop:
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError
        if not request.path.endswith("/search"):
            self._rate_headers(response)
        if not self.config.unset_as_null and isinstance(response, web.Response):
            _omit_nulls(response)
        return response

    def _authenticate(self, request: web.Request) -> web.Response | None:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme == "Bearer" and given and (self.token is None or given == self.token):
            return None
        return _error(
            401,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 "
            "authentication and you can find more details at "
            "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        )

    def _throttle(self, request: web.Request) -> web.Response | None:
        now = time.monotonic()
        if request.path.endswith("/search"):
            if _over(self._windows["search"], now, 1.0, self.config.search_per_second):
                return self._too_many("SECONDLY", "You have reached your secondly limit.")
            return None
        day = datetime.now(UTC).date().isoformat()
        used = self._daily[1] if self._daily[0] == day else 0
        if self.config.daily_limit is not None and used >= self.config.daily_limit:
            return self._too_many("DAILY", "You have reached your daily limit.")
        if _over(self._windows["ten"], now, 10.0, self.config.ten_second_limit):
            return self._too_many(
                "TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit."
            )
        self._daily = (day, used + 1)
        return None

    def _too_many(self, policy: str, message: str) -> web.Response:
        group = {
            "SECONDLY": "publicapi:private-app-secondly",
            "TEN_SECONDLY_ROLLING": "publicapi:private-app-api-calls-ten-secondly",
            "DAILY": "publicapi:private-app-api-calls-daily",
        }[policy]
        body = {
            "status": "error",
            "message": message,
            "errorType": "RATE_LIMIT",
            "category": "RATE_LIMITS",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
            "groupName": f"{group}:1234567",
        }
        headers = {"Retry-After": "1" if policy != "TEN_SECONDLY_ROLLING" else "10"}
        return web.json_response(
            body, status=429, headers=headers if self.config.retry_after else None
        )

    def _rate_headers(self, response: web.StreamResponse) -> None:
        limit = self.config.ten_second_limit
        if limit is not None:
            response.headers["X-HubSpot-RateLimit-Max"] = str(limit)
            remaining = max(0, limit - len(self._windows["ten"]))
            response.headers["X-HubSpot-RateLimit-Remaining"] = str(remaining)
            response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = "10000"
        if self.config.daily_limit is not None:
            response.headers["X-HubSpot-RateLimit-Daily"] = str(self.config.daily_limit)
            left = self.config.daily_limit - self._daily[1]
            response.headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(max(0, left))

    def _take_fault(self, request: web.Request) -> Fault | None:
        for fault in self.faults:
            if fault.matches(request):
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    # -- public routes ----------------------------------------------------------------------

    def _public_routes(self, app: web.Application, prefix: str) -> None:
        add = app.router.add_route
        add("GET", prefix, self._list)
        add("POST", prefix, self._create)
        add("POST", f"{prefix}/search", self._search)
        add("POST", f"{prefix}/merge", self._merge)
        add("POST", f"{prefix}/batch/read", self._batch_read)
        add("POST", f"{prefix}/batch/create", self._batch_create)
        add("POST", f"{prefix}/batch/update", self._batch_update)
        add("POST", f"{prefix}/batch/upsert", self._batch_upsert)
        add("POST", f"{prefix}/batch/archive", self._batch_archive)
        add("GET", prefix + "/{company_id}", self._read)
        add("PATCH", prefix + "/{company_id}", self._update)
        add("DELETE", prefix + "/{company_id}", self._delete)

    async def _properties(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"results": [p.to_json() for p in self.portal.properties.values()]}
        )

    async def _list(self, request: web.Request) -> web.Response:
        query = request.query
        limit = int(query.get("limit", "10"))
        if not 1 <= limit <= LIST_LIMIT:
            raise Invalid(f"limit must be between 1 and {LIST_LIMIT}")
        after = _decode_after(query.get("after"))
        archived = query.get("archived", "false").lower() == "true"
        names = _names(query)
        chosen: list[Company] = []
        more = False
        for company in self.portal.live(archived=archived, after=after):
            if len(chosen) == limit:
                more = True
                break
            chosen.append(company)
        body: dict[str, Any] = {"results": [c.public(names) for c in chosen]}
        if more:
            token = _encode_after(chosen[-1].id)
            body["paging"] = {"next": {"after": token, "link": f"?after={token}"}}
        return web.json_response(body)

    async def _read(self, request: web.Request) -> web.Response:
        query = request.query
        company = self.portal.get_by(
            query.get("idProperty"),
            request.match_info["company_id"],
            archived=query.get("archived", "false").lower() == "true",
        )
        return web.json_response(company.public(_names(query)))

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        company = self.portal.create(_properties(body))
        return web.json_response(company.public(company.properties), status=201)

    async def _update(self, request: web.Request) -> web.Response:
        body = await request.json()
        company = self.portal.get_by(
            request.query.get("idProperty"), request.match_info["company_id"]
        )
        self.portal.update(company, _properties(body))
        return web.json_response(company.public(company.properties))

    async def _delete(self, request: web.Request) -> web.Response:
        try:
            company = self.portal.get(request.match_info["company_id"])
        except NotFound:
            return web.Response(status=204)
        self.portal.archive(company)
        return web.Response(status=204)

    def _search_version(self) -> tuple[int, int]:
        """Changes whenever a search could answer otherwise: what search sees, or the
        properties it can filter on (a reset starts a new memory of its own)."""
        return self.portal.view_version, len(self.portal.properties)

    async def _search(self, request: web.Request) -> web.Response:
        body = await request.json()
        view = self.portal.search_view()
        found = run_search(
            view,
            body,
            self.portal.properties,
            self.limits,
            self.portal.view_lookup,
            self._searched,
        )
        return web.json_response(found)

    async def _merge(self, request: web.Request) -> web.Response:
        body = await request.json()
        survivor = self.merge(str(body["primaryObjectId"]), str(body["objectIdToMerge"]))
        company = self.portal.companies[survivor]
        return web.json_response(company.public(company.properties))

    async def _batch_read(self, request: web.Request) -> web.Response:
        body = await request.json()
        inputs = _inputs(body)
        archived = request.query.get("archived", "false").lower() == "true"
        id_property = body.get("idProperty")
        names = body.get("properties") or None
        found: dict[str, Company] = {}
        missing: list[str] = []
        for item in inputs:
            try:
                company = self.portal.get_by(id_property, str(item["id"]), archived=archived)
            except NotFound:
                missing.append(str(item["id"]))
                continue
            found.setdefault(company.id, company)
        errors = []
        if missing:
            errors.append(
                _standard_error(
                    "OBJECT_NOT_FOUND",
                    "Could not get some COMPANY objects, they may be deleted or not exist. "
                    "Check that ids are valid.",
                    {"ids": missing},
                )
            )
        return _batch([c.public(names) for c in found.values()], errors, 200)

    async def _batch_create(self, request: web.Request) -> web.Response:
        inputs = _inputs(await request.json())
        traced = all("objectWriteTraceId" in item for item in inputs)
        if not traced:
            for item in inputs:
                self.portal.check(_properties(item))
        results, errors = [], []
        for item in inputs:
            trace = item.get("objectWriteTraceId")
            try:
                company = self.portal.create(_properties(item))
            except PortalError as exc:
                errors.append(
                    _standard_error(exc.category, exc.message, {"objectWriteTraceId": [trace]})
                )
                continue
            public = company.public(company.properties)
            if trace is not None:
                public["objectWriteTraceId"] = trace
            results.append(public)
        return _batch(results, errors, 201)

    async def _batch_update(self, request: web.Request) -> web.Response:
        results, errors = [], []
        for item in _inputs(await request.json()):
            given = str(item["id"])
            try:
                company = self.portal.get_by(item.get("idProperty"), given)
                written = _properties(item)
                self.portal.update(company, written)
            except PortalError as exc:
                errors.append(_standard_error(exc.category, exc.message, {"ids": [given]}))
                continue
            # Like HubSpot: the properties written (as stored) and the server-kept ones,
            # not the whole company.
            public = company.public(written)
            if "objectWriteTraceId" in item:
                public["objectWriteTraceId"] = item["objectWriteTraceId"]
            results.append(public)
        return _batch(results, errors, 200)

    async def _batch_upsert(self, request: web.Request) -> web.Response:
        results, errors = [], []
        for item in _inputs(await request.json()):
            given, id_property = str(item["id"]), item.get("idProperty")
            prop = self.portal.properties.get(str(id_property))
            if prop is None or not prop.unique:
                raise Invalid(f"idProperty {id_property} is not a property with unique values")
            try:
                try:
                    company = self.portal.get_by(prop.name, given)
                    self.portal.update(company, _properties(item))
                    new = False
                except NotFound:
                    company = self.portal.create({**_properties(item), prop.name: given})
                    new = True
            except PortalError as exc:
                errors.append(_standard_error(exc.category, exc.message, {"ids": [given]}))
                continue
            results.append({**company.public(company.properties), "new": new})
        return _batch(results, errors, 200)

    async def _batch_archive(self, request: web.Request) -> web.Response:
        for item in _inputs(await request.json()):
            try:
                self.portal.archive(self.portal.get(str(item["id"])))
            except NotFound:
                continue
        return web.Response(status=204)

    # -- control routes ---------------------------------------------------------------------

    def _control_routes(self, app: web.Application) -> None:
        add = app.router.add_route
        add("GET", "/_sim/config", self._c_config)
        add("PATCH", "/_sim/config", self._c_configure)
        add("POST", "/_sim/reset", self._c_reset)
        add("POST", "/_sim/companies", self._c_seed)
        add("GET", "/_sim/companies/{company_id}", self._c_company)
        add("PATCH", "/_sim/companies/{company_id}", self._c_edit)
        add("POST", "/_sim/companies/{company_id}/archive", self._c_archive)
        add("POST", "/_sim/companies/{company_id}/restore", self._c_restore)
        add("POST", "/_sim/merge", self._c_merge)
        add("POST", "/_sim/properties", self._c_property)
        add("POST", "/_sim/faults", self._c_fault)
        add("DELETE", "/_sim/faults", self._c_clear_faults)
        add("GET", "/_sim/requests", self._c_counts)
        add("DELETE", "/_sim/requests", self._c_clear_counts)
        add("GET", "/_sim/log", self._c_log)

    async def _c_config(self, request: web.Request) -> web.Response:
        return web.json_response(asdict(self.config))

    async def _c_configure(self, request: web.Request) -> web.Response:
        self.configure(**await request.json())
        return web.json_response(asdict(self.config))

    async def _c_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.Response(status=204)

    async def _c_seed(self, request: web.Request) -> web.Response:
        ids = [self._seed_one(item) for item in (await request.json())["companies"]]
        return web.json_response({"ids": ids}, status=201)

    def _seed_one(self, item: Mapping[str, Any]) -> str:
        modified = parse_datetime(str(item["modified"])) if item.get("modified") else None
        return self.seed(
            item.get("properties") or {},
            company_id=str(item["id"]) if item.get("id") else None,
            modified=modified,
            archived=bool(item.get("archived", False)),
        )

    async def _c_company(self, request: web.Request) -> web.Response:
        company = self.company(request.match_info["company_id"])
        return web.json_response(
            {**company.public(company.properties), "mergedInto": company.merged_into}
        )

    async def _c_edit(self, request: web.Request) -> web.Response:
        self.edit(request.match_info["company_id"], (await request.json())["properties"])
        return web.Response(status=204)

    async def _c_archive(self, request: web.Request) -> web.Response:
        self.archive(request.match_info["company_id"])
        return web.Response(status=204)

    async def _c_restore(self, request: web.Request) -> web.Response:
        self.restore(request.match_info["company_id"])
        return web.Response(status=204)

    async def _c_merge(self, request: web.Request) -> web.Response:
        body = await request.json()
        survivor = self.merge(str(body["primary"]), str(body["other"]), new_id=body.get("new_id"))
        return web.json_response({"id": survivor})

    async def _c_property(self, request: web.Request) -> web.Response:
        prop = PropertyDef.from_json(await request.json())
        self.portal.properties[prop.name] = prop
        return web.json_response(prop.to_json(), status=201)

    async def _c_fault(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.fail(Fault(**body))
        return web.Response(status=204)

    async def _c_clear_faults(self, request: web.Request) -> web.Response:
        self.faults.clear()
        return web.Response(status=204)

    async def _c_counts(self, request: web.Request) -> web.Response:
        return web.json_response(dict(self.counts))

    async def _c_clear_counts(self, request: web.Request) -> web.Response:
        self.counts.clear()
        return web.Response(status=204)

    async def _c_log(self, request: web.Request) -> web.Response:
        return web.json_response(self.request_log.as_json())


# --- helpers -----------------------------------------------------------------------------


def _omit_nulls(response: web.Response) -> None:
    """Leave unset properties out of a JSON answer instead of showing them as null."""
    if not response.text or response.content_type != "application/json":
        return
    body = json.loads(response.text)
    objects = body.get("results", []) if isinstance(body, dict) else []
    for obj in [body, *objects]:
        if isinstance(obj, dict) and isinstance(obj.get("properties"), dict):
            obj["properties"] = {k: v for k, v in obj["properties"].items() if v is not None}
    response.text = json.dumps(body)


def _over(window: deque[float], now: float, span: float, limit: int | None) -> bool:
    """Count a request in a rolling window; True (not counted) if it is full."""
    while window and window[0] <= now - span:
        window.popleft()
    if limit is not None and len(window) >= limit:
        return True
    window.append(now)
    return False


def _operation(request: web.Request) -> str:
    """A request's operation name: "POST search", "GET list", "PATCH object", ..."""
    path = request.path.rstrip("/")
    tail = path.rsplit("/companies", 1)[-1].strip("/")
    if path.endswith("/properties/companies") or "/properties/" in path:
        return f"{request.method} properties"
    if tail == "":
        return f"{request.method} {'list' if request.method == 'GET' else 'create'}"
    if tail in ("search", "merge") or tail.startswith("batch/"):
        return f"{request.method} {tail}"
    return f"{request.method} object"


async def _body(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    text = await request.text()
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return text


def _names(query: MultiMapping[str]) -> list[str] | None:
    """The ``properties`` asked for: comma-separated, and/or the parameter repeated."""
    raw = [n for value in query.getall("properties", []) for n in value.split(",")]
    names = [n.strip() for n in raw if n.strip()]
    return names or None


def _properties(body: Mapping[str, Any]) -> dict[str, str]:
    properties = body.get("properties")
    if not isinstance(properties, dict):
        raise Invalid("properties must be an object of property names to string values")
    return {str(k): "" if v is None else v for k, v in properties.items()}


def _inputs(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise Invalid("inputs must be a list")
    if len(inputs) > BATCH_LIMIT:
        raise Invalid(f"Too many inputs: at most {BATCH_LIMIT} per batch, got {len(inputs)}")
    return inputs


def _encode_after(company_id: str) -> str:
    return base64.urlsafe_b64encode(company_id.encode()).decode()


def _decode_after(token: str | None) -> int | None:
    if not token:
        return None
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except ValueError:
        raise Invalid(f"after {token!r} is not a paging token this API gave") from None


def _error(
    status: int,
    category: str,
    message: str,
    errors: Iterable[Mapping[str, Any]] = (),
    context: Mapping[str, list[str]] | None = None,
) -> web.Response:
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    if errors:
        body["errors"] = list(errors)
    if context:
        body["context"] = dict(context)
    return web.json_response(body, status=status)


def _fault_response(fault: Fault) -> web.Response:
    status = fault.status or 500
    if fault.body is not None:
        return web.json_response(dict(fault.body), status=status)
    category = {423: "LOCKED", 477: "MIGRATION_IN_PROGRESS"}.get(status, "INTERNAL_ERROR")
    return _error(status, category, f"Injected fault: HTTP {status}")


def _standard_error(
    category: str, message: str, context: Mapping[str, list[Any]]
) -> dict[str, Any]:
    return {
        "status": "error",
        "category": category,
        "message": message,
        "errors": [],
        "context": {k: [str(v) for v in vs] for k, vs in context.items()},
        "links": {},
    }


def _batch(results: list[dict[str, Any]], errors: list[dict[str, Any]], ok: int) -> web.Response:
    now = format_datetime(datetime.now(UTC))
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "requestedAt": now,
        "startedAt": now,
        "completedAt": now,
        "links": {},
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    return web.json_response(body, status=207 if errors else ok)


# --- standalone ----------------------------------------------------------------------------


def load_seed(path: Path) -> list[dict[str, Any]]:
    """Companies to seed from a JSON file, in either of two shapes.

    ``{"companies": [{"id"?, "properties": {...}, "modified"?, "archived"?}]}``, or a
    syncd fixture (``tests/fixtures/systems.json``): its ``crm`` rows, per entity, with
    ``hs_object_id`` and ``hs_lastmodifieddate``; a company listed under two entities is
    one company whose multiple-checkbox values (``afas_roles``) are joined.
    """
    document = json.loads(path.read_text(encoding="utf-8"))
    if "companies" in document:
        return list(document["companies"])
    merged: dict[str, dict[str, Any]] = {}
    for rows in (document.get("crm") or {}).values():
        for row in rows:
            company_id = str(row["hs_object_id"])
            entry = merged.setdefault(
                company_id,
                {"id": company_id, "modified": row.get("hs_lastmodifieddate"), "properties": {}},
            )
            entry["archived"] = bool(row.get("archived", False))
            for name, value in row.items():
                if name in ("hs_object_id", "hs_lastmodifieddate", "archived") or value is None:
                    continue
                old = entry["properties"].get(name)
                if name == "afas_roles" and old and value not in old.split(";"):
                    value = f"{old};{value}"
                entry["properties"][name] = (
                    str(value).lower() if isinstance(value, bool) else str(value)
                )
    return list(merged.values())


@asynccontextmanager
async def running(simulator: HubSpotSimulator) -> AsyncIterator[str]:
    """The simulator served on a free loopback port for the block; yields its URL."""
    url = await simulator.start()
    try:
        yield url
    finally:
        await simulator.close()


def serve(
    host: str = "127.0.0.1",
    port: int = 8090,
    *,
    seed: Path | None = None,
    token: str | None = None,
    config: SimConfig | None = None,
) -> None:
    """Run the simulator until interrupted (``syncd sim hubspot --port N``).

    It accepts any Bearer token unless given ``token``; ``seed`` is a JSON file read by
    :func:`load_seed`. Limits and search lag are realistic (:data:`REALISTIC`) unless
    ``config`` says otherwise; the control API under ``/_sim`` changes them while it runs.
    """
    simulator = HubSpotSimulator(token=token, config=config or SimConfig(**asdict(REALISTIC)))
    if seed is not None:
        for item in load_seed(seed):
            simulator._seed_one(item)
    web.run_app(simulator.app(), host=host, port=port, print=None)
