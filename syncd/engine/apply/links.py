"""What changes a pair's link: link two records, adopt one into this entity, follow a
merge, advance the base both sides agree on, detach a pair whose record is gone.

Only a detach's deactivation is a journalled write (:mod:`.side_writes`); adopting and
writing correlation keys call a side too, but are idempotent, so not journalled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from syncd.engine.actions import Action, Adopt, AdvanceBase, Detach, LinkPair, Repoint
from syncd.engine.apply.conflicts import close_conflicts
from syncd.engine.apply.context import ApplyContext, with_base
from syncd.engine.apply.journal import entry_id
from syncd.engine.apply.quarantine import quarantine_refusal, release_from_quarantine
from syncd.errors import RecordError
from syncd.events import EventName
from syncd.gateways.base import Gateway
from syncd.records import Side, Value
from syncd.state.rows import JournalEntry, JournalState, Link
from syncd.state.store import Transaction


class LinkActions:
    """The link changes of one plan."""

    def __init__(self, context: ApplyContext, gateways: Mapping[Side, Gateway]) -> None:
        self.context = context
        self.gateways = gateways
        # A new link's first base: what its two records agree on (their AdvanceBase).
        self.first_bases: dict[tuple[str, str], Mapping[str, Value]] = {}

    def keep_first_bases(self, actions: list[Action]) -> list[Action]:
        """Take the base of each pair this plan links out of ``actions``: the link starts
        with it, instead of a second save for it."""
        linking = {a.pair for a in actions if isinstance(a, LinkPair)}
        # Added to, never replaced: what a first sync creates while listing is applied
        # beside the rest of its plan, by the same applier.
        self.first_bases.update(
            (a.pair, a.fields) for a in actions if isinstance(a, AdvanceBase) and a.pair in linking
        )
        return [a for a in actions if not (isinstance(a, AdvanceBase) and a.pair in linking)]

    async def link(self, tx: Transaction, actions: list[LinkPair]) -> None:
        context = self.context
        # The agreed fields are compact and never change: the link keeps them, no copy.
        links = await tx.insert_links(
            [
                Link(
                    context.connection,
                    context.entity,
                    *a.pair,
                    base=self.first_bases.get(a.pair, {}),
                )
                for a in actions
            ]
        )
        for action, link in zip(actions, links, strict=True):
            await release_from_quarantine(context, tx, Side.CRM, action.crm_id)
            await release_from_quarantine(context, tx, Side.AFAS, action.afas_id)
            await context.log_event(
                tx,
                EventName.RECORD_LINKED,
                action.crm_id,
                afas_id=action.afas_id,
                reason=action.reason,
                name=context.record_name(link.base),
            )
            context.links[action.pair] = link
            context.counts["linked"] += 1

    async def write_keys(self, action: LinkPair | Adopt) -> None:
        """Each record gets the other's id as its correlation key. Idempotent, so not
        journalled: a write lost here is only a key missing, never a wrong record."""
        for side, record_id, correlation, other_id in (
            (Side.CRM, action.crm_id, action.crm_correlation, action.afas_id),
            (Side.AFAS, action.afas_id, action.afas_correlation, action.crm_id),
        ):
            if correlation == other_id:
                continue
            try:
                await self.gateways[side].update(
                    self.context.entity, record_id, {}, correlation=other_id
                )
            except RecordError as error:
                async with self.context.store.transaction() as tx:
                    await quarantine_refusal(self.context, tx, side, record_id, error)

    async def adopt(self, action: Adopt) -> None:
        """Idempotent (a role added), so no journal: after a crash the record, now with
        the role, is simply matched and linked by the next cycle."""
        context = self.context
        try:
            await self.gateways[action.target].adopt(context.entity, action.target_id)  # type: ignore[attr-defined]
        except RecordError as error:
            async with context.store.transaction() as tx:
                await quarantine_refusal(context, tx, action.target, action.target_id, error)
            return
        async with context.store.transaction() as tx:
            link = await tx.save_link(Link(context.connection, context.entity, *action.pair))
            await context.log_event(
                tx,
                EventName.RECORD_LINKED,
                action.crm_id,
                afas_id=action.afas_id,
                reason=action.reason,
                adopted=str(action.target),
            )
        context.links[action.pair] = link
        context.counts["adopted"] += 1
        if action.write_keys:
            await self.write_keys(action)

    async def repoint(self, tx: Transaction, action: Repoint) -> None:
        link, old = action.link, action.link.id_on(action.side)
        if action.side is Side.CRM:
            moved = dataclasses.replace(link, crm_id=action.new_id)
        else:
            moved = dataclasses.replace(link, afas_id=action.new_id)
        await tx.save_link(moved)
        self.context.links[(moved.crm_id, moved.afas_id)] = moved  # for its pair's writes
        await self.context.log_event(
            tx,
            EventName.RECORD_LINKED,
            action.new_id,
            side=str(action.side),
            reason=f"{old} lives on as {action.new_id} (merged or moved); the link follows it",
            name=self.context.record_name(link.base),
        )
        self.context.counts["merged"] += 1

    async def advance_bases(self, tx: Transaction, actions: list[AdvanceBase]) -> None:
        links = self.context.links
        moved = []
        for action in actions:
            link = links.get(action.pair)
            if link is not None and link.id is not None:
                links[action.pair] = with_base(link, action.fields)
                moved.append(links[action.pair])
        await tx.save_bases(moved)

    async def detach(self, action: Detach, deactivation: JournalEntry | None) -> None:
        """Keep the link as a tombstone; ``deactivation`` is the journal row of the
        survivor's deactivation, if it was deactivated, closed in the same commit."""
        context, link, survivor = self.context, action.link, action.gone.other
        async with context.store.transaction() as tx:
            await tx.save_link(dataclasses.replace(link, detached_at=context.now()))
            if deactivation is not None:
                await tx.finish_journal(entry_id(deactivation), JournalState.DONE)
            # A pair that is no more has nothing left for a person to decide.
            reason = f"unlinked: its {action.gone} record is gone"
            await close_conflicts(context, tx, link, None, reason)
            name = EventName.RECORD_DEACTIVATED if action.deactivate else EventName.RECORD_UNLINKED
            await context.log_event(
                tx,
                name,
                link.id_on(survivor),
                side=str(survivor),
                reason=action.reason,
                name=context.record_name(link.base),
                crm_id=link.crm_id,
                afas_id=link.afas_id,
            )
        context.counts["deactivated" if action.deactivate else "unlinked"] += 1
