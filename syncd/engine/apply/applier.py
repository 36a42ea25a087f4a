"""The applier: one plan's actions carried out in phases, by concern (see the package)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from syncd.engine.actions import (
    Action,
    Adopt,
    AdvanceBase,
    CloseConflicts,
    Create,
    Detach,
    LinkPair,
    OpenConflict,
    Quarantine,
    Repoint,
    Update,
)
from syncd.engine.apply.conflicts import SETTLED, close_conflicts, open_conflicts
from syncd.engine.apply.context import ApplyContext
from syncd.engine.apply.lanes import PHASES, STORE_ONLY, cut_into_batches, write_in_lanes
from syncd.engine.apply.links import LinkActions
from syncd.engine.apply.quarantine import quarantine_action
from syncd.engine.apply.side_writes import SideWrites
from syncd.events import EventName
from syncd.gateways.base import BatchGateway, Gateway
from syncd.records import Record, Side, Value
from syncd.state.rows import JournalEntry, Link, Quarantined
from syncd.state.store import StateStore

A = TypeVar("A")


class Applier:
    """Applies one plan of one entity of one connection."""

    def __init__(
        self,
        store: StateStore,
        gateways: Mapping[Side, Gateway],
        connection: str,
        entity: str,
        links: dict[tuple[str, str], Link],
        quarantined: Mapping[tuple[Side, str], Quarantined],
        now: Callable[[], datetime],
        *,
        siblings: Sequence[str] = (),
        company_field: str | None = None,
        record_name: Callable[[Mapping[str, Value]], str | None] | None = None,
    ) -> None:
        self.context = ApplyContext(store, connection, entity, links, quarantined, now)
        if record_name is not None:
            self.context.record_name = record_name
        # What recovery and the cycle read of an applier: where, when, and what was done.
        self.connection = connection
        self.entity = entity
        self.now = now
        self.counts: Counter[str] = self.context.counts
        self.side_writes = SideWrites(self.context, gateways, siblings, company_field)
        self.link_actions = LinkActions(self.context, gateways)
        # Asked once per side, not per action: a check against a runtime protocol looks
        # at every method of the gateway.
        self.batching = {side: isinstance(g, BatchGateway) for side, g in gateways.items()}

    async def apply(self, actions: list[Action]) -> Counter[str]:
        """Links first, then writes in batches per side, then the store-only rest.

        Links come first because updates and conflicts of a newly matched pair need
        them; a base that moves comes before the writes, so that a link's first base
        (the value a first-link write overwrites) is kept when that write is lost and
        never replaces the written value after it landed. A pair linked by this
        plan starts with the base its sides agree on, instead of a second save for it.
        """
        actions = self.link_actions.keep_first_bases(actions)
        for phase in PHASES:
            batches = cut_into_batches([a for a in actions if isinstance(a, phase)], self.batching)
            if phase in (Update, Create):
                await write_in_lanes(batches, self.batching, self._run)
            else:
                for batch in batches:
                    await self._run(batch)
        return self.counts

    async def commit_create(
        self,
        entry: JournalEntry,
        target: Side,
        source_id: str,
        created: Record,
        base: Mapping[str, Value],
        event: EventName = EventName.RECORD_CREATED,
    ) -> Link:
        """Link a record that now exists on ``target`` and close its journal row."""
        return await self.side_writes.commit_create(entry, target, source_id, created, base, event)

    async def _run(self, batch: list[Action]) -> None:
        first = batch[0]
        if isinstance(first, Update):
            await self.side_writes.update(_of_kind(batch, Update))
        elif isinstance(first, Create):
            await self.side_writes.create(_of_kind(batch, Create))
        elif isinstance(first, STORE_ONLY):
            await self._commit_store_only(batch)
        elif isinstance(first, Adopt):
            await self.link_actions.adopt(first)
        elif isinstance(first, Detach):
            await self._detach(first)

    async def _commit_store_only(self, batch: list[Action]) -> None:
        """Commit actions of one kind that write nothing outside, in one transaction.

        Safe without a journal row each: nothing outside depends on them, and each is
        planned again from the same inputs if it is lost. A crash before the commit
        leaves the records unlinked (matched again next cycle), the base where it was
        (both sides still agree, so AGREED again) and the conflict unrecorded (found
        again). The write-ahead rule for external writes is untouched: their intents
        are still committed, on their own, before each request, and the links they
        need are committed before that, since this phase ends with its commit.
        """
        context, links = self.context, self.link_actions
        async with context.store.transaction() as tx:  # a batch holds one kind of action
            if isinstance(batch[0], LinkPair):
                await links.link(tx, _of_kind(batch, LinkPair))
            elif isinstance(batch[0], AdvanceBase):
                await links.advance_bases(tx, _of_kind(batch, AdvanceBase))
            elif isinstance(batch[0], OpenConflict):
                await open_conflicts(context, tx, _of_kind(batch, OpenConflict))
            for repoint in _of_kind(batch, Repoint):
                await links.repoint(tx, repoint)
            for settled in _of_kind(batch, CloseConflicts):
                if settled.link.id is not None:
                    await close_conflicts(context, tx, settled.link, settled.fields, SETTLED)
            for held in _of_kind(batch, Quarantine):
                await quarantine_action(context, tx, held)
        for action in _of_kind(batch, LinkPair):
            if action.write_keys:
                await links.write_keys(action)

    async def _detach(self, action: Detach) -> None:
        deactivation = None
        if action.deactivate:
            deactivation = await self.side_writes.deactivate(action.link, action.gone.other)
            if deactivation is None:
                return  # refused, or its outcome unknown: the link stays for the next cycle
        await self.link_actions.detach(action, deactivation)


def _of_kind(batch: list[Action], kind: type[A]) -> list[A]:
    return [a for a in batch if isinstance(a, kind)]
