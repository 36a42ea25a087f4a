"""Faults injected into the HubSpot simulator's API: which request they hit, what it gets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from syncd.sim.hubspot.responses import error_response


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


def take_fault(faults: list[Fault], request: web.Request) -> Fault | None:
    """The fault that fires on ``request``, if any; one that has fired its last is removed.

    Only the first matching fault is considered: while it lets requests through (``skip``),
    the request goes through untouched.
    """
    for fault in faults:
        if fault.matches(request):
            if fault.skip > 0:
                fault.skip -= 1
                return None
            fault.count -= 1
            if fault.count <= 0:
                faults.remove(fault)
            return fault
    return None


def fault_response(fault: Fault) -> web.Response:
    """The error a fault answers with: its own body, or HubSpot's for its status."""
    status = fault.status or 500
    if fault.body is not None:
        return web.json_response(dict(fault.body), status=status)
    category = {423: "LOCKED", 477: "MIGRATION_IN_PROGRESS"}.get(status, "INTERNAL_ERROR")
    return error_response(status, category, f"Injected fault: HTTP {status}")
