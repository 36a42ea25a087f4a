"""The portal's property definitions, read once per object type, and every write's
values checked against them before it is sent (:mod:`syncd.gateways.hubspot.properties`
says what HubSpot refuses)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from syncd.errors import RecordError
from syncd.gateways.hubspot.client import HubSpotClient
from syncd.gateways.hubspot.companies import CompanyMapping
from syncd.gateways.hubspot.properties import PropertySchema

__all__ = ["PortalSchemas"]


class PortalSchemas:
    """The property definitions of the entities' objects, as the portal has them."""

    def __init__(self, client: HubSpotClient, companies: CompanyMapping) -> None:
        self._client = client
        self._companies = companies
        self._schemas: dict[str, PropertySchema] = {}
        self._lock: asyncio.Lock | None = None  # made in the loop that first reads

    def forget(self) -> None:
        """Read the definitions afresh on next use (the portal may have been fixed)."""
        self._schemas.clear()

    async def of(self, entity: str) -> PropertySchema:
        """The definitions of the entity's object type, read on first use."""
        object_type = self._companies.object_type(entity)
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if object_type not in self._schemas:
                path = self._client.settings.properties_path(object_type)
                reply = await self._client.call("GET", path)
                self._schemas[object_type] = PropertySchema.from_results(
                    reply.body.get("results", [])
                )
        return self._schemas[object_type]

    async def check(self, entity: str, values: Mapping[str, str]) -> None:
        """RecordError naming the canonical field of the first value HubSpot would refuse."""
        problems = (await self.of(entity)).problems(values)
        if problems:
            name, reason = next(iter(problems.items()))
            raise RecordError(reason, field=self._companies.canonical(entity, name))
