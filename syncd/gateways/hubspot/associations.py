"""A contact's company: its *primary* company association, read and written through
HubSpot's associations v4 (``/crm/v4/associations/contacts/companies/batch/...``, or the
dated ``/crm/associations/{YYYY-MM}/...``).

The mapping's reference field (``primary_company``, whose ``refers_to`` is set) is no
property: its value is the id of the company the contact has an association of type
**1** (category ``HUBSPOT_DEFINED``) with. Reading it costs one batch read per page of
contacts (up to 1,000 ids a request), never one per contact; a contact without
associations (HubSpot's ``NO_ASSOCIATIONS_FOUND`` error of a 207) has no company.

Writing a company makes it the primary one (an association of type 1): HubSpot keeps
one primary company per contact, and the former one stays associated, unlabeled. A
contact's primary company is never removed here: HubSpot changes it, syncd does not
leave a contact without one (a blank company is refused, see :meth:`refuse_blank`).

Making a company primary is idempotent: a write whose outcome was lost may be sent again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from syncd.errors import PermanentError, RecordError
from syncd.gateways.hubspot.answers import JsonObject, chunks, next_after
from syncd.gateways.hubspot.client import HubSpotClient, NotFound
from syncd.gateways.hubspot.companies import CompanyMapping
from syncd.problems.report import describe
from syncd.records import Record

__all__ = ["PRIMARY_COMPANY", "PrimaryCompanies"]

PRIMARY_COMPANY = 1
"""HubSpot's association type id of a contact's primary company (HUBSPOT_DEFINED)."""
PRIMARY_FROM_COMPANY = 2
"""The same association read from the company: the contacts it is the primary one of."""
_CATEGORY = "HUBSPOT_DEFINED"
_PRIMARY = {"associationCategory": _CATEGORY, "associationTypeId": PRIMARY_COMPANY}
_COMPANIES = "companies"
READ_BATCH = 1_000
"""Ids per associations batch read (HubSpot's limit since 2024)."""
WRITE_BATCH = 100
"""Pairs per associations batch create: as many as the objects' batches take (HubSpot's
documented limit is higher; 100 keeps every write request the same size)."""


class PrimaryCompanies:
    """The primary company of each contact of an entity with a reference field."""

    def __init__(self, client: HubSpotClient, companies: CompanyMapping) -> None:
        self._client = client
        self._companies = companies

    # -- reading -----------------------------------------------------------------------------

    async def attach(self, entity: str, objects: Sequence[JsonObject]) -> list[JsonObject]:
        """``objects`` with their primary company among their properties (None without
        one), under the reference field's name; unchanged for an entity without one."""
        name = self._companies.reference(entity)
        if name is None or not objects:
            return list(objects)
        primaries = await self.of(entity, [str(o["id"]) for o in objects])
        return [_with_property(o, name, primaries.get(str(o["id"]))) for o in objects]

    async def contacts_at(self, entity: str, companies: Sequence[str]) -> list[str]:
        """The contacts whose primary company is one of ``companies`` (a request per
        1,000 companies: the associations read from the company side)."""
        path = self._path(entity, "read", reverse=True)
        found: list[str] = []
        pending: list[JsonObject] = [{"id": i} for i in dict.fromkeys(companies) if i.isdigit()]
        while pending:
            more: list[JsonObject] = []
            for chunk in chunks(pending, READ_BATCH):
                reply = await self._client.call("POST", path, body={"inputs": chunk})
                for result in _results(reply.body, f"POST {path}"):
                    found += _typed(result["to"], PRIMARY_FROM_COMPANY, f"POST {path}")
                    if after := next_after(result):
                        more.append({"id": str(result["from"]["id"]), "after": after})
            pending = more
        return list(dict.fromkeys(found))

    async def of(self, entity: str, ids: Sequence[str]) -> dict[str, str]:
        """The primary company of each of ``ids`` that has one (a request per 1,000 ids).

        A contact with more associations than one answer holds, and none of them primary
        so far, is asked for again from where its answer stopped, with the others of its
        kind in one request.
        """
        path = self._path(entity, "read")
        found: dict[str, str] = {}
        pending: list[JsonObject] = [{"id": i} for i in dict.fromkeys(ids)]
        while pending:
            more: list[JsonObject] = []
            for chunk in chunks(pending, READ_BATCH):
                reply = await self._client.call("POST", path, body={"inputs": chunk})
                for result in _results(reply.body, f"POST {path}"):
                    contact = str(result["from"]["id"])
                    primary = _typed(result["to"], PRIMARY_COMPANY, f"POST {path}")
                    if primary:
                        found[contact] = primary[0]
                    elif after := next_after(result):
                        more.append({"id": contact, "after": after})
            pending = more
        return found

    # -- writing -----------------------------------------------------------------------------

    def for_create(self, company: str | None) -> list[JsonObject]:
        """The ``associations`` of a create body making ``company`` the primary one."""
        return [{"to": {"id": company}, "types": [_PRIMARY]}] if company else []

    def refuse_blank(self, entity: str) -> RecordError:
        """Why an update blanking the company is refused."""
        return RecordError(
            "HubSpot keeps a contact's primary company until another company is made "
            "primary; syncd does not take it away (remove the association in HubSpot, or "
            "give the contact another company)",
            field=self.field_name(entity),
        )

    async def make_primary(
        self, entity: str, pairs: Sequence[tuple[str, str]]
    ) -> dict[str, RecordError]:
        """Make each (contact, company) pair's company the contact's primary company, a
        request per 100 pairs; the contacts HubSpot refused it for, with the reason."""
        path = self._path(entity, "create")
        refused: dict[str, RecordError] = {}
        for chunk in chunks(list(pairs), WRITE_BATCH):
            inputs = [{"from": {"id": c}, "to": {"id": co}, "types": [_PRIMARY]} for c, co in chunk]
            try:
                reply = await self._client.call("POST", path, body={"inputs": inputs}, write=True)
            except RecordError as exc:  # HubSpot refused the whole request
                refused.update({contact: self._named(entity, exc) for contact, _ in chunk})
                continue
            refused.update(self._refusals(entity, reply.body))
        return refused

    def with_company(self, entity: str, record: Record, company: str | None) -> Record:
        """``record`` holding ``company`` as its company (just written, so as stored;
        None or "" for none); unchanged for an entity without a company."""
        name = self.field_name(entity)
        if name is None:
            return record
        return dataclasses.replace(record, fields={**record.fields, name: company or None})

    def field_name(self, entity: str) -> str | None:
        """The canonical name of the entity's reference field, if it has one."""
        field = self._companies.mapping(entity).reference
        return field.name if field is not None else None

    def _refusals(self, entity: str, body: Any) -> dict[str, RecordError]:
        errors = body.get("errors") if isinstance(body, dict) else None
        refused: dict[str, RecordError] = {}
        for error in errors if isinstance(errors, list) else []:
            if not isinstance(error, dict):
                continue
            context = error.get("context")
            contacts = context.get("fromObjectId") if isinstance(context, dict) else None
            said = f"HubSpot refused the primary company: {error.get('message', '')}".strip()
            problem: RecordError = (
                NotFound(said)
                if error.get("category") == "OBJECT_NOT_FOUND"
                else RecordError(said, field=self.field_name(entity))
            )
            for contact in contacts if isinstance(contacts, list) else []:
                refused[str(contact)] = problem
        return refused

    def _named(self, entity: str, exc: RecordError) -> RecordError:
        if isinstance(exc, NotFound):
            return exc
        return RecordError(str(exc), field=self.field_name(entity))

    def _path(self, entity: str, action: str, *, reverse: bool = False) -> str:
        """The path of a batch ``action`` from contacts to companies (or back)."""
        settings = self._client.settings
        types = (self._companies.object_type(entity), _COMPANIES)
        from_type, to_type = reversed(types) if reverse else types
        return f"{settings.associations_path(from_type, to_type)}/{action}"


def _with_property(obj: JsonObject, name: str, value: str | None) -> JsonObject:
    properties = obj.get("properties")
    shown = dict(properties) if isinstance(properties, Mapping) else {}
    return {**obj, "properties": {**shown, name: value}}


def _results(body: object, request: str) -> list[JsonObject]:
    """The results of an associations batch read, each with a ``from`` id and a ``to``
    list (errors, such as NO_ASSOCIATIONS_FOUND, are contacts without companies)."""
    results = body.get("results", []) if isinstance(body, dict) else None
    if not isinstance(results, list) or not all(_readable(r) for r in results):
        raise PermanentError(
            f"HubSpot {request}: the answer is {describe(body)}, not associations; "
            "nothing of it was used"
        )
    return results


def _readable(result: object) -> bool:
    if not isinstance(result, dict):
        return False
    source = result.get("from")
    return isinstance(source, dict) and "id" in source and isinstance(result.get("to"), list)


def _typed(associated: list[Any], type_id: int, request: str) -> list[str]:
    """The ids of the records among ``associated`` with the HubSpot-defined ``type_id``."""
    found: list[str] = []
    for target in associated:
        types = target.get("associationTypes") if isinstance(target, dict) else None
        if not isinstance(types, list) or "toObjectId" not in target:
            raise PermanentError(f"HubSpot {request}: an association is {describe(target)}")
        if any(
            isinstance(kind, dict)
            and kind.get("category") == _CATEGORY
            and kind.get("typeId") == type_id
            for kind in types
        ):
            found.append(str(target["toObjectId"]))
    return found
