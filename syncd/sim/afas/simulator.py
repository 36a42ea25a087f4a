"""The simulated Profit environment: its data, faults and counters, its Python control
API, and the aiohttp app that serves ProfitRestServices plus a control API.

Profit's routes live under ``/ProfitRestServices`` (any case): ``/metainfo``,
``/metainfo/get/{id}``, ``/metainfo/update/{id}``, ``/profitversion``, ``/oauth/token``,
``GET /connectors/{GetConnector}``, ``POST``/``PUT /connectors/{UpdateConnector}`` and
``DELETE /connectors/{UpdateConnector}/{Element}/@{Key}/{value}`` (creditors only);
contact persons through ``KnOrganisation`` (also ``POST /connectors/KnOrganisation/KnContact``),
``KnContact`` and ``KnPerson`` (:mod:`.contacts`).

The control API lives under ``/_sim`` and needs no token::

    POST   /_sim/reset                         empty every table, forget faults and counts
    POST   /_sim/seed        {"customer": [rows], "supplier": [rows], "contact": [rows]}
                                                rows as a GetConnector shows them (a
                                                fixture's "afas" part works too; a
                                                debtor or creditor without
                                                OrganisationId is at one numbered as
                                                itself, if that number is free)
    GET    /_sim/rows/{entity}                 every row, blocked ones too
    POST   /_sim/edit        {"entity", "id", "fields": {GetConnector field: value}}
                                                a user edits in Profit (dates move)
    POST   /_sim/faults      {"kind", "method", "connector", "times", ...}   see Fault
    DELETE /_sim/faults                        forget faults not yet fired
    POST   /_sim/latency     {"seconds": 0.05} the least time every Profit request takes
    POST   /_sim/block       {"connector": "syncd_debtors", "blocked": true}  fair-use block
    GET    /_sim/stats                         requests by "METHOD /path", max concurrency
    GET    /_sim/log                           every Profit request: times, path, User-Agent
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from aiohttp import web

from syncd.sim.afas import contacts
from syncd.sim.afas.auth import Authentication
from syncd.sim.afas.faults import FAULT_KINDS, Fault, FaultInjection
from syncd.sim.afas.options import SimOptions
from syncd.sim.afas.query import QueryOptions, run
from syncd.sim.afas.responses import error_response, json_response
from syncd.sim.afas.routes.connectors import ConnectorRoutes
from syncd.sim.afas.routes.control import ControlRoutes
from syncd.sim.afas.routes.metainfo import MetainfoRoutes
from syncd.sim.afas.schema import CONTACT_ENTITY, Environment
from syncd.sim.afas.store import ProfitData, ProfitError, SimClock
from syncd.sim.latency import answer_after
from syncd.sim.requestlog import RequestLog

PREFIX = "/profitrestservices"
VERSION = "22.22.5"
# Profit answers 404 to a request whose query string is longer (the "?" counted).
MAX_QUERY_LENGTH = 2049


class AfasSimulator:
    """One simulated Profit environment: data, faults, counters and the aiohttp app."""

    def __init__(
        self,
        *,
        options: SimOptions | None = None,
        clock: SimClock | None = None,
        environment: Environment | None = None,
    ) -> None:
        self.options = options or SimOptions()
        self.environment = environment or Environment()
        self.clock = clock or SimClock(step=timedelta(milliseconds=1))
        self.data = ProfitData(self.environment, self.clock)
        self.faults: list[Fault] = []
        self.latency = 0.0
        self.requests: Counter[str] = Counter()
        self.request_log = RequestLog()
        self.blocked: set[str] = set()
        self.active = 0
        self.max_active = 0
        self.rng = random.Random(self.options.query.seed)
        self.authentication = Authentication(self.options)
        self._fault_injection = FaultInjection(self)
        self._connectors = ConnectorRoutes(self)
        self._metainfo = MetainfoRoutes(self)

    # -- the Python control API (the HTTP one calls these) ------------------------------

    def reset(self) -> None:
        self.data = ProfitData(self.environment, self.clock)
        self.faults.clear()
        self.requests.clear()
        self.request_log.clear()
        self.blocked.clear()
        self.latency = 0.0
        self.max_active = 0

    def seed(self, rows: Mapping[str, list[Mapping[str, object]]]) -> dict[str, list[str]]:
        """Load rows per entity; accepts a fixture file's whole document too."""
        afas = rows.get("afas", rows)
        assert isinstance(afas, Mapping)
        loaded = {
            entity: [self.data.seed(entity, row) for row in entity_rows]
            for entity, entity_rows in afas.items()
            if entity in self.environment.entities
        }
        if CONTACT_ENTITY in afas:  # after the relations: a contact needs its organisation
            loaded[CONTACT_ENTITY] = [contacts.seed(self.data, r) for r in afas[CONTACT_ENTITY]]
        return loaded

    def edit(self, entity: str, number: str, fields: Mapping[str, object]) -> None:
        if entity == CONTACT_ENTITY:
            contacts.edit(self.data, number, fields)
        else:
            self.data.edit(entity, number, fields)

    def rows(self, entity: str) -> list[dict[str, object]]:
        """Every row of ``entity``'s GetConnector, in key order, unrounded and unshuffled."""
        connector = self.environment.connector_for(entity)
        plain = QueryOptions(self.options.query.precision, shuffle_unordered=False)
        body = run(self.data, connector, {"skip": "-1", "orderbyfieldids": ""}, plain, self.rng)
        rows = body["rows"]
        assert isinstance(rows, list)
        key = connector.fields[0].id
        # a contact's id is a number: compared as one
        return sorted(rows, key=lambda r: f"{v:020d}" if isinstance(v := r[key], int) else str(v))

    def add_fault(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault.kind!r}; one of: {', '.join(FAULT_KINDS)}")
        self.faults.append(fault)

    def expire_bearer_tokens(self) -> None:
        self.authentication.expire_bearer_tokens()

    # -- the app ---------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._profit_errors])
        app.router.add_route("*", "/_sim/{what:.*}", ControlRoutes(self).serve)
        app.router.add_route("*", "/{tail:.*}", self._serve_and_log)
        return app

    @web.middleware
    async def _profit_errors(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except ProfitError as exc:
            return error_response(exc, request)

    async def _serve_and_log(self, request: web.Request) -> web.StreamResponse:
        return await self.request_log.serve_and_log(request, self._serve_profit)

    async def _serve_profit(self, request: web.Request) -> web.StreamResponse:
        """Count, authenticate and limit a Profit request, then route it through faults."""
        path = request.path.lower().rstrip("/")
        if not path.startswith(PREFIX):
            return web.Response(status=404)
        route = path[len(PREFIX) :]
        parts = [p for p in request.path.rstrip("/")[len(PREFIX) :].split("/") if p]
        self.requests[f"{request.method} {request.path}"] += 1
        if len("?" + request.rel_url.raw_query_string) > MAX_QUERY_LENGTH:
            return web.Response(status=404)
        if route == "/oauth/token" and request.method == "POST":
            return await self.authentication.token_route(request)
        if not self.authentication.allows(request.headers.get("Authorization", "")):
            return web.Response(status=401)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            if self.active > self.options.max_parallel:
                raise ProfitError("Too many parallel requests; the row is locked.")
            if request.can_read_body:
                await request.read()  # received in full before Profit starts working
            connector = parts[1] if len(parts) > 1 and parts[0].lower() == "connectors" else ""
            work = self._fault_injection.serve(
                request, connector, lambda: self._route(request, parts)
            )
            return await answer_after(self.latency, work)
        finally:
            self.active -= 1

    async def _route(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        lower = [p.lower() for p in parts]
        method = request.method
        if lower == ["metainfo"] and method == "GET":
            return self._metainfo.connectors()
        if len(lower) == 3 and lower[:2] == ["metainfo", "get"]:
            return self._metainfo.get_connector(parts[2])
        if len(lower) == 3 and lower[:2] == ["metainfo", "update"]:
            return self._metainfo.update_connector(parts[2])
        if lower == ["profitversion"]:
            return json_response({"version": VERSION})
        if len(lower) >= 2 and lower[0] == "connectors":
            if method == "GET" and len(lower) == 2:
                return self._connectors.get(request, parts[1])
            if method in ("POST", "PUT") and len(lower) == 2:
                return await self._connectors.write(request, parts[1])
            if method == "POST" and len(lower) == 3:
                return await self._connectors.write(request, parts[1], parts[2])
            if method == "DELETE":
                return self._connectors.delete(parts[1:])
        return web.Response(status=404)
