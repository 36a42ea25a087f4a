"""The simulator as an aiohttp application: ProfitRestServices plus a control API.

Profit's routes live under ``/ProfitRestServices`` (any case): ``/metainfo``,
``/metainfo/get/{id}``, ``/metainfo/update/{id}``, ``/profitversion``, ``/oauth/token``,
``GET /connectors/{GetConnector}``, ``POST``/``PUT /connectors/{UpdateConnector}`` and
``DELETE /connectors/{UpdateConnector}/{Element}/@{Key}/{value}`` (creditors only).

The control API lives under ``/_sim`` and needs no token::

    POST   /_sim/reset                         empty every table, forget faults and counts
    POST   /_sim/seed        {"customer": [rows], "supplier": [rows]}  rows as a GetConnector
                                                shows them (a fixture's "afas" part works too)
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

import asyncio
import base64
import binascii
import functools
import json
import random
import re
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from syncd.sim.afas.query import QueryOptions, run
from syncd.sim.afas.schema import Environment, UpdateObject
from syncd.sim.afas.store import UNEXPECTED, ProfitData, ProfitError, SimClock
from syncd.sim.latency import answered_after
from syncd.sim.requestlog import RequestLog

PREFIX = "/profitrestservices"
_ONE_LINE = functools.partial(json.dumps, separators=(",", ":"))  # Profit 7+: unformatted
VERSION = "22.22.5"
_TOKEN = re.compile(r"<token><version>1</version><data>([^<]+)</data></token>")

FAULT_KINDS = (
    "unavailable",
    "lock",
    "error",
    "slow",
    "lost",
    "drop",
    "unauthorized",
    "forbidden",
    "edit",
)
"""What a fault does to the request it hits:

``unavailable``  503 with ``retry_after`` (seconds, default 1), nothing done
``lock``         500 with a lock-type message, nothing done
``error``        500 with ``message``, nothing done
``slow``         wait ``seconds`` (default 2), then answer normally; at the environment's
                 ``command_timeout`` Profit stops it instead (500, nothing done)
``lost``         do the request (a write commits), then wait ``seconds`` (default 30) and
                 close the connection without an answer
``drop``         close the connection without doing anything
``unauthorized`` 401 with an empty body
``forbidden``    403 with an empty body (an IP restriction on the app connector)
``edit``         a user edits ``record`` of ``entity`` (``fields`` as the GetConnector
                 names them) just before the request is answered normally: with ``skip``,
                 a listing whose pages change between its requests

Any kind lets ``skip`` matching requests pass untouched before it fires (a fault in the
middle of a listing, or at the n-th write).
"""


@dataclass
class Fault:
    kind: str
    method: str = ""  # "" = any method
    connector: str = ""  # "" = any connector (compared without regard to case)
    times: int = 1
    retry_after: float = 1.0
    seconds: float | None = None
    message: str = "An unexpected error has occurred."
    skip: int = 0  # matching requests let through before the fault fires
    query: str = ""  # "" = any; else a part the raw query string must contain (any case)
    entity: str = ""  # kind "edit": the relation a user edits, and how
    record: str = ""
    fields: Mapping[str, object] = field(default_factory=dict)

    def hits(self, method: str, connector: str, query: str = "") -> bool:
        return (
            (not self.method or self.method.upper() == method)
            and (not self.connector or self.connector.lower() == connector.lower())
            and self.query.lower() in query.lower()
        )


@dataclass
class SimOptions:
    """Behaviour the research could not pin down, and test knobs."""

    token: str | None = None  # the token's <data>; None: any well-formed token passes
    oauth_clients: Mapping[str, str] = field(default_factory=dict)  # client id -> secret
    unauthorized_connector_status: int = 500  # a connector not in the app connector
    allowed_connectors: frozenset[str] | None = None  # None: every connector
    put_status: int = 201  # 200: answer a PUT with an empty body
    query: QueryOptions = field(default_factory=QueryOptions)
    max_parallel: int = 8
    max_cells: int | None = None  # rows x columns of one page; more: "Out of String space"
    # Profit stops a request it has worked on this long: 500 "Command timeout expired.",
    # nothing of it saved (its troubleshooting page: 900 seconds)
    command_timeout: float = 900.0


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
        self._bearer: dict[str, datetime] = {}
        self._busy: set[asyncio.Future[web.StreamResponse]] = set()
        self._rng = random.Random(self.options.query.seed)

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
        return {
            entity: [self.data.seed(entity, row) for row in entity_rows]
            for entity, entity_rows in afas.items()
            if entity in self.environment.entities
        }

    def edit(self, entity: str, number: str, fields: Mapping[str, object]) -> None:
        self.data.edit(entity, number, fields)

    def rows(self, entity: str) -> list[dict[str, object]]:
        connector = self.environment.connector_for(entity)
        body = run(
            self.data, connector, {"skip": "-1", "orderbyfieldids": ""}, self._plain, self._rng
        )
        rows = body["rows"]
        assert isinstance(rows, list)
        return sorted(rows, key=lambda r: str(r[connector.fields[0].id]))

    def add_fault(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault.kind!r}; one of: {', '.join(FAULT_KINDS)}")
        self.faults.append(fault)

    @property
    def _plain(self) -> QueryOptions:
        return QueryOptions(self.options.query.precision, shuffle_unordered=False)

    # -- the app ---------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_route("*", "/_sim/{what:.*}", self._control)
        app.router.add_route("*", "/{tail:.*}", self._logged)
        return app

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except ProfitError as exc:
            if request.headers.get("Accept-Language", "").lower().startswith("nl"):
                exc.message = _dutch(exc.message)
            response = _json_response(exc.body(), status=500)
            # obsolete since Profit 6, still sent: the message again, base64-encoded
            response.headers["X-PROFIT-ERROR"] = base64.b64encode(exc.message.encode()).decode()
            return response

    async def _logged(self, request: web.Request) -> web.StreamResponse:
        return await self.request_log.served(request, self._profit)

    async def _profit(self, request: web.Request) -> web.StreamResponse:
        path = request.path.lower().rstrip("/")
        if not path.startswith(PREFIX):
            return web.Response(status=404)
        route = path[len(PREFIX) :]
        parts = [p for p in request.path.rstrip("/")[len(PREFIX) :].split("/") if p]
        self.requests[f"{request.method} {request.path}"] += 1
        if len("?" + request.rel_url.raw_query_string) > 2049:
            return web.Response(status=404)
        if route == "/oauth/token" and request.method == "POST":
            return await self._oauth(request)
        if not self._authorised(request.headers.get("Authorization", "")):
            return web.Response(status=401)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            if self.active > self.options.max_parallel:
                raise ProfitError("Too many parallel requests; the row is locked.")
            if request.can_read_body:
                await request.read()  # received in full before Profit starts working
            connector = parts[1] if len(parts) > 1 and parts[0].lower() == "connectors" else ""
            work = self._with_faults(request, connector, lambda: self._route(request, parts))
            return await answered_after(self.latency, work)
        finally:
            self.active -= 1

    async def _with_faults(
        self,
        request: web.Request,
        connector: str,
        work: Callable[[], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        query = request.rel_url.raw_query_string
        fault = next((f for f in self.faults if f.hits(request.method, connector, query)), None)
        if fault is None:
            return await work()
        if fault.skip > 0:
            fault.skip -= 1
            return await work()
        fault.times -= 1
        if fault.times <= 0:
            self.faults.remove(fault)
        kind = fault.kind
        if kind == "edit":
            self.edit(fault.entity, fault.record, fault.fields)
            return await work()
        if kind == "unavailable":
            body = {
                "error": {
                    "code": {"example": "503"},
                    "message": {"example": "Service temporarily unavailable."},
                },
                "retry_after": fault.retry_after,
            }
            return _json_response(body, status=503)
        if kind == "lock":
            raise ProfitError("The record is locked by another user; try again later.")
        if kind == "error":
            raise ProfitError(fault.message, UNEXPECTED)
        if kind in ("unauthorized", "forbidden"):
            return web.Response(status=401 if kind == "unauthorized" else 403)
        if kind == "slow":
            # Profit goes on with a request whose caller gave up: shield it from the
            # cancellation aiohttp sends when the client disconnects
            seconds, limit = fault.seconds or 2.0, self.options.command_timeout
            late = work if seconds < limit else _command_timeout
            task = asyncio.ensure_future(_later(min(seconds, limit), late))
            self._busy.add(task)
            task.add_done_callback(self._busy.discard)
            return await asyncio.shield(task)
        if kind == "lost":
            await work()
            await asyncio.sleep(fault.seconds if fault.seconds is not None else 30.0)
        _drop(request)
        return web.Response(status=500)  # never arrives: the connection is gone

    async def _route(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        lower = [p.lower() for p in parts]
        method = request.method
        if lower == ["metainfo"] and method == "GET":
            return _json_response(self._metainfo())
        if len(lower) == 3 and lower[:2] == ["metainfo", "get"]:
            return self._meta_get(parts[2])
        if len(lower) == 3 and lower[:2] == ["metainfo", "update"]:
            return self._meta_update(parts[2])
        if lower == ["profitversion"]:
            return _json_response({"version": VERSION})
        if len(lower) >= 2 and lower[0] == "connectors":
            if method == "GET" and len(lower) == 2:
                return self._get_connector(request, parts[1])
            if method in ("POST", "PUT") and len(lower) == 2:
                return await self._update_connector(request, parts[1])
            if method == "DELETE":
                return self._delete(parts[1:])
        return web.Response(status=404)

    # -- GetConnectors --------------------------------------------------------------------

    def _get_connector(self, request: web.Request, name: str) -> web.StreamResponse:
        connector = self.environment.get_connectors.get(name)
        if connector is None or not self._allowed(name):
            return self._not_supported(
                "GetConnector not supported for this app or the user is not authorized"
            )
        if name in self.blocked:
            raise ProfitError("This GetConnector (definition) is blocked")
        params = {k.lower(): v for k, v in request.query.items()}  # names: any case
        body = run(self.data, connector, params, self.options.query, self._rng)
        rows = body["rows"]
        cells = len(rows) * len(connector.fields) if isinstance(rows, list) else 0
        if self.options.max_cells is not None and cells > self.options.max_cells:
            raise ProfitError("Out of String space")
        return _json_response(body)

    # -- UpdateConnectors -----------------------------------------------------------------

    async def _update_connector(self, request: web.Request, name: str) -> web.StreamResponse:
        info = self.environment.entity_of(name)
        if info is None or not self._allowed(name):
            return self._not_supported(
                "General message: Deze UpdateConnector wordt niet ondersteund of de gebruiker "
                "is niet geautoriseerd."
            )
        try:
            body = await request.json()
        except ValueError:
            return _json_response({"message": "Invalid json"}, status=400)
        element = body.get(info.update_connector) if isinstance(body, dict) else None
        if not isinstance(element, dict) or "Element" not in element:
            raise ProfitError(f"Invalid json: expected {{'{name}': {{'Element': ...}}}}.")
        elements = (
            element["Element"] if isinstance(element["Element"], list) else [element["Element"]]
        )
        write = self.data.insert if request.method == "POST" else self.data.update
        results = [write(info, one) for one in elements]
        keys: object = results[0] if len(results) == 1 else results
        if request.method == "PUT" and self.options.put_status == 200:
            return web.Response(status=200)  # some environments answer a PUT with no body
        status = 201 if request.method == "POST" else self.options.put_status
        return _json_response({"results": {name: keys}}, status=status)

    def _delete(self, parts: list[str]) -> web.StreamResponse:
        if len(parts) != 4:
            return web.Response(status=404)
        connector, _element, key, value = parts
        info = self.environment.entity_of(connector)
        if info is None:
            return web.Response(status=404)
        if not info.deletable:
            raise ProfitError(f"Deleting is not supported by UpdateConnector '{connector}'.")
        if key.lstrip("@") != info.key:
            raise ProfitError(f"Field '{key}' is not the key of '{connector}'.")
        self.data.delete(info.name, value)
        return web.Response(status=200)

    # -- metainfo -------------------------------------------------------------------------

    def _metainfo(self) -> dict[str, object]:
        return {
            "updateConnectors": [
                {"id": o.name, "description": o.description}
                for o in self.environment.update_connectors.values()
            ],
            "getConnectors": [
                {"id": c.id, "description": c.description}
                for c in self.environment.get_connectors.values()
            ],
            "info": {
                "envid": "O12345AA",
                "appName": "syncd",
                "group": "AuthorizationGroup 101 (12345.SYNCD)",
                "tokenExpiry": "0",
            },
        }

    def _meta_get(self, name: str) -> web.StreamResponse:
        connector = self.environment.get_connectors.get(name)
        if connector is None:
            return self._not_supported(
                "GetConnector not supported for this app or the user is not authorized"
            )
        fields = [
            {
                "id": f.id,
                "fieldId": f"U{i:03d}",
                "dataType": f.type.value,
                "label": f.label,
                "length": f.length,
                "controlType": 1,
                "decimals": 2 if f.type.value == "decimal" else 0,
                "decimalsFieldId": "",
            }
            for i, f in enumerate(connector.fields, start=1)
        ]
        return _json_response(
            {"name": connector.id, "description": connector.description, "fields": fields}
        )

    def _meta_update(self, name: str) -> web.StreamResponse:
        schema = self.environment.update_connectors.get(name)
        if schema is None:
            return self._not_supported("Deze UpdateConnector wordt niet ondersteund.")
        return _json_response(_describe(schema))

    # -- auth -----------------------------------------------------------------------------

    def _authorised(self, header: str) -> bool:
        scheme, _, credential = header.partition(" ")
        if scheme == "Bearer":
            expiry = self._bearer.get(credential)
            return expiry is not None and expiry > datetime.now(UTC)
        if scheme != "AfasToken":
            return False
        try:
            text = base64.b64decode(credential, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ProfitError("An unexpected error has occurred.", UNEXPECTED) from None
        match = _TOKEN.fullmatch(text)
        if match is None:
            return False
        return self.options.token is None or secrets.compare_digest(match[1], self.options.token)

    async def _oauth(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        client, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        known = self.options.oauth_clients.get(client)
        if form.get("grant_type") != "client_credentials" or known is None or known != secret:
            return _json_response({"error": "invalid_client"}, status=401)
        token = secrets.token_urlsafe(24)
        self._bearer[token] = datetime.now(UTC) + timedelta(seconds=3600)
        return _json_response(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 3600,
                "refresh_token": None,
            }
        )

    def expire_bearer_tokens(self) -> None:
        self._bearer.clear()

    def _allowed(self, name: str) -> bool:
        allowed = self.options.allowed_connectors
        return allowed is None or name in allowed

    def _not_supported(self, message: str) -> web.StreamResponse:
        if self.options.unauthorized_connector_status == 401:
            return web.Response(status=401)
        raise ProfitError(message)

    # -- control ------------------------------------------------------------------------

    async def _control(self, request: web.Request) -> web.StreamResponse:
        """The control API; a request it cannot use is a 400 saying why."""
        try:
            body: Any = await request.json() if request.can_read_body else {}
            return self._command(request.method, request.match_info["what"].strip("/"), body)
        except (TypeError, KeyError, ValueError) as exc:
            return _json_response({"error": f"{type(exc).__name__}: {exc}"}, status=400)

    def _command(self, method: str, what: str, body: Any) -> web.StreamResponse:
        if (method, what) == ("POST", "reset"):
            self.reset()
            return _json_response({})
        if (method, what) == ("POST", "seed"):
            return _json_response(self.seed(body))
        if method == "GET" and what.startswith("rows/"):
            return _json_response(self.rows(what.removeprefix("rows/")))
        if (method, what) == ("POST", "edit"):
            self.edit(body["entity"], str(body["id"]), body["fields"])
            return _json_response({})
        if (method, what) == ("POST", "faults"):
            self.add_fault(Fault(**body))
            return _json_response({})
        if (method, what) == ("DELETE", "faults"):
            self.faults.clear()
            return _json_response({})
        if (method, what) == ("POST", "latency"):
            self.latency = float(body["seconds"])
            return _json_response({})
        if (method, what) == ("POST", "block"):
            (self.blocked.add if body.get("blocked", True) else self.blocked.discard)(
                body["connector"]
            )
            return _json_response({})
        if (method, what) == ("GET", "stats"):
            return _json_response(
                {"requests": dict(self.requests), "max_concurrent": self.max_active}
            )
        if (method, what) == ("GET", "log"):
            return _json_response(self.request_log.as_json())
        return _json_response({"error": f"unknown control {method} /_sim/{what}"}, status=404)


_DUTCH = (
    (re.compile(r"An unexpected error has occurred\."), "Er is een onverwachte fout opgetreden."),
    (re.compile(r"Connector field '(.*)' not found"), r"Connector-veld '\1' niet gevonden"),
    (
        re.compile(r"This GetConnector \(definition\) is blocked"),
        "Deze GetConnector (definitie) is geblokkeerd",
    ),
    (
        re.compile(r"GetConnector not supported for this app or the user is not authorized"),
        "GetConnector niet ondersteund voor deze app of de gebruiker is niet geautoriseerd",
    ),
)


def _dutch(message: str) -> str:
    """The message as a Dutch environment (``Accept-Language: nl-nl``) words it."""
    for pattern, dutch in _DUTCH:
        if pattern.fullmatch(message):
            return pattern.sub(dutch, message)
    return message


async def _later(
    seconds: float, work: Callable[[], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    await asyncio.sleep(seconds)
    return await work()


async def _command_timeout() -> web.StreamResponse:
    raise ProfitError("Command timeout expired.", UNEXPECTED)


def _json_response(body: object, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=_ONE_LINE)


def _drop(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()


def _describe(schema: UpdateObject) -> dict[str, object]:
    return {
        "name": schema.name,
        "id": schema.name,
        "description": schema.description,
        "fields": [
            {
                "fieldId": f.id,
                "primaryKey": False,
                "dataType": f.type.value,
                "label": f.label,
                "mandatory": f.id in schema.required_on_insert,
                "length": f.length,
                "decimals": 0,
                "decimalFieldId": "",
                "notzero": False,
                "controlType": 1,
                "values": [{"id": v, "description": v} for v in f.values] or None,
            }
            for f in schema.fields
        ],
        "objects": [_describe(o) for o in schema.objects],
    }


def serve(
    host: str,
    port: int,
    *,
    seed: Path | None,
    token: str | None,
    precision: str = "round",
) -> None:
    """Run a simulator until interrupted (``syncd sim afas --port N``).

    ``seed`` is a JSON file of rows per entity (or a fixture file, whose ``afas`` part is
    used). Without ``token`` any well-formed AfasToken is accepted; with it, only the
    token whose ``<data>`` is ``token``. Profit lives at
    ``http://{host}:{port}/ProfitRestServices``, the control API at ``/_sim``.
    """
    sim = AfasSimulator(
        options=SimOptions(token=token, query=QueryOptions(precision=precision)),
        clock=SimClock(
            step=timedelta(seconds=1) if precision == "second" else timedelta(milliseconds=1),
            whole_seconds=precision == "second",
        ),
    )
    match = _TOKEN.fullmatch(token or "")
    if match is not None:  # the whole XML token was given: keep its data
        sim.options.token = match[1]
    if seed is not None:
        sim.seed(json.loads(seed.read_text(encoding="utf-8")))
    web.run_app(sim.app(), host=host, port=port, print=None)


__all__ = ["FAULT_KINDS", "AfasSimulator", "Fault", "SimOptions", "serve"]
