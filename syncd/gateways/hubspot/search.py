"""Searching companies: the changes since a cursor, and look-ups by value.

``changed_since`` searches ``hs_lastmodifieddate`` in ``[since, now - settle]`` for
companies with the role, keyset-paged on ``hs_object_id`` (``GT`` the last id seen,
sorted ascending, never an offset) so neither the 10,000-result cap of search nor any
number of equal timestamps can lose or repeat a record. The window is read in slices of
at most ``slice_size`` companies (a crowded slice is cut around a sampled time), each
handed out a search page at a time as it comes, the page in ascending (modified, id)
order. HubSpot's search lags behind writes; the ``settle`` margin keeps the newest,
maybe not yet visible, seconds for a later cycle: the engine's cursor only advances to
the newest record it has seen. But a company written within the lag may still show its
*earlier* version there (old values, old ``hs_lastmodifieddate``), whatever the window:
the pages are ``hints_only``, and the engine reads what it decides on by id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

from syncd.errors import RecordError
from syncd.gateways.hubspot.answers import (
    JsonObject,
    chunks,
    epoch_ms,
    results_of,
    search_filter,
    total_of,
)
from syncd.gateways.hubspot.associations import PrimaryCompanies
from syncd.gateways.hubspot.client import HubSpotClient
from syncd.gateways.hubspot.companies import CompanyMapping
from syncd.gateways.hubspot.properties import to_text
from syncd.gateways.hubspot.reading import BATCH_SIZE
from syncd.gateways.hubspot.roles import CompanyRoles
from syncd.gateways.hubspot.schemas import PortalSchemas
from syncd.records import Page, Record, Side

__all__ = ["SLICE_SIZE", "CompanySearch"]

SEARCH_PAGE = 200
"""Most companies per search page (HubSpot's limit)."""
SLICE_SIZE = 20_000
"""Most companies a changes window holds in memory at once, as HubSpot sent them: a
bigger window costs extra requests to cut it."""


class _CrowdedWindow(Exception):
    """A search window holds more companies than we want to hold at once."""

    def __init__(self, sample: list[JsonObject]) -> None:
        super().__init__("crowded")
        self.sample = sample


class CompanySearch:
    """HubSpot's search endpoint, for the entity's companies (or any, with ``any_role``)."""

    def __init__(
        self,
        client: HubSpotClient,
        companies: CompanyMapping,
        roles: CompanyRoles,
        schemas: PortalSchemas,
        primaries: PrimaryCompanies,
    ) -> None:
        self._client = client
        self._companies = companies
        self._roles = roles
        self._schemas = schemas
        self._primaries = primaries

    async def changed_since(
        self,
        entity: str,
        since: datetime | None,
        *,
        settle: timedelta,
        page_size: int,
        slice_size: int,
    ) -> AsyncIterator[Page]:
        now = datetime.now(UTC)
        upper = now - settle if settle else now + timedelta(days=1)
        if since is not None and since > upper:
            return
        low = epoch_ms(since, up=True) if since is not None else 0
        async for window in self._search_window(entity, low, epoch_ms(upper), slice_size):
            # A search page's primary companies in one read (it takes up to 1,000 ids),
            # then handed out in pages of page_size.
            objects = await self._primaries.attach(entity, window)
            for chunk in chunks(objects, page_size):
                # Search may still show an earlier version of a company: hints only.
                page = self._companies.to_page(entity, chunk)
                yield dataclasses.replace(page, hints_only=True)

    async def _search_window(
        self, entity: str, low: int, high: int, slice_size: int
    ) -> AsyncIterator[list[JsonObject]]:
        """Companies modified in [low, high] (epoch ms), a search page at a time, each
        ascending by (modified, id).

        The pages come by id (the search is keyset-paged on it), as HubSpot sends them:
        sorting the window whole would hold back its first changes until its last page
        came, and the engine needs no order (its cursor is the newest change seen). A
        window holding more than ``slice_size`` companies is cut in three around the
        median time of its first page (a sample): before, at, and after it. So memory
        stays bounded however big the backlog, and a single millisecond is never cut: its
        companies, however many share it, are keyset-paged on their ids.
        """
        if low > high:
            return
        modified = self._companies.spec(entity).modified
        filters = [
            search_filter(modified, "GTE", str(low)),
            search_filter(modified, "LTE", str(high)),
        ]
        at_most = slice_size if high > low else None
        pages = self.pages(entity, filters, at_most=at_most)
        try:
            first: list[JsonObject] = await anext(pages, [])
        except _CrowdedWindow as crowded:
            sort_time = self._companies.sort_time
            times = sorted(epoch_ms(sort_time(entity, obj)) for obj in crowded.sample)
            middle = min(max(times[len(times) // 2], low), high) if times else (low + high) // 2
            for part in ((low, middle - 1), (middle, middle), (middle + 1, high)):
                async for found_part in self._search_window(entity, *part, slice_size):
                    yield found_part
            return
        if first:
            yield self._sorted_by_time(entity, first)
        async for page in pages:
            if page:
                yield self._sorted_by_time(entity, page)

    def _sorted_by_time(self, entity: str, objects: list[JsonObject]) -> list[JsonObject]:
        sort_time = self._companies.sort_time
        return sorted(objects, key=lambda obj: (sort_time(entity, obj), obj["id"]))

    async def find_by_values(
        self, entity: str, field: str, values: Sequence[str], *, other_roles: bool
    ) -> list[Record]:
        """Companies whose canonical ``field`` is one of ``values``: with the entity's
        role, or with ``other_roles`` those without it."""
        fieldmap = self._companies.mapping(entity).field(field)
        natives: set[str] = set()
        for value in values:
            try:
                natives.add(to_text(fieldmap.write(Side.CRM, value)))
            except RecordError:
                continue  # a value the CRM cannot hold is held by no company
        natives.discard("")
        prop = (await self._schemas.of(entity)).definitions.get(fieldmap.crm)
        if prop is None or prop.type == "string":
            # HubSpot's search guide asks for IN values on text properties in lower case;
            # the canonical comparison below keeps the match exact.
            natives = {n.lower() for n in natives}
        wanted = set(values)
        found: dict[str, Record] = {}
        for chunk in chunks(sorted(natives), BATCH_SIZE):
            objects = await self._search_matching(
                entity, [search_filter(fieldmap.crm, "IN", chunk)], any_role=other_roles
            )
            for obj in await self._primaries.attach(entity, objects):
                if other_roles and self._roles.is_held_by(entity, obj):
                    continue
                record = self._companies.to_record(entity, obj)
                if isinstance(record, Record) and record.fields.get(field) in wanted:
                    found[record.id] = record
        return sorted(found.values(), key=lambda r: int(r.id))

    async def _search_matching(
        self, entity: str, filters: Sequence[JsonObject], *, any_role: bool = False
    ) -> list[JsonObject]:
        """Every company with the role (any company, with ``any_role``) matching
        ``filters``."""
        pages = self.pages(entity, filters, any_role=any_role)
        return [obj async for page in pages for obj in page]

    async def count(self, entity: str) -> int:
        """About how many companies have the role, by one search of one result: its
        ``total`` (the list endpoint tells none). The newest companies may not be in
        search yet: an estimate only."""
        role = self._roles.role(entity)
        with_role = [search_filter(role.property_name, "IN", role.values)] if role else []
        path = f"{self._companies.path(entity)}/search"
        body = {
            "filterGroups": [{"filters": with_role}] if with_role else [],
            "properties": ["hs_object_id"],
            "limit": 1,
        }
        reply = await self._client.call("POST", path, body=body, search=True)
        return total_of(reply.body)

    async def pages(
        self,
        entity: str,
        filters: Sequence[JsonObject],
        *,
        at_most: int | None = None,
        any_role: bool = False,
    ) -> AsyncIterator[list[JsonObject]]:
        """The companies with the role (any company, with ``any_role``) matching
        ``filters``, a page at a time, keyset-paged on the id (so no company twice).

        _CrowdedWindow, at the first page, if HubSpot counts more than ``at_most`` of them.
        """
        base = list(filters)
        if (role := self._roles.role(entity)) and not any_role:
            base.append(search_filter(role.property_name, "IN", role.values))
        path = f"{self._companies.path(entity)}/search"
        last: str | None = None
        while True:
            page_filters = base + ([search_filter("hs_object_id", "GT", last)] if last else [])
            body = {
                "filterGroups": [{"filters": page_filters}],
                "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                "properties": self._companies.property_names(entity),
                "limit": SEARCH_PAGE,
                "after": "0",
            }
            reply = await self._client.call("POST", path, body=body, search=True)
            results = results_of(reply.body, f"POST {path}")
            if at_most is not None and last is None and total_of(reply.body) > at_most:
                raise _CrowdedWindow(results)
            yield [o for o in results if any_role or self._roles.is_held_by(entity, o)]
            if len(results) < SEARCH_PAGE:
                return
            last = str(max(int(o["id"]) for o in results))
