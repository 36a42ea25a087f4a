"""What every part of applying one plan shares."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from syncd.events import EventName
from syncd.records import Side, Value
from syncd.state.rows import Link, Quarantined, StatusEvent
from syncd.state.store import StateStore, Transaction


@dataclass
class ApplyContext:
    """One plan's connection and entity, the links as they grow, and what was done."""

    store: StateStore
    connection: str
    entity: str
    links: dict[tuple[str, str], Link]  # pair -> link, grows as LinkPair and Create land
    quarantined: Mapping[tuple[Side, str], Quarantined]  # held before this plan
    now: Callable[[], datetime]
    counts: Counter[str] = dataclasses.field(default_factory=Counter)
    # What people call a record of these fields (the mapping's record_name), for events.
    record_name: Callable[[Mapping[str, Value]], str | None] = lambda fields: None

    async def log_event(
        self, tx: Transaction, name: EventName, record: str | None, /, **data: object
    ) -> None:
        """Add a status event for this connection and entity to ``tx``; positional
        parameters only, so that ``data`` may hold a record's ``name``."""
        await tx.add_event(
            StatusEvent(self.connection, self.entity, str(name), record=record, data=data)
        )


def with_base(link: Link, fields: Mapping[str, Value]) -> Link:
    """``link`` with the base of ``fields`` moved to their values."""
    return dataclasses.replace(link, base={**link.base, **fields})


def saved_id(link: Link) -> int:
    if link.id is None:
        raise ValueError("link was not saved")
    return link.id
