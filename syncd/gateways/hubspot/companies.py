"""What the mappings say about an entity's companies (or contacts): where they live, which
properties syncd reads, and how a record's JSON becomes a canonical record.

A contact's reference field (the mapping field with ``refers_to``, ``primary_company``) is
no property: :mod:`~syncd.gateways.hubspot.associations` reads it from the contact's
associations and puts it among the JSON's properties before the record is made."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from syncd.errors import RecordError
from syncd.gateways.hubspot.answers import (
    EPOCH,
    MERGED_IDS,
    JsonObject,
    parse_time,
    properties_of,
)
from syncd.gateways.hubspot.client import ClientSettings
from syncd.mapping import EntityMapping, SideSpec, mapping_of
from syncd.problems.report import describe
from syncd.records import Page, Record, RejectedRecord, Side

__all__ = ["CompanyMapping"]


class CompanyMapping:
    """Per entity: the CRM object, its properties and its records."""

    def __init__(self, mappings: Mapping[str, EntityMapping], settings: ClientSettings) -> None:
        self.mappings = dict(mappings)
        self._settings = settings

    def mapping(self, entity: str) -> EntityMapping:
        return mapping_of(self.mappings, entity)

    def spec(self, entity: str) -> SideSpec:
        return self.mapping(entity).crm

    def object_type(self, entity: str) -> str:
        return self.spec(entity).options.get("object", "companies")

    def path(self, entity: str) -> str:
        """The API path of the entity's objects."""
        return self._settings.objects_path(self.object_type(entity))

    def reference(self, entity: str) -> str | None:
        """The name under which a record's company (its primary association) is kept, if
        the entity has such a field: not a property, so never asked for or written as one."""
        field = self.mapping(entity).reference
        return field.crm if field is not None else None

    def property_names(self, entity: str) -> list[str]:
        """The properties syncd reads: the mapped ones and those it keeps records by."""
        spec = self.spec(entity)
        reference = self.reference(entity)
        fields = self.mapping(entity).fields
        names = [f.crm for f in fields if f.crm != reference]
        names += [f.crm_others for f in fields if f.crm_others]
        names += [spec.id, spec.modified, spec.correlation, MERGED_IDS]
        if role := spec.role:
            names.append(role.property_name)
        return list(dict.fromkeys(names))

    def canonical(self, entity: str, prop: str | None) -> str | None:
        """The canonical field a property holds (or the property, if no field does)."""
        for fieldmap in self.mapping(entity).fields:
            if fieldmap.crm == prop:
                return fieldmap.name
        return prop

    # -- records from companies' JSON -----------------------------------------------------

    def to_record(self, entity: str, obj: JsonObject) -> Record | RejectedRecord:
        record_id = str(obj["id"])
        properties = obj.get("properties")
        if properties is None:
            properties = {}
        if not isinstance(properties, dict):
            message = f"its properties are {describe(properties)}, not a table of values"
            return RejectedRecord(record_id, message)
        modified = self.modified(entity, obj)
        if modified is None:
            name = self.spec(entity).modified
            raw = properties.get(name) or obj.get("updatedAt")
            message = f"property {name!r}: {str(raw)[:60]!r} is not a HubSpot time"
            return RejectedRecord(record_id, message, name)
        return self.mapping(entity).record(Side.CRM, record_id, properties, modified)

    def stored_record(self, entity: str, obj: JsonObject) -> Record:
        """The record of a company HubSpot just stored; RecordError if it cannot be read."""
        result = self.to_record(entity, obj)
        if isinstance(result, RejectedRecord):
            raise RecordError(result.message, field=result.field, reference=result.id)
        return result

    def to_page(self, entity: str, objects: Iterable[JsonObject]) -> Page:
        return Page.of(self.to_record(entity, obj) for obj in objects)

    def modified(self, entity: str, obj: JsonObject) -> datetime | None:
        """The company's modification time; None if HubSpot sent something else."""
        raw = properties_of(obj).get(self.spec(entity).modified)
        return parse_time(raw or obj.get("updatedAt") or "1970-01-01T00:00:00Z")

    def sort_time(self, entity: str, obj: JsonObject) -> datetime:
        return self.modified(entity, obj) or EPOCH
