"""What every stage of one cycle may read and nothing changes: the connection's parts,
the entity, the kind of cycle, its start, and where status events go."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from syncd.engine.hints import HintedIds
from syncd.engine.progress import NO_PROGRESS, ListingProgress
from syncd.engine.reconcile import FieldRule
from syncd.engine.references.waits import CompanyWaits
from syncd.events import EventName
from syncd.gateways.base import Gateway
from syncd.mapping import EntityMapping
from syncd.policy import SyncRules
from syncd.records import Side
from syncd.state.rows import StatusEvent
from syncd.state.store import StateStore


@dataclass(frozen=True)
class CycleContext:
    connection: str
    entity: str
    gateways: Mapping[Side, Gateway]
    store: StateStore
    mapping: EntityMapping
    rules: SyncRules
    field_rules: Mapping[str, FieldRule]
    siblings: tuple[str, ...]  # this entity's records' other roles
    overlap: timedelta
    now: Callable[[], datetime]
    full: bool
    dry_run: bool
    started: datetime
    sent_before: Mapping[Side, int]  # requests each side had sent as the cycle began
    # For an entity whose records follow a company (contacts): which of them wait for it.
    waits: CompanyWaits | None = None
    progress: ListingProgress = NO_PROGRESS  # who watches a whole listing come in
    # A hinted cycle: per side, the ids it reads by id instead of listing changes.
    hinted: HintedIds | None = None

    @property
    def lane(self) -> str:
        return f"{self.connection}/{self.entity}"

    def lag(self, side: Side) -> timedelta:
        """How long a change may stay out of ``side``'s searches (its ``visibility_lag``)."""
        lag = getattr(self.gateways[side], "visibility_lag", timedelta(0))
        return lag if isinstance(lag, timedelta) else timedelta(0)

    def status_event(
        self, name: EventName, record: str | None, data: dict[str, object]
    ) -> StatusEvent:
        return StatusEvent(self.connection, self.entity, str(name), record=record, data=data)

    async def log_event(self, name: EventName, record: str | None, **data: object) -> None:
        async with self.store.transaction() as tx:
            await tx.add_event(self.status_event(name, record, data))


def requests_sent(gateway: Gateway) -> int:
    sent = getattr(gateway, "requests_sent", 0)
    return sent if isinstance(sent, int) else 0


def hinted_counts(ctx: CycleContext) -> dict[str, object]:
    """For a hinted cycle's events: how many ids per side it looked at."""
    if ctx.hinted is None:
        return {}
    return {"hinted": {str(side): len(ids) for side, ids in ctx.hinted.items() if ids}}
