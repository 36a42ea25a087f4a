"""What happens to every API request around its route: it is logged (and recorded when
asked), counted, delayed to the configured latency, authenticated, held to the rate
limits, met by an injected fault, and its errors are answered in HubSpot's shape."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from syncd.sim.hubspot.app_tokens import JOURNAL_PREFIX
from syncd.sim.hubspot.faults import fault_response, take_fault
from syncd.sim.hubspot.portal import PortalError
from syncd.sim.hubspot.request_parsing import json_body, operation_name
from syncd.sim.hubspot.responses import error_response, omit_nulls
from syncd.sim.latency import answer_after

if TYPE_CHECKING:
    from syncd.sim.hubspot.simulator import HubSpotSimulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CONTROL_PREFIX = "/_sim"
OAUTH_PREFIX = "/oauth/"


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


class ApiMiddlewares:
    """The simulator's aiohttp middlewares, outermost first (:meth:`in_order`)."""

    def __init__(self, simulator: HubSpotSimulator) -> None:
        self.simulator = simulator

    def in_order(self) -> list[Middleware]:
        return [self.log, self.answer_errors, self.guard]

    @web.middleware
    async def log(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """API requests go to the request log, and to the exchanges when recording."""
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        return await self.simulator.request_log.serve_and_log(
            request, lambda r: self._serve_and_record(r, handler)
        )

    async def _serve_and_record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await json_body(request)
        response = await handler(request)
        if self.simulator.record and isinstance(response, web.Response):
            text = response.text
            self.simulator.exchanges.append(
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
    async def answer_errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Portal errors and malformed input as HubSpot's error bodies."""
        try:
            return await handler(request)
        except PortalError as exc:
            return error_response(exc.status, exc.category, exc.message, exc.errors, exc.context)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            return error_response(400, "VALIDATION_ERROR", f"Invalid input JSON: {exc}")

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Count, delay, authenticate, throttle and inject faults, as configured."""
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        simulator = self.simulator
        simulator.counts[operation_name(request)] += 1
        return await answer_after(simulator.config.latency, self._admit_and_serve(request, handler))

    async def _admit_and_serve(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        simulator = self.simulator
        denied = self._authentication_refusal(request) or simulator.rate_limits.refusal(request)
        if denied is not None:
            return denied
        fault = take_fault(simulator.faults, request)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.edit is not None:
            simulator.edit(str(fault.edit["id"]), fault.edit["properties"])
        if fault is not None and fault.status == 429 and fault.body is None:
            return simulator.rate_limits.too_many_for(request)
        if fault is not None and fault.status is not None:
            return fault_response(fault)
        response = await handler(request)
        if fault is not None and fault.drop:
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError
        if not request.path.endswith("/search"):
            simulator.rate_limits.add_headers(response)
        if not simulator.config.unset_as_null and isinstance(response, web.Response):
            omit_nulls(response)
        return response

    def _authentication_refusal(self, request: web.Request) -> web.Response | None:
        """HubSpot's 401 unless the request has a Bearer token (the simulator's own, if
        it was given one); the journal wants the app's token, OAuth's endpoint none."""
        if request.path.startswith(OAUTH_PREFIX):
            return None
        if request.path.startswith(JOURNAL_PREFIX):
            return self.simulator.installed_app.journal_refusal(request)
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        token = self.simulator.token
        if scheme == "Bearer" and given and (token is None or given == token):
            return None
        return error_response(
            401,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 "
            "authentication and you can find more details at "
            "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        )
