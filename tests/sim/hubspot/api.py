"""Talking to the HubSpot simulator over HTTP, as the tests of its routes do."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

AUTH = {"Authorization": "Bearer pat-na1-any"}
COMPANIES = "/crm/v3/objects/companies"
CONTACTS = "/crm/v3/objects/contacts"
ASSOCIATIONS = "/crm/v4/associations"


async def call(
    http: aiohttp.ClientSession, method: str, path: str, body: Any = None, **params: str
) -> tuple[int, Any]:
    async with http.request(method, path, json=body, params=params or None) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None


async def search(http: aiohttp.ClientSession, *filters: dict[str, Any], **extra: Any) -> Any:
    body = {"filterGroups": [{"filters": list(filters)}] if filters else [], **extra}
    status, answer = await call(http, "POST", f"{COMPANIES}/search", body)
    assert status == 200, answer
    return answer
