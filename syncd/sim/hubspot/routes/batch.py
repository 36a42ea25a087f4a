"""The objects API's batch endpoints (companies, or contacts): read, create, update,
upsert and archive up to a hundred records in one request; each input that fails is one
error of a 207. A contacts batch create with an e-mail another contact has fails whole
with HubSpot's 409, naming the first taken e-mail's contact."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from syncd.sim.hubspot.kinds import COMPANIES, ObjectKind
from syncd.sim.hubspot.portal import Company, Invalid, NotFound, Portal, PortalError
from syncd.sim.hubspot.request_parsing import asks_archived, batch_inputs, written_properties
from syncd.sim.hubspot.responses import batch_response, standard_error

if TYPE_CHECKING:
    from syncd.sim.hubspot.simulator import HubSpotSimulator


class BatchRoutes:
    """Serves the batch endpoints over the simulator's portal (read at each request)."""

    def __init__(self, simulator: HubSpotSimulator, kind: ObjectKind = COMPANIES) -> None:
        self.simulator = simulator
        self.kind = kind

    @property
    def portal(self) -> Portal:
        return self.simulator.portal_of(self.kind)

    def add_to(self, app: web.Application, objects: str) -> None:
        add = app.router.add_route
        add("POST", f"{objects}/batch/read", self.read)
        add("POST", f"{objects}/batch/create", self.create)
        add("POST", f"{objects}/batch/update", self.update)
        add("POST", f"{objects}/batch/upsert", self.upsert)
        add("POST", f"{objects}/batch/archive", self.archive)

    async def read(self, request: web.Request) -> web.Response:
        """200, or 207 with one OBJECT_NOT_FOUND error listing every unknown id."""
        body = await request.json()
        inputs = batch_inputs(body)
        archived = asks_archived(request.query)
        id_property = body.get("idProperty")
        names = body.get("properties") or None
        found: dict[str, Company] = {}
        missing: list[str] = []
        for item in inputs:
            try:
                company = self.portal.get_by(id_property, str(item["id"]), archived=archived)
            except NotFound:
                missing.append(str(item["id"]))
                continue
            found.setdefault(company.id, company)
        errors = []
        if missing:
            errors.append(
                standard_error(
                    "OBJECT_NOT_FOUND",
                    f"Could not get some {self.kind.label} objects, they may be deleted or "
                    "not exist. "
                    "Check that ids are valid.",
                    {"ids": missing},
                )
            )
        return batch_response([c.public(names) for c in found.values()], errors, 200)

    async def create(self, request: web.Request) -> web.Response:
        """201; when every input has an ``objectWriteTraceId``, a bad one is an error of a
        207 and the others are created, else one bad input fails them all (400)."""
        inputs = batch_inputs(await request.json())
        portal = self.portal
        traced = all("objectWriteTraceId" in item for item in inputs)
        for item in inputs:  # a taken contact e-mail fails the whole batch, traced or not
            portal.check_email_free(written_properties(item).get("email"))
        if not traced:
            for item in inputs:
                portal.check(written_properties(item))
        results, errors = [], []
        for item in inputs:
            trace = item.get("objectWriteTraceId")
            try:
                company = self.simulator.create_with_associations(self.kind, item)
            except PortalError as exc:
                errors.append(
                    standard_error(exc.category, exc.message, {"objectWriteTraceId": [trace]})
                )
                continue
            public = company.public(company.properties)
            if trace is not None:
                public["objectWriteTraceId"] = trace
            results.append(public)
        return batch_response(results, errors, 201)

    async def update(self, request: web.Request) -> web.Response:
        portal = self.portal
        results, errors = [], []
        for item in batch_inputs(await request.json()):
            given = str(item["id"])
            try:
                company = portal.get_by(item.get("idProperty"), given)
                written = written_properties(item)
                portal.update(company, written)
            except PortalError as exc:
                errors.append(standard_error(exc.category, exc.message, {"ids": [given]}))
                continue
            # Like HubSpot: the properties written (as stored) and the server-kept ones,
            # not the whole company.
            public = company.public(written)
            if "objectWriteTraceId" in item:
                public["objectWriteTraceId"] = item["objectWriteTraceId"]
            results.append(public)
        return batch_response(results, errors, 200)

    async def upsert(self, request: web.Request) -> web.Response:
        """Each input by a unique property: updated if a company holds that value, else
        created with it; results carry ``new``."""
        portal = self.portal
        results: list[dict[str, Any]] = []
        errors = []
        for item in batch_inputs(await request.json()):
            given, id_property = str(item["id"]), item.get("idProperty")
            prop = portal.properties.get(str(id_property))
            if prop is None or not prop.unique:
                raise Invalid(f"idProperty {id_property} is not a property with unique values")
            try:
                try:
                    company = portal.get_by(prop.name, given)
                    portal.update(company, written_properties(item))
                    new = False
                except NotFound:
                    company = portal.create({**written_properties(item), prop.name: given})
                    new = True
            except PortalError as exc:
                errors.append(standard_error(exc.category, exc.message, {"ids": [given]}))
                continue
            results.append({**company.public(company.properties), "new": new})
        return batch_response(results, errors, 200)

    async def archive(self, request: web.Request) -> web.Response:
        """204, unknown ids left alone."""
        portal = self.portal
        for item in batch_inputs(await request.json()):
            try:
                portal.archive(portal.get(str(item["id"])))
            except NotFound:
                continue
        return web.Response(status=204)
