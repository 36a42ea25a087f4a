"""The writes that reach a side, each journalled: the intent is committed, the side is
called, and the outcome is committed with the link and base it moves.

Updates and creates go one request per batch (see :mod:`.lanes`); a deactivation is one
call. A record the side refuses waits in quarantine; a request whose outcome is unknown
leaves its intents pending for the next cycle to settle.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

from syncd.engine.actions import Create, Update
from syncd.engine.apply.context import ApplyContext, with_base
from syncd.engine.apply.journal import entry_id, intent, record_intents, settle_failed_request
from syncd.engine.apply.quarantine import quarantine_refused_write, release_from_quarantine
from syncd.engine.apply.taken import Adoption, adopt_taken
from syncd.engine.siblings import read_sibling_links
from syncd.errors import GatewayError, RecordError
from syncd.events import EventName
from syncd.gateways.base import BatchGateway, BatchOutcome, Gateway, SharingGateway
from syncd.records import Fields, Record, Side, Value
from syncd.state.rows import JournalAction, JournalEntry, JournalState, Link
from syncd.state.store import Transaction


class SideWrites:
    """Journalled updates, creates and deactivations of one plan."""

    def __init__(
        self,
        context: ApplyContext,
        gateways: Mapping[Side, Gateway],
        siblings: Sequence[str],
        company_field: str | None = None,
    ) -> None:
        self.context = context
        self.gateways = gateways
        self.siblings = siblings  # entities whose records are this one's in another role
        self.company_field = company_field  # a contact's company: an adoption must share it
        # Both sides' lanes may move one pair's base: each commit starts from the other's,
        # or the fields of the one saved first go missing from the base.
        self._moving_bases = asyncio.Lock()
        # Asked once per side, not per action: a check against a runtime protocol looks
        # at every method of the gateway.
        self._sharing = {side: isinstance(g, SharingGateway) for side, g in gateways.items()}

    # --- updates -----------------------------------------------------------------------

    async def update(self, updates: list[Update]) -> None:
        """One request for the updates of one side, then their outcomes committed."""
        links = self.context.links
        live = [(u, link) for u in updates if (link := links.get(u.pair)) and link.id]
        if not live:
            return  # their LinkPair failed earlier in this plan
        target = live[0][0].target
        entries = await record_intents(
            self.context,
            [
                intent(
                    self.context,
                    JournalAction.UPDATE,
                    target,
                    u.fields,
                    target_id=u.target_id,
                    link_id=link.id,
                )
                for u, link in live
            ],
        )
        items = [(u.target_id, u.fields, None) for u, _ in live]
        outcomes = await self._send(target, entries, items)
        if outcomes is not None:
            await self._commit_updates(target, [u for u, _ in live], entries, outcomes)

    async def _commit_updates(
        self,
        target: Side,
        updates: list[Update],
        entries: list[JournalEntry],
        outcomes: list[BatchOutcome],
    ) -> None:
        context, links = self.context, self.context.links
        async with self._moving_bases, context.store.transaction() as tx:
            as_written: list[tuple[int, str | None, int | None]] = []
            landed: list[tuple[Update, dict[str, Value]]] = []
            moved: list[Link] = []
            for update, entry, outcome in zip(updates, entries, outcomes, strict=True):
                if isinstance(outcome, RecordError):
                    await quarantine_refused_write(
                        context, tx, entry, target, update.target_id, outcome
                    )
                    continue
                link = with_base(links[update.pair], update.fields)
                if outcome.id != update.target_id:
                    link = await self._follow_move(tx, link, target, outcome.id)
                moved.append(link)
                links[update.pair] = moved[-1]
                altered = altered_fields(update, outcome)
                if altered:
                    await tx.finish_journal(entry_id(entry), JournalState.DONE, altered=altered)
                else:
                    as_written.append((entry_id(entry), None, None))
                landed.append((update, altered))
            await tx.save_bases(moved)
            await tx.finish_journals(as_written)
            for update, altered in landed:
                await release_from_quarantine(context, tx, target, update.target_id)
                link = links[update.pair]
                await context.log_event(
                    tx,
                    EventName.RECORD_CHANGED,
                    update.target_id,
                    side=str(target),
                    fields=_field_changes(update, altered),
                    name=context.record_name(link.base),
                    crm_id=link.crm_id,
                    afas_id=link.afas_id,
                )
                context.counts[f"updated_{target}"] += 1

    async def _follow_move(self, tx: Transaction, link: Link, side: Side, new_id: str) -> Link:
        """The link of a record the side moved while updating it (an AFAS contact ended
        at one organisation and added at the other), pointed at its new id."""
        old_id = link.id_on(side)
        if side is Side.CRM:
            link = dataclasses.replace(link, crm_id=new_id)
        else:
            link = dataclasses.replace(link, afas_id=new_id)
        await tx.save_link(link)
        await self.context.log_event(
            tx,
            EventName.RECORD_LINKED,
            new_id,
            side=str(side),
            reason=f"{old_id} was moved to another company as {new_id}; the link follows it",
            name=self.context.record_name(link.base),
        )
        return link

    # --- creates -----------------------------------------------------------------------

    async def create(self, creates: list[Create]) -> None:
        """One request for the creates on one side, then each new record linked."""
        target = creates[0].target
        # The journal keeps the base each pair will start with, for a lookup after a crash.
        entries = await record_intents(
            self.context,
            [
                intent(self.context, JournalAction.CREATE, target, c.base, source_id=c.source.id)
                for c in creates
            ],
        )
        items = [(c.fields, c.source.id) for c in creates]
        beside = await self._creates_beside_siblings(target, [c.source.id for c in creates])
        outcomes = await self._send(target, entries, items, beside)
        if outcomes is not None:
            await self._commit_creates(target, creates, entries, outcomes)

    async def _commit_creates(
        self,
        target: Side,
        creates: list[Create],
        entries: list[JournalEntry],
        outcomes: list[BatchOutcome],
    ) -> None:
        context = self.context
        decided = await adopt_taken(
            context, self.gateways[target], target, creates, outcomes, self.company_field
        )
        async with context.store.transaction() as tx:
            made: list[tuple[Create, JournalEntry, Record, Mapping[str, Value], bool]] = []
            for create, entry, outcome in zip(creates, entries, decided, strict=True):
                if isinstance(outcome, RecordError):
                    await quarantine_refused_write(
                        context, tx, entry, target.other, create.source.id, outcome
                    )
                elif isinstance(outcome, Adoption):
                    made.append((create, entry, outcome.record, outcome.base, True))
                else:
                    made.append((create, entry, outcome, create.base, False))
            links = await tx.insert_links(
                [self._new_link(target, c.source.id, r, base) for c, _, r, base, _ in made]
            )
            pairs = list(zip(made, links, strict=True))
            await tx.finish_journals(
                [(entry_id(e), r.id, link.id) for (_, e, r, _, _), link in pairs]
            )
            for (create, _, record, _, adopted), link in pairs:
                event = EventName.RECORD_LINKED if adopted else EventName.RECORD_CREATED
                await self._announce_create(tx, target, create.source.id, record, link, event)
                context.counts["adopted" if adopted else f"created_{target}"] += 1

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
        async with self.context.store.transaction() as tx:
            link = await tx.save_link(self._new_link(target, source_id, created, base))
            await tx.finish_journal(
                entry_id(entry), JournalState.DONE, target_id=created.id, link_id=link.id
            )
            await self._announce_create(tx, target, source_id, created, link, event)
        return link

    def _new_link(
        self, target: Side, source_id: str, created: Record, base: Mapping[str, Value]
    ) -> Link:
        crm_id, afas_id = (
            (source_id, created.id) if target is Side.AFAS else (created.id, source_id)
        )
        return Link(
            self.context.connection, self.context.entity, crm_id, afas_id, base=Fields.of(base)
        )

    async def _announce_create(
        self,
        tx: Transaction,
        target: Side,
        source_id: str,
        created: Record,
        link: Link,
        event: EventName,
    ) -> None:
        """A create is linked and its journal row closed: release it, tell the log."""
        await release_from_quarantine(self.context, tx, target.other, source_id)
        await self.context.log_event(
            tx,
            event,
            created.id,
            side=str(target),
            source=source_id,
            name=self.context.record_name(link.base),
            fields=dict(link.base),
        )
        self.context.links[(link.crm_id, link.afas_id)] = link

    async def _creates_beside_siblings(
        self, target: Side, sources: list[str]
    ) -> dict[str, tuple[str, str]]:
        """The creates that go beside a sibling's record (siblings.py), by source id."""
        if not self.siblings or not self._sharing[target]:
            return {}
        context = self.context
        return await read_sibling_links(context.store, context.connection, self.siblings, sources)

    # --- deactivations -----------------------------------------------------------------

    async def deactivate(self, link: Link, side: Side) -> JournalEntry | None:
        """Deactivate ``link``'s record on ``side``; its journal row, still to be closed
        with the link's change, or None when the side refused or the outcome is unknown."""
        target_id = link.id_on(side)
        [entry] = await record_intents(
            self.context,
            [
                intent(
                    self.context,
                    JournalAction.DEACTIVATE,
                    side,
                    {},
                    target_id=target_id,
                    link_id=link.id,
                )
            ],
        )
        try:
            await self.gateways[side].deactivate(self.context.entity, target_id)
        except RecordError as error:
            async with self.context.store.transaction() as tx:
                await quarantine_refused_write(self.context, tx, entry, side, target_id, error)
            return None
        except GatewayError as error:
            await settle_failed_request(self.context, [entry], error)
            return None
        return entry

    # --- requests ----------------------------------------------------------------------

    async def _send(
        self,
        target: Side,
        entries: list[JournalEntry],
        items: list[Any],
        beside: Mapping[str, tuple[str, str]] | None = None,
    ) -> list[BatchOutcome] | None:
        """One request for the batch; None when its outcome is unknown or it failed."""
        gateway, entity = self.gateways[target], self.context.entity
        creating = entries[0].action is JournalAction.CREATE
        try:
            if beside and isinstance(gateway, SharingGateway):
                return await gateway.create_beside(entity, items, beside)
            if isinstance(gateway, BatchGateway):
                if creating:
                    return await gateway.create_batch(entity, items)
                return await gateway.update_batch(entity, items)
            [item] = items
            if creating:
                return [await _outcome_of(gateway.create(entity, item[0], correlation=item[1]))]
            return [await _outcome_of(gateway.update(entity, item[0], item[1]))]
        except GatewayError as error:
            await settle_failed_request(self.context, entries, error)
            return None


async def _outcome_of(write: Awaitable[Record]) -> BatchOutcome:
    """A single write as a batch outcome: the record, or the side's refusal."""
    try:
        return await write
    except RecordError as refused:
        return refused


def altered_fields(update: Update, stored: Record) -> dict[str, Value]:
    """The fields the side stored otherwise than they were written."""
    return {
        name: stored.fields.get(name)
        for name, value in update.fields.items()
        if name in stored.fields and stored.fields[name] != value
    }


def _field_changes(update: Update, altered: Mapping[str, Value]) -> dict[str, dict[str, Value]]:
    """Before and after per field, with the rule that decided, for the status log."""
    changes = {
        d.field: {"before": update.before.get(d.field), "after": d.value, "rule": d.reason}
        for d in update.decisions
    }
    for name, stored in altered.items():
        changes[name]["stored"] = stored
    return changes
