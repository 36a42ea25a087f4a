"""Writing one company (or contact): create, partial update, and the role a company takes
on or gives up.

``create`` writes the correlation key and the role, and a contact's primary company in
the same request (the create body's ``associations``); ``update`` makes a changed
company the contact's primary one (:mod:`~syncd.gateways.hubspot.associations`), then is
a partial ``PATCH``, read back whole. A contact e-mail another contact has is refused
with :class:`~syncd.errors.TakenError` naming that contact. ``deactivate`` takes the
entity's role off a company that keeps another role, archives it otherwise, and refuses a
merged-away id (its survivor may be linked to another record); ``adopt`` gives an
existing company a second role. Before any write the values are checked against the
portal's property definitions: a bad value is a RecordError naming the canonical field and
the property, and costs no request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syncd.errors import RecordError, TakenError
from syncd.gateways.hubspot.answers import JsonObject, properties_of
from syncd.gateways.hubspot.associations import PrimaryCompanies
from syncd.gateways.hubspot.client import HubSpotClient, NotFound, property_named
from syncd.gateways.hubspot.companies import CompanyMapping
from syncd.gateways.hubspot.properties import to_text
from syncd.gateways.hubspot.reading import CompanyReader
from syncd.gateways.hubspot.roles import CompanyRoles
from syncd.gateways.hubspot.schemas import PortalSchemas
from syncd.records import Record, Side, Value

__all__ = ["CompanyWriter"]

UNIQUE_EMAIL = "email"
"""The contact property HubSpot keeps unique (a taken one is a 409 naming its holder)."""


class CompanyWriter:
    """Writes companies one at a time, and prepares the values every write sends."""

    def __init__(
        self,
        client: HubSpotClient,
        companies: CompanyMapping,
        roles: CompanyRoles,
        schemas: PortalSchemas,
        reader: CompanyReader,
        primaries: PrimaryCompanies,
    ) -> None:
        self._client = client
        self._companies = companies
        self._roles = roles
        self._schemas = schemas
        self._reader = reader
        self.primaries = primaries

    async def create(self, entity: str, fields: Mapping[str, Value], correlation: str) -> Record:
        body = await self.create_body(entity, fields, correlation)
        reply = await self.send("POST", self._companies.path(entity), entity, body)
        return self.created_record(entity, reply, fields)

    async def update(
        self,
        entity: str,
        record_id: str,
        fields: Mapping[str, Value],
        correlation: str | None = None,
    ) -> Record:
        values = await self.update_values(entity, fields, correlation)
        company = self.company_written(entity, fields)
        if company:
            refused = await self.primaries.make_primary(entity, [(record_id, company)])
            if record_id in refused:
                raise refused[record_id]
        if values or not company:
            path = f"{self._companies.path(entity)}/{record_id}"
            await self.send("PATCH", path, entity, {"properties": values})
        return await self._reader.read_one(entity, record_id)

    async def deactivate(self, entity: str, record_id: str) -> None:
        """Take the role off a company that keeps another one; archive it otherwise."""
        path = f"{self._companies.path(entity)}/{record_id}"
        role = self._roles.role(entity)
        others = self._roles.of_others(entity)
        names = [r.property_name for r in (role, *others) if r is not None]
        params = {"properties": ",".join(names)} if names else None
        current = (await self._client.call("GET", path, params=params)).body
        if str(current.get("id")) != record_id:  # a merged id reads as its survivor
            raise RecordError(
                f"HubSpot company {record_id} was merged into {current.get('id')}; "
                "syncd archives no survivor of a merge",
                reference=record_id,
            )
        properties = properties_of(current)
        kept = role.value_without_role(properties.get(role.property_name)) if role else None
        # a role another property says (suppliers by `type`, customers by another) stays
        elsewhere = any(r.is_held_by(properties.get(r.property_name)) for r in others)
        if role and (kept is not None or elsewhere):
            values = {role.property_name: kept or ""}
            await self.send("PATCH", path, entity, {"properties": values})
        else:
            await self._client.call("DELETE", path, write=True)

    async def adopt(self, entity: str, record_id: str) -> Record:
        """Give an existing company the entity's role (a customer becoming a supplier too).

        For an engine that finds, before creating a company, one that already exists
        under another role (same KvK number): tick the role instead of a duplicate.
        """
        role = self._roles.role(entity)
        if role is None:
            return await self._reader.read_one(entity, record_id)
        path = f"{self._companies.path(entity)}/{record_id}"
        params = {"properties": role.property_name}
        have = properties_of((await self._client.call("GET", path, params=params)).body)
        if not role.is_held_by(have.get(role.property_name)):
            values = {role.property_name: role.value_with_role(have.get(role.property_name))}
            await self.send("PATCH", path, entity, {"properties": values})
        return await self._reader.read_one(entity, record_id)

    # -- what a write sends -------------------------------------------------------------

    async def create_body(
        self, entity: str, fields: Mapping[str, Value], correlation: str
    ) -> JsonObject:
        """A create's body: the properties, and the primary company's association."""
        values = await self.create_values(entity, fields, correlation)
        company = self.company_written(entity, fields)
        return {"properties": values, "associations": self.primaries.for_create(company)}

    def created_record(self, entity: str, obj: JsonObject, fields: Mapping[str, Value]) -> Record:
        """The record of a create's answer, with the company it was created at."""
        record = self._companies.stored_record(entity, obj)
        return self.primaries.with_company(entity, record, self.company_written(entity, fields))

    def company_written(self, entity: str, fields: Mapping[str, Value]) -> str | None:
        """The company id ``fields`` give the record ("" to blank it; None if they give
        none, or the entity has no company)."""
        name = self.primaries.field_name(entity)
        if name is None or name not in fields:
            return None
        reference = self._companies.reference(entity)
        native = self._companies.mapping(entity).to_native(Side.CRM, {name: fields[name]})
        return to_text(native.get(reference or ""))

    async def create_values(
        self, entity: str, fields: Mapping[str, Value], correlation: str
    ) -> dict[str, str]:
        """A new company's properties: its fields, the correlation key and the role."""
        values = self.native(entity, fields)
        values[self._companies.spec(entity).correlation] = correlation
        if role := self._roles.role(entity):
            values[role.property_name] = role.value_with_role(None)
        await self._schemas.check(entity, values)
        return values

    async def update_values(
        self, entity: str, fields: Mapping[str, Value], correlation: str | None
    ) -> dict[str, str]:
        """The properties a partial update writes (and the correlation key, if given);
        RecordError for a blank company, which HubSpot cannot leave a contact without."""
        if self.company_written(entity, fields) == "":
            raise self.primaries.refuse_blank(entity)
        values = self.native(entity, fields)
        if correlation is not None:
            values[self._companies.spec(entity).correlation] = correlation
        await self._schemas.check(entity, values)
        return values

    def native(self, entity: str, fields: Mapping[str, Value]) -> dict[str, str]:
        """Canonical fields as HubSpot property strings (RecordError from the mapping); the
        company, an association, is no property and is left out."""
        native = self._companies.mapping(entity).to_native(Side.CRM, fields)
        reference = self._companies.reference(entity)
        return {name: to_text(value) for name, value in native.items() if name != reference}

    async def send(self, method: str, path: str, entity: str, body: Mapping[str, Any]) -> Any:
        """A write; a RecordError from HubSpot comes back naming the canonical field."""
        try:
            return (await self._client.call(method, path, body=body, write=True)).body
        except NotFound:
            raise
        except TakenError as exc:
            field = self._companies.canonical(entity, UNIQUE_EMAIL)
            raise TakenError(str(exc), existing_id=exc.existing_id, field=field) from exc
        except RecordError as exc:
            raise RecordError(str(exc), field=self._companies.canonical(entity, exc.field)) from exc

    def refusal(self, entity: str, error: Mapping[str, Any]) -> RecordError:
        """The RecordError of one item HubSpot refused in a batch answer."""
        prop = property_named(error)
        message = f"HubSpot refused it: {error.get('category', '')} {error.get('message', '')}"
        if error.get("category") == "OBJECT_NOT_FOUND":
            return NotFound(message.strip())
        return RecordError(message.strip(), field=self._companies.canonical(entity, prop))
