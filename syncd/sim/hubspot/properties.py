"""Company property definitions of the simulated portal, and how HubSpot checks a value.

The definitions are shaped like HubSpot's properties API (``GET /crm/v3/properties/
companies``): ``name``, ``type`` (string, number, date, datetime, enumeration, bool),
``fieldType`` (text, number, date, select, radio, checkbox, booleancheckbox, ...),
``options`` for enumerations, ``hasUniqueValue`` and ``modificationMetadata.readOnlyValue``.
The default set holds HubSpot's standard company properties that syncd meets and the
custom properties the shipped mappings use (see docs/hubspot-setup.md).

:func:`check_value` answers like HubSpot's write validation: ``None`` for a good value,
else an ``(error code, message)`` pair (``INVALID_OPTION``, ``INVALID_INTEGER``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "DEFAULT_PROPERTIES",
    "PropertyDef",
    "check_value",
    "format_datetime",
    "parse_datetime",
]


@dataclass(frozen=True)
class PropertyDef:
    """One company property as HubSpot defines it."""

    name: str
    type: str = "string"
    field_type: str = "text"
    label: str = ""
    options: Sequence[str] = ()
    read_only: bool = False
    unique: bool = False
    group: str = "companyinformation"
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def multi(self) -> bool:
        """A multiple-checkbox enumeration: values are ``;``-joined options."""
        return self.type == "enumeration" and self.field_type == "checkbox"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label or self.name.replace("_", " ").capitalize(),
            "type": self.type,
            "fieldType": self.field_type,
            "groupName": self.group,
            "description": "",
            "options": [
                {"label": o, "value": o, "displayOrder": i, "hidden": False}
                for i, o in enumerate(self.options)
            ],
            "hasUniqueValue": self.unique,
            "calculated": False,
            "externalOptions": False,
            "hidden": False,
            "formField": not self.read_only,
            "modificationMetadata": {
                "archivable": not self.read_only,
                "readOnlyDefinition": not self.name.startswith(("afas_", "kvk_", "vat_")),
                "readOnlyValue": self.read_only,
            },
            **self.extra,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PropertyDef:
        meta = data.get("modificationMetadata") or {}
        return cls(
            name=str(data["name"]),
            type=str(data.get("type", "string")),
            field_type=str(data.get("fieldType", "text")),
            label=str(data.get("label", "")),
            options=tuple(str(o["value"]) for o in data.get("options") or ()),
            read_only=bool(meta.get("readOnlyValue", False)),
            unique=bool(data.get("hasUniqueValue", False)),
        )


def _by_name(*defs: PropertyDef) -> dict[str, PropertyDef]:
    return {d.name: d for d in defs}


_TERMS = ("net_14", "net_30", "net_60")

DEFAULT_PROPERTIES: Mapping[str, PropertyDef] = _by_name(
    # HubSpot's own, server-maintained
    PropertyDef("hs_object_id", "number", "number", "Record ID", read_only=True, unique=True),
    PropertyDef("createdate", "datetime", "date", "Create Date", read_only=True),
    PropertyDef("hs_lastmodifieddate", "datetime", "date", "Last Modified Date", read_only=True),
    PropertyDef("hs_merged_object_ids", "enumeration", "checkbox", "Merged IDs", read_only=True),
    # HubSpot's standard company properties
    PropertyDef("name", label="Company name"),
    PropertyDef("domain", label="Company Domain Name"),
    PropertyDef("phone", field_type="phonenumber", label="Phone Number"),
    PropertyDef("website", label="Website URL"),
    PropertyDef("address", label="Street Address"),
    PropertyDef("address2", label="Street Address 2"),
    PropertyDef("city", label="City"),
    PropertyDef("zip", label="Postal Code"),
    PropertyDef("state", label="State/Region"),
    PropertyDef("country", label="Country/Region"),
    PropertyDef("description", field_type="textarea", label="Description"),
    PropertyDef("industry", "enumeration", "select", options=("ACCOUNTING", "RETAIL", "OTHER")),
    PropertyDef(
        "type",
        "enumeration",
        "select",
        "Type",
        options=("PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER"),
    ),
    PropertyDef("numberofemployees", "number", "number", "Number of Employees"),
    PropertyDef("annualrevenue", "number", "number", "Annual Revenue"),
    # The custom properties the shipped mappings use
    PropertyDef(
        "afas_roles",
        "enumeration",
        "checkbox",
        "AFAS roles",
        options=("customer", "supplier"),
    ),
    # a single select an existing portal may already say roles with
    # (mappings/examples/existing-portal/)
    PropertyDef(
        "relation_role",
        "enumeration",
        "select",
        "Relation role",
        options=("customer", "supplier", "both"),
    ),
    PropertyDef("afas_debtor_number", label="AFAS debtor number", unique=True),
    PropertyDef("afas_creditor_number", label="AFAS creditor number", unique=True),
    PropertyDef("kvk_number", label="KvK number"),
    PropertyDef("vat_number", label="VAT number"),
    PropertyDef("company_email", label="Company e-mail"),
    PropertyDef("house_number", label="House number"),
    PropertyDef("iban", label="IBAN"),
    PropertyDef("payment_terms", "enumeration", "select", "Payment terms", options=_TERMS),
    PropertyDef(
        "supplier_payment_terms", "enumeration", "select", "Supplier terms", options=_TERMS
    ),
    PropertyDef("afas_credit_limit", "number", "number", "AFAS credit limit"),
    PropertyDef(
        "afas_automatic_payment",
        "bool",
        "booleancheckbox",
        "AFAS pays automatically",
        options=("true", "false"),
    ),
    PropertyDef("afas_customer_since", "date", "date", "Customer since"),
)
"""The properties a fresh simulated portal has."""


# --- values ---------------------------------------------------------------------------

_EPOCH_MS = re.compile(r"-?\d{1,15}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def format_datetime(moment: datetime) -> str:
    """HubSpot's ISO 8601 form: milliseconds and ``Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_datetime(text: str) -> datetime | None:
    """Epoch milliseconds or ISO 8601 (a date alone is midnight UTC); None if neither."""
    text = text.strip()
    if _EPOCH_MS.fullmatch(text):
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_value(prop: PropertyDef, value: str) -> tuple[str, str] | None:
    """``None`` if HubSpot would store ``value`` in ``prop``, else (error code, message).

    An empty string clears any property, so it is always good.
    """
    if value == "":
        return None
    if prop.type == "number":
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            return "INVALID_DECIMAL", f"{value} was not a valid number."
        return None
    if prop.type == "bool":
        if value.lower() not in ("true", "false"):
            return "INVALID_BOOLEAN", f"{value} was not a valid boolean (true or false)."
        return None
    if prop.type == "enumeration":
        return _check_options(prop, value.split(";") if prop.multi else [value])
    if prop.type == "datetime":
        if parse_datetime(value) is None:
            return "INVALID_DATETIME", f"{value} is not a valid datetime (ISO 8601 or epoch ms)."
        return None
    if prop.type == "date":
        return _check_date(value)
    return None


def _check_options(prop: PropertyDef, chosen: Iterable[str]) -> tuple[str, str] | None:
    for option in chosen:
        if option not in prop.options:
            allowed = ", ".join(prop.options)
            return "INVALID_OPTION", f"{option} was not one of the allowed options: [{allowed}]"
    return None


def _check_date(value: str) -> tuple[str, str] | None:
    if _DATE.fullmatch(value):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return "INVALID_DATE", f"{value} is not a valid date."
        return None
    moment = parse_datetime(value)
    if moment is None:
        return "INVALID_DATE", f"{value} is not a valid date (YYYY-MM-DD or epoch ms)."
    if (moment.hour, moment.minute, moment.second, moment.microsecond) != (0, 0, 0, 0):
        return "INVALID_DATE", f"{value} is not at midnight UTC; a date must be."
    return None
