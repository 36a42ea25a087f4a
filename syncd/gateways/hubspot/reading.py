"""Reading companies (or contacts) by listing and by id: the list endpoint, paged ahead,
and ``batch/read``, which, unlike search, does not lag behind writes. A contact's company
comes from its associations, read once per page
(:mod:`~syncd.gateways.hubspot.associations`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import replace

from syncd.gateways.http.pages_ahead import read_ahead, side_by_side
from syncd.gateways.hubspot.answers import (
    JsonObject,
    chunks,
    merge_survivors,
    next_after,
    properties_of,
    results_of,
)
from syncd.gateways.hubspot.associations import PrimaryCompanies
from syncd.gateways.hubspot.client import HubSpotClient, Reply
from syncd.gateways.hubspot.companies import CompanyMapping
from syncd.gateways.hubspot.roles import CompanyRoles
from syncd.records import Page, Record, Side

__all__ = ["BATCH_SIZE", "LIST_PAGE", "CompanyReader"]

BATCH_SIZE = 100
"""Inputs per batch request (HubSpot's limit)."""
LIST_PAGE = 100
"""Most companies per page of the list endpoint (HubSpot's limit)."""


class CompanyReader:
    """Lists the entity's companies and reads them by id or by correlation key."""

    def __init__(
        self,
        client: HubSpotClient,
        companies: CompanyMapping,
        roles: CompanyRoles,
        primaries: PrimaryCompanies,
    ) -> None:
        self._client = client
        self._companies = companies
        self._roles = roles
        self._primaries = primaries

    async def list_all(self, entity: str, page_size: int) -> AsyncIterator[Page]:
        """Every active company, a page at a time, the next page asked for ahead."""
        params = {
            "limit": str(page_size),
            "properties": ",".join(self._companies.property_names(entity)),
            "archived": "false",
        }
        path = self._companies.path(entity)

        def following(reply: Reply) -> Awaitable[Reply] | None:
            after = next_after(reply.body)
            if not after:
                return None
            return self._client.call("GET", path, params={**params, "after": str(after)})

        async for reply in read_ahead(self._client.call("GET", path, params=params), following):
            page = await self._list_page(entity, results_of(reply.body, f"GET {path}"))
            if page.records or page.rejected or page.others:
                yield page

    async def list_archived(self, entity: str) -> AsyncIterator[list[str]]:
        """Pages of the ids of archived companies with the role (the sweep for deletes)."""
        spec = self._companies.spec(entity)
        names = [spec.id, spec.modified] + (
            [role.property_name] if (role := self._roles.role(entity)) else []
        )
        path = self._companies.path(entity)
        params = {"limit": str(LIST_PAGE), "properties": ",".join(names), "archived": "true"}
        while True:
            reply = await self._client.call("GET", path, params=params)
            results = results_of(reply.body, f"GET {path}")
            ids = [str(o["id"]) for o in results if self._roles.is_held_by(entity, o)]
            if ids:
                yield ids
            after = next_after(reply.body)
            if not after:
                return
            params = {**params, "after": str(after)}

    async def read(self, entity: str, ids: Sequence[str]) -> Page:
        wanted = [i for i in dict.fromkeys(ids) if i.isdigit()]  # HubSpot ids are numbers
        found = await self.batch_read(entity, wanted)
        objects = [o for o in found if self._roles.is_held_by(entity, o)]
        page = self._companies.to_page(entity, await self._primaries.attach(entity, objects))
        page.moved.update(merge_survivors(wanted, objects))
        return page

    async def merged_into(self, entity: str, ids: Sequence[str]) -> dict[str, str]:
        """Which of ``ids`` were merged away, and the id of the company each lives on in."""
        wanted = sorted({i for i in ids if i.isdigit()})
        return merge_survivors(wanted, await self.batch_read(entity, wanted))

    async def find_by_correlation(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        spec = self._companies.spec(entity)
        wanted = list(dict.fromkeys(k for k in keys if k))
        found: dict[str, Record] = {}
        objects = await self.batch_read(entity, wanted, id_property=spec.correlation)
        for obj in await self._primaries.attach(entity, objects):
            record = self._companies.to_record(entity, obj)
            key = properties_of(obj).get(spec.correlation)
            if isinstance(record, Record) and key in wanted and self._roles.is_held_by(entity, obj):
                found.setdefault(key, record)
        return found

    async def batch_read(
        self, entity: str, ids: Sequence[str], *, id_property: str | None = None
    ) -> list[JsonObject]:
        """The companies of ``ids``: a request per 100, side by side (within the limits)."""
        path = f"{self._companies.path(entity)}/batch/read"

        async def read(chunk: list[str]) -> list[JsonObject]:
            body: JsonObject = {
                "inputs": [{"id": i} for i in chunk],
                "properties": self._companies.property_names(entity),
                "propertiesWithHistory": [],
            }
            if id_property is not None:
                body["idProperty"] = id_property
            reply = await self._client.call("POST", path, body=body)
            return results_of(reply.body, f"POST {path}")

        parts = chunks(list(ids), BATCH_SIZE)
        return [found for part in await side_by_side(map(read, parts)) for found in part]

    async def read_one(self, entity: str, record_id: str) -> Record:
        """One company as stored (RecordError if it cannot be read)."""
        path = f"{self._companies.path(entity)}/{record_id}"
        params = {"properties": ",".join(self._companies.property_names(entity))}
        reply = await self._client.call("GET", path, params=params)
        obj = results_of({"results": [reply.body]}, f"GET {path}")[0]
        (obj,) = await self._primaries.attach(entity, [obj])
        return self._companies.stored_record(entity, obj)

    async def _list_page(self, entity: str, objects: Sequence[JsonObject]) -> Page:
        """A list page: the entity's companies, and the others by their match keys."""
        ours: list[JsonObject] = []
        others: list[JsonObject] = []
        for obj in objects:
            (ours if self._roles.is_held_by(entity, obj) else others).append(obj)
        page = self._companies.to_page(entity, await self._primaries.attach(entity, ours))
        mapping = self._companies.mapping(entity)
        for obj in others:  # with its time: a side of no such company yet still has a cursor
            keys = mapping.key_record(Side.CRM, str(obj["id"]), properties_of(obj))
            page.others.append(replace(keys, modified=self._companies.modified(entity, obj)))
        return page
