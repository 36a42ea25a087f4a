"""Faults injected into the simulated Profit: which request they hit, and what it gets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from syncd.sim.afas.responses import json_response
from syncd.sim.afas.store import UNEXPECTED, ProfitError

if TYPE_CHECKING:
    from syncd.sim.afas.simulator import AfasSimulator

Work = Callable[[], Awaitable[web.StreamResponse]]

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


class FaultInjection:
    """Does a request's work through the first of the simulator's faults that hits it."""

    def __init__(self, simulator: AfasSimulator) -> None:
        self.simulator = simulator
        # Requests Profit goes on with after their caller gave up (kept from collection).
        self._carried_on: set[asyncio.Future[web.StreamResponse]] = set()

    async def serve(self, request: web.Request, connector: str, work: Work) -> web.StreamResponse:
        faults = self.simulator.faults
        query = request.rel_url.raw_query_string
        fault = next((f for f in faults if f.hits(request.method, connector, query)), None)
        if fault is None:
            return await work()
        if fault.skip > 0:
            fault.skip -= 1
            return await work()
        fault.times -= 1
        if fault.times <= 0:
            faults.remove(fault)
        return await self._fire(fault, request, work)

    async def _fire(self, fault: Fault, request: web.Request, work: Work) -> web.StreamResponse:
        kind = fault.kind
        if kind == "edit":
            self.simulator.edit(fault.entity, fault.record, fault.fields)
            return await work()
        if kind == "unavailable":
            body = {
                "error": {
                    "code": {"example": "503"},
                    "message": {"example": "Service temporarily unavailable."},
                },
                "retry_after": fault.retry_after,
            }
            return json_response(body, status=503)
        if kind == "lock":
            raise ProfitError("The record is locked by another user; try again later.")
        if kind == "error":
            raise ProfitError(fault.message, UNEXPECTED)
        if kind in ("unauthorized", "forbidden"):
            return web.Response(status=401 if kind == "unauthorized" else 403)
        if kind == "slow":
            return await self._slow(fault, work)
        if kind == "lost":
            await work()
            await asyncio.sleep(fault.seconds if fault.seconds is not None else 30.0)
        _drop(request)
        return web.Response(status=500)  # never arrives: the connection is gone

    async def _slow(self, fault: Fault, work: Work) -> web.StreamResponse:
        # Profit goes on with a request whose caller gave up: shield it from the
        # cancellation aiohttp sends when the client disconnects
        seconds, limit = fault.seconds or 2.0, self.simulator.options.command_timeout
        late = work if seconds < limit else _command_timeout
        task = asyncio.ensure_future(_later(min(seconds, limit), late))
        self._carried_on.add(task)
        task.add_done_callback(self._carried_on.discard)
        return await asyncio.shield(task)


async def _later(seconds: float, work: Work) -> web.StreamResponse:
    await asyncio.sleep(seconds)
    return await work()


async def _command_timeout() -> web.StreamResponse:
    raise ProfitError("Command timeout expired.", UNEXPECTED)


def _drop(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()
