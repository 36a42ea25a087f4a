"""The objects API (companies, or contacts), one record at a time: list, read, create,
update, archive, merge, search, and the property definitions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from syncd.sim.hubspot.kinds import COMPANIES, ObjectKind
from syncd.sim.hubspot.portal import Company, Invalid, NotFound, Portal
from syncd.sim.hubspot.request_parsing import (
    asks_archived,
    id_after,
    paging_token,
    requested_names,
    written_properties,
)
from syncd.sim.hubspot.search import run_search

if TYPE_CHECKING:
    from syncd.sim.hubspot.simulator import HubSpotSimulator

LIST_LIMIT = 100


class CompanyRoutes:
    """Serves the simulator's companies (or the records of ``kind``); reads its portal at
    each request (a reset replaces it)."""

    def __init__(self, simulator: HubSpotSimulator, kind: ObjectKind = COMPANIES) -> None:
        self.simulator = simulator
        self.kind = kind

    @property
    def portal(self) -> Portal:
        return self.simulator.portal_of(self.kind)

    def add_to(self, app: web.Application, objects: str) -> None:
        """Routes under ``objects``, the companies' path (before ``/batch``)."""
        add = app.router.add_route
        add("GET", objects, self.list)
        add("POST", objects, self.create)
        add("POST", f"{objects}/search", self.search)
        if self.kind is COMPANIES:
            add("POST", f"{objects}/merge", self.merge)
        add("GET", objects + "/{company_id}", self.read)
        add("PATCH", objects + "/{company_id}", self.update)
        add("DELETE", objects + "/{company_id}", self.archive)

    async def properties(self, request: web.Request) -> web.Response:
        properties = self.portal.properties
        return web.json_response({"results": [p.to_json() for p in properties.values()]})

    async def list(self, request: web.Request) -> web.Response:
        query = request.query
        limit = int(query.get("limit", "10"))
        if not 1 <= limit <= LIST_LIMIT:
            raise Invalid(f"limit must be between 1 and {LIST_LIMIT}")
        after = id_after(query.get("after"))
        names = requested_names(query)
        chosen: list[Company] = []
        more = False
        for company in self.portal.live(archived=asks_archived(query), after=after):
            if len(chosen) == limit:
                more = True
                break
            chosen.append(company)
        body: dict[str, Any] = {"results": [c.public(names) for c in chosen]}
        if more:
            token = paging_token(chosen[-1].id)
            body["paging"] = {"next": {"after": token, "link": f"?after={token}"}}
        return web.json_response(body)

    async def read(self, request: web.Request) -> web.Response:
        query = request.query
        company = self.portal.get_by(
            query.get("idProperty"),
            request.match_info["company_id"],
            archived=asks_archived(query),
        )
        return web.json_response(company.public(requested_names(query)))

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        company = self.simulator.create_with_associations(self.kind, body)
        return web.json_response(company.public(company.properties), status=201)

    async def update(self, request: web.Request) -> web.Response:
        body = await request.json()
        portal = self.portal
        company = portal.get_by(request.query.get("idProperty"), request.match_info["company_id"])
        portal.update(company, written_properties(body))
        return web.json_response(company.public(company.properties))

    async def archive(self, request: web.Request) -> web.Response:
        """DELETE archives; an unknown or archived id is answered 204 all the same."""
        portal = self.portal
        try:
            company = portal.get(request.match_info["company_id"])
        except NotFound:
            return web.Response(status=204)
        portal.archive(company)
        return web.Response(status=204)

    async def search(self, request: web.Request) -> web.Response:
        body = await request.json()
        simulator = self.simulator
        portal = self.portal
        found = run_search(
            portal.search_view(),
            body,
            portal.properties,
            simulator.limits,
            portal.view_lookup,
            simulator.searches_of(self.kind),
            self.kind,
        )
        return web.json_response(found)

    async def merge(self, request: web.Request) -> web.Response:
        body = await request.json()
        survivor_id = self.simulator.merge(
            str(body["primaryObjectId"]), str(body["objectIdToMerge"])
        )
        survivor = self.portal.companies[survivor_id]
        return web.json_response(survivor.public(survivor.properties))
