"""The stored rows of one in-memory side: native rows per entity, numbered and dated as
the real systems number and date theirs (:class:`~syncd.gateways.memory.MemoryGateway`
reads and writes them through the mappings).

Ids are autonumbered strings: HubSpot-like object ids on the CRM side (one numbering for
all entities), debtor and creditor numbers in their own ranges on the AFAS side. A row
put with its own id keeps it, and numbering goes on after the highest numeric id.
Modification times strictly increase with every write: a logical clock unless a
``clock`` is given; a clock that stands still or goes back is nudged forward.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from syncd.errors import RecordError
from syncd.mapping import EntityMapping, SideSpec, mapping_of
from syncd.records import Side

__all__ = ["DEFAULT_INACTIVE_FIELD", "LOGICAL_EPOCH", "NativeRow", "NativeTables", "id_order"]

NativeRow = dict[str, object]

LOGICAL_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
"""The first instant of the default logical clock; each write adds one second."""

DEFAULT_INACTIVE_FIELD = {Side.CRM: "archived", Side.AFAS: "Blocked"}

_FIRST_CRM_ID = 9_000_000_001
"""CRM ids are numbered across entities, as HubSpot numbers all companies in a portal."""
_FIRST_AFAS_NUMBER = {"customer": 10_001, "supplier": 70_001}
"""AFAS numbers debtors and creditors each in their own range."""


class NativeTables:
    """One side's rows by entity and id; ``mappings`` is shared with the gateway (a
    remapped entity reads its rows through the new mapping)."""

    def __init__(
        self,
        side: Side,
        mappings: dict[str, EntityMapping],
        clock: Callable[[], datetime] | None,
    ) -> None:
        self._side = side
        self._mappings = mappings
        self._clock = clock
        self._last_modified = LOGICAL_EPOCH
        self._rows: dict[str, dict[str, NativeRow]] = {entity: {} for entity in mappings}
        self._next_id: dict[str, int] = {}

    def spec(self, entity: str) -> SideSpec:
        return mapping_of(self._mappings, entity).side(self._side)

    def table(self, entity: str) -> dict[str, NativeRow]:
        mapping_of(self._mappings, entity)  # an unknown entity is the caller's mistake
        return self._rows[entity]

    def copy(self) -> dict[str, dict[str, NativeRow]]:
        """Every table as it is now, for a search index that lags behind."""
        return {entity: copy.deepcopy(table) for entity, table in self._rows.items()}

    def row(self, entity: str, record_id: str) -> NativeRow:
        """The stored row, active or not; KeyError if there is none."""
        try:
            return self.table(entity)[record_id]
        except KeyError:
            raise KeyError(f"no {self._side} {entity} with id {record_id!r}") from None

    def active_row(self, entity: str, record_id: str) -> NativeRow:
        """The stored row; RecordError if there is none or it is inactive."""
        row = self.table(entity).get(record_id)
        if row is None or not self.is_active(entity, row):
            raise RecordError(
                f"{self._side} {entity} {record_id} does not exist or is inactive",
                reference=record_id,
            )
        return row

    def is_active(self, entity: str, row: NativeRow) -> bool:
        return not any(row.get(flag) for flag in self.inactive_fields(entity))

    def inactive_fields(self, entity: str) -> tuple[str, ...]:
        """The native flags any of which marks a row inactive."""
        return self.spec(entity).inactive or (DEFAULT_INACTIVE_FIELD[self._side],)

    def put(self, entity: str, native_row: Mapping[str, object]) -> str:
        """Store a row that may carry its own id and modification time; returns its id."""
        spec = self.spec(entity)
        row = copy.deepcopy(dict(native_row))
        if spec.id in row:
            row[spec.id] = str(row[spec.id])
            if row[spec.id] in self.table(entity):
                raise ValueError(f"{self._side} {entity} {row[spec.id]} already exists")
        modified = row.get(spec.modified)
        if modified is not None:
            if not isinstance(modified, datetime) or modified.tzinfo is None:
                raise ValueError(f"{spec.modified} must be a timezone-aware datetime")
            self._last_modified = max(self._last_modified, modified)
        return self.insert(entity, row)

    def insert(self, entity: str, row: NativeRow) -> str:
        """Store ``row``, numbering and dating it if it has no id or time; returns its id."""
        spec = self.spec(entity)
        counter = self._counter(entity)
        if spec.id not in row:
            row[spec.id] = str(self._next_id[counter])
        record_id = str(row[spec.id])
        if record_id.isdigit():
            self._next_id[counter] = max(self._next_id[counter], int(record_id) + 1)
        if row.get(spec.modified) is None:
            row[spec.modified] = self.tick()
        row.setdefault(self.inactive_fields(entity)[0], False)
        self.table(entity)[record_id] = row
        return record_id

    def tick(self) -> datetime:
        """The modification time of a write made now: later than every one before."""
        if self._clock is None:
            now = self._last_modified + timedelta(seconds=1)
        else:
            now = self._clock()
            if now.tzinfo is None:
                raise ValueError("the clock must return timezone-aware datetimes")
            now = max(now, self._last_modified + timedelta(microseconds=1))
        self._last_modified = now
        return now

    def _counter(self, entity: str) -> str:
        """The id counter ``entity`` draws from: one for the CRM, one per AFAS entity."""
        if self._side is Side.CRM:
            self._next_id.setdefault("", _FIRST_CRM_ID)
            return ""
        self._next_id.setdefault(entity, _FIRST_AFAS_NUMBER.get(entity, 1))
        return entity


def id_order(record_id: str) -> tuple[int, str]:
    """Order numeric ids by number, others after them by text."""
    return (int(record_id), "") if record_id.isdigit() else (1 << 62, record_id)
