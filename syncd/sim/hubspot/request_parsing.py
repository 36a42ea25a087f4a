"""What a request to the companies API asks for, read the way HubSpot reads it."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from syncd.sim.hubspot.portal import Invalid

BATCH_LIMIT = 100


def operation_name(request: web.Request) -> str:
    """A request's operation name: "POST search", "GET list", "PATCH object", ... for
    companies; the same after "contacts " for contacts ("contacts POST search"), and
    "associations POST batch/read" and the like for associations; "journal GET batch"
    and "oauth POST token" for the journal and the app's token."""
    path = request.path.rstrip("/")
    if path.startswith("/oauth/"):
        return f"oauth {request.method} {path.rsplit('/', 1)[-1]}"
    if path.startswith("/webhooks-journal/"):
        return f"journal {request.method} {path.split('/2026-03/', 1)[-1].split('/', 1)[0]}"
    if path.startswith(("/crm/v4/", "/crm/associations/")) or "/associations/default/" in path:
        action = path.rsplit("/batch/", 1)[-1] if "/batch/" in path else "default"
        prefix = "batch/" if "/batch/" in path else ""
        return f"associations {request.method} {prefix}{action}"
    if "/contacts" in path:
        return "contacts " + _operation(request.method, path, "/contacts")
    return _operation(request.method, path, "/companies")


def _operation(method: str, path: str, objects: str) -> str:
    tail = path.rsplit(objects, 1)[-1].strip("/")
    if "/properties/" in path:
        return f"{method} properties"
    if tail == "":
        return f"{method} {'list' if method == 'GET' else 'create'}"
    if tail in ("search", "merge") or tail.startswith("batch/"):
        return f"{method} {tail}"
    return f"{method} object"


async def json_body(request: web.Request) -> Any:
    """The request's body as JSON; as text when it is no JSON; None when there is none."""
    if not request.can_read_body:
        return None
    text = await request.text()
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return text


def requested_names(query: MultiMapping[str]) -> list[str] | None:
    """The ``properties`` asked for: comma-separated, and/or the parameter repeated."""
    raw = [n for value in query.getall("properties", []) for n in value.split(",")]
    names = [n.strip() for n in raw if n.strip()]
    return names or None


def asks_archived(query: MultiMapping[str]) -> bool:
    return query.get("archived", "false").lower() == "true"


def written_properties(body: Mapping[str, Any]) -> dict[str, str]:
    """The property values a write carries (null clears a value, like "")."""
    properties = body.get("properties")
    if not isinstance(properties, dict):
        raise Invalid("properties must be an object of property names to string values")
    return {str(k): "" if v is None else v for k, v in properties.items()}


def batch_inputs(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise Invalid("inputs must be a list")
    if len(inputs) > BATCH_LIMIT:
        raise Invalid(f"Too many inputs: at most {BATCH_LIMIT} per batch, got {len(inputs)}")
    return inputs


def paging_token(company_id: str) -> str:
    """The opaque ``after`` of a listing page that ends at ``company_id``."""
    return base64.urlsafe_b64encode(company_id.encode()).decode()


def id_after(token: str | None) -> int | None:
    """The id a listing's ``after`` token continues from (None: from the start)."""
    if not token:
        return None
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except ValueError:
        raise Invalid(f"after {token!r} is not a paging token this API gave") from None
