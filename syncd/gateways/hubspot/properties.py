"""The portal's company property definitions, and every write checked against them.

HubSpot refuses a write with an unknown or read-only property, an option an enumeration
does not have, a number that is not one, a date that is not midnight UTC, or a datetime it
cannot read. The gateway reads the definitions once (``GET /crm/v3/properties/companies``)
and checks each write *before* sending it, so that one bad value becomes a RecordError
naming its property, and never costs a request or fails a whole batch.

Values are written as HubSpot wants them: strings; booleans as ``true``/``false``;
multiple-checkbox values ``;``-joined; ``""`` to clear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["PropertyDefinition", "PropertySchema", "to_text"]

_EPOCH_MS = re.compile(r"-?\d{1,15}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class PropertyDefinition:
    """What syncd needs to know of one HubSpot property."""

    name: str
    type: str
    field_type: str
    options: frozenset[str]
    read_only: bool
    unique: bool
    external_options: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PropertyDefinition:
        meta = data.get("modificationMetadata") or {}
        return cls(
            name=str(data["name"]),
            type=str(data.get("type", "string")),
            field_type=str(data.get("fieldType", "text")),
            options=frozenset(str(o.get("value")) for o in data.get("options") or ()),
            read_only=bool(meta.get("readOnlyValue", False) or data.get("calculated", False)),
            unique=bool(data.get("hasUniqueValue", False)),
            external_options=bool(data.get("externalOptions", False)),
        )

    @property
    def multi(self) -> bool:
        return self.type == "enumeration" and self.field_type == "checkbox"

    def problem(self, value: str) -> str | None:
        """Why HubSpot would refuse ``value`` for this property, or None."""
        if value == "":
            return None
        check = _CHECKS.get(self.type)
        return check(self, value) if check else None


def _number(_: PropertyDefinition, value: str) -> str | None:
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    return None if number.is_finite() else f"{value!r} is not a number"


def _bool(_: PropertyDefinition, value: str) -> str | None:
    return None if value in ("true", "false") else f"{value!r} is not true or false"


def _enumeration(prop: PropertyDefinition, value: str) -> str | None:
    if prop.external_options:  # owners, pipelines: options live elsewhere
        return None
    chosen = value.split(";") if prop.multi else [value]
    bad = [c for c in chosen if c not in prop.options]
    if not bad:
        return None
    allowed = ", ".join(sorted(prop.options))
    return f"{bad[0]!r} is not one of the allowed options: {allowed}"


def _parse_moment(value: str) -> datetime | None:
    if _EPOCH_MS.fullmatch(value):
        return datetime.fromtimestamp(int(value) / 1000).astimezone()
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _datetime(_: PropertyDefinition, value: str) -> str | None:
    if _parse_moment(value) is None:
        return f"{value!r} is not a datetime (ISO 8601 or epoch milliseconds)"
    return None


def _date(_: PropertyDefinition, value: str) -> str | None:
    if _DATE.fullmatch(value):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not a date"
        return None
    if _EPOCH_MS.fullmatch(value):
        if int(value) % 86_400_000 != 0:
            return f"{value!r} is not midnight UTC, as a date property needs"
        return None
    return f"{value!r} is not a date (YYYY-MM-DD, or epoch milliseconds at midnight UTC)"


_CHECKS = {
    "number": _number,
    "bool": _bool,
    "enumeration": _enumeration,
    "datetime": _datetime,
    "date": _date,
}


class PropertySchema:
    """The definitions of one object type's properties, by name."""

    def __init__(self, definitions: Iterable[PropertyDefinition]) -> None:
        self.definitions = {d.name: d for d in definitions}

    @classmethod
    def from_results(cls, results: Iterable[Mapping[str, Any]]) -> PropertySchema:
        return cls(PropertyDefinition.from_json(r) for r in results)

    def __contains__(self, name: object) -> bool:
        return name in self.definitions

    def problems(self, values: Mapping[str, str]) -> dict[str, str]:
        """Every property of ``values`` HubSpot would refuse, with the reason."""
        found: dict[str, str] = {}
        for name, value in values.items():
            prop = self.definitions.get(name)
            if prop is None:
                found[name] = f"HubSpot has no property {name!r}; create it in the portal"
            elif prop.read_only:
                found[name] = f"HubSpot's property {name!r} is read-only"
            elif (reason := prop.problem(value)) is not None:
                found[name] = f"HubSpot property {name!r}: {reason}"
        return found

    def missing(self, names: Iterable[str]) -> list[str]:
        return [n for n in names if n not in self.definitions]


def to_text(native: object) -> str:
    """A native value as HubSpot takes it: a string, ``""`` for blank."""
    if native is None:
        return ""
    if isinstance(native, bool):
        return "true" if native else "false"
    if isinstance(native, list | tuple | set | frozenset):
        return ";".join(str(v) for v in native)
    return str(native)
