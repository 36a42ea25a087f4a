"""Associations v4 between contacts and companies: batch read, batch create, batch
archive, and the default (unlabeled) association, single and in batch; under
``/crm/v4/...`` and the dated ``/crm/associations/{YYYY-MM}/...`` alike.

``{fromObjectType}``/``{toObjectType}`` may name a type by plural, singular or type id
(``contacts``, ``contact``, ``0-1``). A batch read answers each record without
associations (or unknown, or archived) with HubSpot's ``NO_ASSOCIATIONS_FOUND`` error of
a 207, and takes at most 1,000 ids.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from syncd.sim.hubspot.associations import PRIMARY_LABEL, Associated
from syncd.sim.hubspot.kinds import ObjectKind, kind_named
from syncd.sim.hubspot.portal import Invalid, NotFound, PortalError
from syncd.sim.hubspot.responses import batch_response, standard_error

if TYPE_CHECKING:
    from syncd.sim.hubspot.associations import Associations
    from syncd.sim.hubspot.simulator import HubSpotSimulator

_DATED = "{version:[0-9]{4}-[0-9]{2}}"
# (batch, default) paths of v4 and of the dated API, which serve the same associations
PATHS = (
    (
        "/crm/v4/associations/{from_type}/{to_type}/batch",
        "/crm/v4/objects/{from_type}/{from_id}/associations/default/{to_type}/{to_id}",
    ),
    (
        f"/crm/associations/{_DATED}/{{from_type}}/{{to_type}}/batch",
        f"/crm/objects/{_DATED}/{{from_type}}/{{from_id}}/associations/default/"
        "{to_type}/{to_id}",
    ),
)
READ_LIMIT = 1_000
CATEGORY = "HUBSPOT_DEFINED"


class AssociationRoutes:
    """Serves the simulator's associations (read at each request: a reset replaces them)."""

    def __init__(self, simulator: HubSpotSimulator) -> None:
        self.simulator = simulator

    def add_to(self, app: web.Application) -> None:
        add = app.router.add_route
        for batch, default in PATHS:
            add("POST", f"{batch}/read", self.read)
            add("POST", f"{batch}/create", self.create)
            add("POST", f"{batch}/archive", self.archive)
            add("POST", f"{batch}/associate/default", self.associate_default)
            add("PUT", default, self.put_default)

    @property
    def associations(self) -> Associations:
        return self.simulator.associations

    async def read(self, request: web.Request) -> web.Response:
        source, target = _kinds(request)
        inputs = _inputs(await request.json(), READ_LIMIT)
        unlabeled, primary = self.associations.type_ids(source, target)
        results, errors = [], []
        for item in inputs:
            record_id = str(item["id"])
            try:
                found = self.associations.of(source, record_id)
            except NotFound:
                found = []
            if not found:
                errors.append(_none_found(source, target, record_id))
                continue
            to = [_associated(a, unlabeled, primary) for a in found]
            results.append({"from": {"id": record_id}, "to": to})
        return batch_response(results, errors, 200)

    async def create(self, request: web.Request) -> web.Response:
        """201 with the labels now between each pair; an input naming an unknown or
        archived record, or a type of another direction, is an error of a 207."""
        source, target = _kinds(request)
        results, errors = [], []
        for item in _inputs(await request.json(), None):
            from_id, to_id = str(item["from"]["id"]), str(item["to"]["id"])
            type_ids = [int(t["associationTypeId"]) for t in item.get("types") or []]
            try:
                now = self.associations.associate(source, from_id, to_id, type_ids)
            except PortalError as exc:
                context = {"fromObjectId": [from_id], "toObjectId": [to_id]}
                errors.append(standard_error(exc.category, exc.message, context))
                continue
            labels = [PRIMARY_LABEL] if len(now) > 1 else []
            results.append(
                {
                    "fromObjectTypeId": source.type_id,
                    "fromObjectId": from_id,
                    "toObjectTypeId": target.type_id,
                    "toObjectId": to_id,
                    "labels": labels,
                }
            )
        return batch_response(results, errors, 201)

    async def archive(self, request: web.Request) -> web.Response:
        """204; every association between each pair goes, unknown pairs are left alone."""
        source, _ = _kinds(request)
        for item in _inputs(await request.json(), None):
            for to in item.get("to") or []:
                self.associations.dissociate(source, str(item["from"]["id"]), str(to["id"]))
        return web.Response(status=204)

    async def associate_default(self, request: web.Request) -> web.Response:
        source, target = _kinds(request)
        pairs = [
            (str(i["from"]["id"]), str(i["to"]["id"])) for i in _inputs(await request.json(), None)
        ]
        return self._default(source, target, pairs)

    async def put_default(self, request: web.Request) -> web.Response:
        source, target = _kinds(request)
        info = request.match_info
        return self._default(source, target, [(info["from_id"], info["to_id"])])

    def _default(
        self, source: ObjectKind, target: ObjectKind, pairs: list[tuple[str, str]]
    ) -> web.Response:
        """The unlabeled association for each pair (an unknown record fails the request
        with a 404, as the single PUT does)."""
        unlabeled, _ = self.associations.type_ids(source, target)
        results = []
        for from_id, to_id in pairs:
            self.associations.associate(source, from_id, to_id, [unlabeled])
            results.append(
                {
                    "from": {"id": from_id},
                    "to": {"id": to_id},
                    "associationSpec": {
                        "associationCategory": CATEGORY,
                        "associationTypeId": unlabeled,
                    },
                }
            )
        return batch_response(results, [], 200)


def _kinds(request: web.Request) -> tuple[ObjectKind, ObjectKind]:
    source = kind_named(request.match_info["from_type"])
    target = kind_named(request.match_info["to_type"])
    if source is None or target is None:
        raise Invalid("Unknown object type in the path")
    return source, target


def _inputs(body: Any, limit: int | None) -> list[dict[str, Any]]:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise Invalid("inputs must be a list")
    if limit is not None and len(inputs) > limit:
        raise Invalid(f"Too many inputs: at most {limit} per batch, got {len(inputs)}")
    return inputs


def _associated(found: Associated, unlabeled: int, primary: int) -> dict[str, Any]:
    """One associated record with its types (the unlabeled one's label is null)."""
    types: list[dict[str, Any]] = [{"category": CATEGORY, "typeId": unlabeled, "label": None}]
    if found.primary:
        types.insert(0, {"category": CATEGORY, "typeId": primary, "label": PRIMARY_LABEL})
    return {"toObjectId": found.id, "associationTypes": types}


def _none_found(source: ObjectKind, target: ObjectKind, record_id: str) -> dict[str, Any]:
    error = standard_error(
        "OBJECT_NOT_FOUND",
        f"No {target.singular} is associated with {source.singular} {record_id}.",
        {
            "fromObjectId": [record_id],
            "fromObjectType": [source.singular],
            "toObjectType": [target.singular],
        },
    )
    error["subCategory"] = "crm.associations.NO_ASSOCIATIONS_FOUND"
    return error
