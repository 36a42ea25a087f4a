"""The bodies HubSpot answers with: its error shape, a batch's envelope, unset properties."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from syncd.sim.hubspot.properties import format_datetime


def error_response(
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


def standard_error(category: str, message: str, context: Mapping[str, list[Any]]) -> dict[str, Any]:
    """One input's error inside a batch answer."""
    return {
        "status": "error",
        "category": category,
        "message": message,
        "errors": [],
        "context": {k: [str(v) for v in vs] for k, vs in context.items()},
        "links": {},
    }


def batch_response(
    results: list[dict[str, Any]], errors: list[dict[str, Any]], ok: int
) -> web.Response:
    """A batch's answer: ``ok`` when every input succeeded, else 207 with the errors."""
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


def omit_nulls(response: web.Response) -> None:
    """Leave unset properties out of a JSON answer instead of showing them as null."""
    if not response.text or response.content_type != "application/json":
        return
    body = json.loads(response.text)
    objects = body.get("results", []) if isinstance(body, dict) else []
    for obj in [body, *objects]:
        if isinstance(obj, dict) and isinstance(obj.get("properties"), dict):
            obj["properties"] = {k: v for k, v in obj["properties"].items() if v is not None}
    response.text = json.dumps(body)
