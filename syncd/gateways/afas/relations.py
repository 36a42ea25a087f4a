"""What the mappings say about an entity's relations (debtors, creditors): a
GetConnector row as a canonical record, whether it is blocked, and the values an
UpdateConnector takes.

Rows with any of the ``inactive`` fields true (blocked completely, blocked for delivery
or payment...) or an ``inactive_from`` date that has come are never listed: Profit has
several such flags. A row whose flag or date is neither is quarantined, not taken for
blocked, which would look like a delete.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from syncd.gateways.afas.organisations import SeenOrganisations
from syncd.gateways.afas.profit_time import earliest_utc, parse_local
from syncd.mapping import EntityMapping, SideSpec, mapping_of
from syncd.records import Page, Record, RejectedRecord, Side, Value

__all__ = ["RelationMapping", "Row"]

Row = Mapping[str, Any]
"""One row of a GetConnector's answer, by field id."""


class RelationMapping:
    """Per entity: the AFAS side of its mapping, and its rows as records."""

    def __init__(self, mappings: Mapping[str, EntityMapping], today: Callable[[], date]) -> None:
        self.mappings = dict(mappings)
        self._today = today  # Amsterdam's day, as Profit's dates are
        self.seen = SeenOrganisations()  # what company rows converted here showed
        # only contacts ask which organisation a relation is at
        self._notes_organisations = any(m.reference is not None for m in self.mappings.values())

    def mapping(self, entity: str) -> EntityMapping:
        return mapping_of(self.mappings, entity)

    def spec(self, entity: str) -> SideSpec:
        return self.mapping(entity).afas

    def is_blocked(self, entity: str, row: Row) -> bool:
        spec = self.spec(entity)
        if any(_flag(row.get(flag)) is True for flag in spec.inactive):
            return True
        today = self._today()
        return any(_has_ended(row.get(end), today) is True for end in spec.inactive_from)

    def convert(self, entity: str, rows: Sequence[Row]) -> Page:
        """The rows as a page: the active ones as records, the unreadable ones rejected.
        A company entity's rows note their organisations (:attr:`seen`)."""
        spec = self.spec(entity)
        if self._notes_organisations and self.mapping(entity).reference is None:
            self.seen.note(entity, spec.id, spec.options["organisation"], rows)
        return Page.of(self._to_record(entity, r) for r in rows if not self.is_blocked(entity, r))

    def native(self, entity: str, fields: Mapping[str, Value]) -> dict[str, object]:
        """Canonical values by UpdateConnector path (RecordError if one cannot be written)."""
        mapping = self.mapping(entity)
        native: dict[str, object] = {}
        for name, value in fields.items():
            native.update(mapping.field(name).updates(value))
        return native

    def _to_record(self, entity: str, row: Row) -> Record | RejectedRecord:
        spec = self.spec(entity)
        record_id = str(row.get(spec.id))
        for inactive in spec.inactive:
            if _flag(row.get(inactive)) is None:
                # Neither blocked nor not: taking it for blocked would look like a delete.
                shown = str(row.get(inactive))[:60]
                message = f"field {inactive!r}: {shown!r} is not true or false"
                return RejectedRecord(record_id, message, inactive)
        for end in spec.inactive_from:
            if _has_ended(row.get(end), self._today()) is None:
                shown = str(row.get(end))[:60]
                return RejectedRecord(record_id, f"field {end!r}: {shown!r} is not a date", end)
        wall = parse_local(row.get(spec.modified))
        if wall is None:
            shown = str(row.get(spec.modified))[:60]
            message = f"field {spec.modified!r}: {shown!r} is not an AFAS date and time"
            return RejectedRecord(record_id, message, spec.modified)
        return self.mapping(entity).record(Side.AFAS, record_id, row, earliest_utc(wall))


_TRUE = (True, 1, "true", "1")
_FALSE = (None, False, 0, "", "false", "0")


def _flag(value: object) -> bool | None:
    """A GetConnector yes/no field: True, False, or None when it is neither."""
    if isinstance(value, bool | int | str | None) and value in _TRUE:
        return True
    if isinstance(value, bool | int | str | None) and value in _FALSE:
        return False
    return None


def _has_ended(value: object, today: date) -> bool | None:
    """A GetConnector end date: True from that day on, False when blank or later, None
    when it is neither a date nor blank."""
    if value is None or value == "":
        return False
    wall = parse_local(value)
    return None if wall is None else wall.date() <= today
