"""Stage 0: what stands as a cycle begins (quarantine, writes in doubt, earlier writes
settled), read before the pull and never changed after."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from syncd.engine.apply.applier import Applier
from syncd.engine.indoubt import InDoubt, cycle_boundaries, outcome_window
from syncd.engine.indoubt import creates_in_doubt as summarise_in_doubt
from syncd.engine.recovery import settle_pending
from syncd.engine.stages.context import CycleContext
from syncd.records import Side
from syncd.state.rows import JournalAction, JournalEntry, Link, Quarantined


@dataclass(frozen=True)
class Standing:
    quarantined: Mapping[tuple[Side, str], Quarantined]
    # Sources of creates whose outcome is unknown: before settling (read them, they may
    # be due for a create again) and after (still in doubt: not created again).
    doubted: Mapping[Side, frozenset[str]]
    in_doubt: Mapping[Side, frozenset[str]]
    touched: frozenset[int]  # links the recovery settled writes of
    link_count: int  # active links before the cycle
    now: Callable[[], datetime]  # when a record's retry time has come
    unsettled: int = 0  # journal entries still pending once the cycle settled what it could

    @property
    def nothing_due_later(self) -> bool:
        """Nothing stands that a later cycle must see to even if nothing changes: no
        record in quarantine, no write in doubt."""
        return not self.quarantined and not self.unsettled

    def is_waiting_in_quarantine(self, side: Side, record_id: str) -> bool:
        """The record waits in quarantine for its retry time."""
        q = self.quarantined.get((side, record_id))
        return q is not None and q.next_attempt is not None and q.next_attempt > self.now()

    def is_pair_waiting(self, link: Link) -> bool:
        """A pair with a record in quarantine waits for its retry time."""
        return any(self.is_waiting_in_quarantine(side, link.id_on(side)) for side in Side)

    def has_record_in_quarantine(self, link: Link) -> bool:
        """A record of the pair is in quarantine (waiting for its retry, or due)."""
        return any((side, link.id_on(side)) in self.quarantined for side in Side)

    def due_for_retry(self, side: Side) -> list[str]:
        """``side``'s records in quarantine whose retry time has come."""
        now = self.now()
        return [
            q.record_id
            for (s, _), q in self.quarantined.items()
            if s is side and (q.next_attempt is None or q.next_attempt <= now)
        ]


async def read_quarantine(ctx: CycleContext) -> dict[tuple[Side, str], Quarantined]:
    return {
        (q.side, q.record_id): q for q in await ctx.store.quarantined(ctx.connection, ctx.entity)
    }


async def read_standing(
    ctx: CycleContext, quarantined: Mapping[tuple[Side, str], Quarantined], applier: Applier
) -> Standing:
    """Settle earlier writes (not in a dry run), and read what is in doubt around it."""
    pending = await ctx.store.pending_journal(ctx.connection, ctx.entity)
    doubted = _creates_in_doubt(pending)
    touched: set[int] = set()
    in_doubt = doubted
    if not ctx.dry_run:
        touched = await settle_pending(ctx.store, ctx.gateways, applier, pending)
        if pending:  # else (an idle cycle) nothing was settled: what is in doubt is as read
            pending = await ctx.store.pending_journal(ctx.connection, ctx.entity)
            in_doubt = _creates_in_doubt(pending)
    link_count = await ctx.store.link_count(ctx.connection, ctx.entity)  # settled creates too
    return Standing(
        quarantined, doubted, in_doubt, frozenset(touched), link_count, ctx.now, len(pending)
    )


def _creates_in_doubt(pending: Sequence[JournalEntry]) -> dict[Side, frozenset[str]]:
    """Per side, the records whose create on the other side is pending (unsettled)."""
    found: dict[Side, set[str]] = {side: set() for side in Side}
    for entry in pending:
        if entry.action is JournalAction.CREATE and entry.source_id is not None:
            found[entry.target.other].add(entry.source_id)
    return {side: frozenset(ids) for side, ids in found.items()}


async def creates_in_doubt(ctx: CycleContext) -> list[InDoubt]:
    """The creates not settled yet, per side: shown with a dry run's plan."""
    pending = await ctx.store.pending_journal(ctx.connection, ctx.entity)
    windows = {side: outcome_window(g) for side, g in ctx.gateways.items()}
    ends = await cycle_boundaries(ctx.store, ctx.connection, ctx.entity, pending)
    return summarise_in_doubt(pending, ends, windows)
