"""The control API under ``/_sim`` (no token): what tests, benchmarks and the demo use to
seed, edit, inject faults and read the counts, over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from syncd.sim.afas.faults import Fault
from syncd.sim.afas.responses import json_response

if TYPE_CHECKING:
    from syncd.sim.afas.simulator import AfasSimulator


class ControlRoutes:
    """Each command calls the simulator's Python API of the same purpose."""

    def __init__(self, simulator: AfasSimulator) -> None:
        self.simulator = simulator

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """A request it cannot use is a 400 saying why."""
        try:
            body: Any = await request.json() if request.can_read_body else {}
            return self._command(request.method, request.match_info["what"].strip("/"), body)
        except (TypeError, KeyError, ValueError) as exc:
            return json_response({"error": f"{type(exc).__name__}: {exc}"}, status=400)

    def _command(self, method: str, what: str, body: Any) -> web.StreamResponse:
        simulator = self.simulator
        if (method, what) == ("POST", "reset"):
            simulator.reset()
            return json_response({})
        if (method, what) == ("POST", "seed"):
            return json_response(simulator.seed(body))
        if method == "GET" and what.startswith("rows/"):
            return json_response(simulator.rows(what.removeprefix("rows/")))
        if (method, what) == ("POST", "edit"):
            simulator.edit(body["entity"], str(body["id"]), body["fields"])
            return json_response({})
        if (method, what) == ("POST", "faults"):
            simulator.add_fault(Fault(**body))
            return json_response({})
        if (method, what) == ("DELETE", "faults"):
            simulator.faults.clear()
            return json_response({})
        if (method, what) == ("POST", "latency"):
            simulator.latency = float(body["seconds"])
            return json_response({})
        if (method, what) == ("POST", "block"):
            blocked = simulator.blocked
            (blocked.add if body.get("blocked", True) else blocked.discard)(body["connector"])
            return json_response({})
        if (method, what) == ("GET", "stats"):
            return json_response(
                {"requests": dict(simulator.requests), "max_concurrent": simulator.max_active}
            )
        if (method, what) == ("GET", "log"):
            return json_response(simulator.request_log.as_json())
        return json_response({"error": f"unknown control {method} /_sim/{what}"}, status=404)
