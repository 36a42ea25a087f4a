"""Both sides as read whole at one moment: live records per side and entity, by identity
(a company's KvK number, a contact's work e-mail)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from syncd.records import Side, Value


@dataclass(frozen=True)
class SideRecord:
    """One side's record of a company or a contact, in canonical values."""

    side: Side
    entity: str
    record_id: str
    fields: dict[str, Value]


@dataclass
class Snapshot:
    """Both sides as they are: live records per side and entity, keyed by identity."""

    records: dict[tuple[Side, str], dict[str, list[SideRecord]]] = field(default_factory=dict)

    def of(self, side: Side, entity: str) -> dict[str, list[SideRecord]]:
        return self.records.setdefault((side, entity), defaultdict(list))

    def company(self, kvk: str) -> list[SideRecord]:
        """Every record with this identity (a KvK number or a contact's e-mail)."""
        return [h for held in self.records.values() for h in held.get(kvk, [])]
