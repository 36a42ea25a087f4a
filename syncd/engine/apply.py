"""Carrying out a plan: journal the intent, call the side, commit the outcome.

Each write follows the same three steps, so a crash at any point leaves every field at
its old or its final agreed value:

1. the intent is committed to the journal (``pending``);
2. the side is called;
3. base, link, journal row and status event are committed in one transaction (one per
   request: every record the request wrote).

Actions that write nothing outside (links, bases that both sides already agree on,
conflicts, quarantine) are committed together, one transaction per kind of action,
instead of one each: see :meth:`Applier._state_only`.

The writes of the two sides run at once, and a side that takes batches has up to
:data:`IN_FLIGHT` of them going, each through the three steps above on its own (see
:meth:`Applier._write_lanes`): its requests never wait for another batch's commit.

A write whose response never came back stays ``pending``; the next cycle settles it
(:mod:`syncd.engine.recovery`) before anything is written again.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from syncd.engine.plan import (
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
from syncd.engine.siblings import linked_beside
from syncd.errors import GatewayError, OutcomeUnknownError, RecordError
from syncd.events import EventName
from syncd.gateways.base import BatchGateway, BatchOutcome, Gateway, SharingGateway
from syncd.records import Fields, Record, Side, Value
from syncd.state.rows import (
    Conflict,
    JournalAction,
    JournalEntry,
    JournalState,
    Link,
    Quarantined,
    StatusEvent,
)
from syncd.state.store import StateStore, Transaction

QUARANTINE_FIRST_RETRY = timedelta(minutes=5)
QUARANTINE_MAX_RETRY = timedelta(hours=24)


def quarantine_delay(attempts: int) -> timedelta:
    """Doubling backoff for a refused record, capped at a day."""
    delay: timedelta = QUARANTINE_FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(delay, QUARANTINE_MAX_RETRY)


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
    ) -> None:
        self.store = store
        self.gateways = gateways
        self.connection = connection
        self.entity = entity
        self.links = links  # pair -> link, grows as LinkPair and Create actions land
        self.quarantined = quarantined
        self.now = now
        self.siblings = siblings  # entities whose records are this one's in another role
        self.counts: Counter[str] = Counter()
        self.agreed: dict[tuple[str, str], Mapping[str, Value]] = {}  # a new link's first base
        # Both sides' lanes may move one pair's base: each commit starts from the other's,
        # or the fields of the one saved first go missing from the base.
        self._moving_bases = asyncio.Lock()
        # Asked once per side, not per action: a check against a runtime protocol looks
        # at every method of the gateway.
        self.batching = {side: isinstance(g, BatchGateway) for side, g in gateways.items()}
        self.sharing = {side: isinstance(g, SharingGateway) for side, g in gateways.items()}

    async def apply(self, actions: list[Action]) -> Counter[str]:
        """Links first, then writes in batches per side, then the state-only rest.

        Links come first because updates and conflicts of a newly matched pair need
        them; a base that moves comes before the writes, so that a link's first base
        (the value a first-link write overwrites) is kept when that write is lost and
        never replaces the written value after it landed. A pair linked by this
        plan starts with the base its sides agree on, instead of a second save for it.
        """
        linking = {a.pair for a in actions if isinstance(a, LinkPair)}
        # Added to, never replaced: a first sync's early creates are applied beside the
        # rest of its plan, by this applier.
        self.agreed.update(
            (a.pair, a.fields) for a in actions if isinstance(a, AdvanceBase) and a.pair in linking
        )
        actions = [a for a in actions if not (isinstance(a, AdvanceBase) and a.pair in linking)]
        for phase in _PHASES:
            batches = self._batches([a for a in actions if isinstance(a, phase)])
            if phase in (Update, Create):
                await self._write_lanes(batches)
            else:
                for batch in batches:
                    await self._run(batch)
        return self.counts

    def _batches(self, actions: list[Action]) -> list[list[Action]]:
        """The actions of one phase cut into requests (or transactions), side by side."""
        batches: list[list[Action]] = []
        for action in sorted(actions, key=_side_order):
            if batches and self._joins(batches[-1], action):
                batches[-1].append(action)
            else:
                batches.append([action])
        return batches

    async def _write_lanes(self, batches: list[list[Action]]) -> None:
        """Write batches, each side in a lane of its own and both lanes at once.

        A lane keeps up to :data:`IN_FLIGHT` batches of a batching side going, so that
        one batch's read-back and commit overlap the next one's requests and the side's
        allowed concurrency stays in use instead of idling between lock-step chunks.
        Every batch still commits its intents before its requests are sent (the
        write-ahead rule holds per batch). A failed batch stops both lanes from starting
        more; batches already sent finish and commit their outcomes, then its error is
        raised, as when the batches ran one after another.
        """
        lanes: dict[Side, list[list[Action]]] = {}
        for batch in batches:
            lanes.setdefault(_target(batch[0]), []).append(batch)
        failures: list[Exception] = []
        async with asyncio.TaskGroup() as group:
            for side, lane in lanes.items():
                width = IN_FLIGHT if self.batching[side] else 1
                group.create_task(self._lane(lane, width, failures))
        if failures:
            raise failures[0]

    async def _lane(
        self, batches: list[list[Action]], width: int, failures: list[Exception]
    ) -> None:
        slots = asyncio.Semaphore(width)

        async def run(batch: list[Action]) -> None:
            try:
                await self._run(batch)
            except Exception as error:  # stops both lanes; raised once they are done
                failures.append(error)
            finally:
                slots.release()

        async with asyncio.TaskGroup() as group:
            for batch in batches:
                await slots.acquire()
                if failures:
                    slots.release()
                    break
                group.create_task(run(batch))

    def _joins(self, batch: list[Action], action: Action) -> bool:
        """Whether ``action`` goes in the same request (or transaction) as ``batch``."""
        first = batch[0]
        if isinstance(first, _STATE_ONLY):
            return type(action) is type(first) and len(batch) < STATE_BATCH_SIZE
        if not isinstance(first, Update | Create) or not isinstance(action, Update | Create):
            return False
        size = BATCH_SIZE if self.batching[first.target] else 1
        return action.target is first.target and len(batch) < size

    async def _run(self, batch: list[Action]) -> None:
        first = batch[0]
        if isinstance(first, Update):
            await self._updates([a for a in batch if isinstance(a, Update)])
        elif isinstance(first, Create):
            await self._creates([a for a in batch if isinstance(a, Create)])
        elif isinstance(first, _STATE_ONLY):
            await self._state_only(batch)
        elif isinstance(first, Adopt):
            await self._adopt(first)
        elif isinstance(first, Detach):
            await self._detach(first)

    async def _state_only(self, batch: list[Action]) -> None:
        """Commit actions that write nothing outside in one transaction.

        Safe without a journal row each: nothing outside depends on them, and each is
        planned again from the same inputs if it is lost. A crash before the commit
        leaves the records unlinked (matched again next cycle), the base where it was
        (both sides still agree, so AGREED again) and the conflict unrecorded (found
        again). The write-ahead rule for external writes is untouched: their intents
        are still committed, on their own, before each request (:meth:`_intend_all`),
        and the links they need are committed before that, since this phase ends with
        its commit.
        """
        handlers: dict[type, Callable[[Transaction, Action], Awaitable[None]]] = {
            Repoint: self._repoint,  # type: ignore[dict-item]
            CloseConflicts: self._close_conflicts,  # type: ignore[dict-item]
            Quarantine: self._quarantine,  # type: ignore[dict-item]
        }
        async with self.store.transaction() as tx:
            if isinstance(batch[0], LinkPair):
                await self._link_all(tx, [a for a in batch if isinstance(a, LinkPair)])
            elif isinstance(batch[0], OpenConflict):
                await self._open_all(tx, [a for a in batch if isinstance(a, OpenConflict)])
            elif isinstance(batch[0], AdvanceBase):
                await self._advance_all(tx, [a for a in batch if isinstance(a, AdvanceBase)])
            else:
                for action in batch:
                    await handlers[type(action)](tx, action)
        for action in batch:
            if isinstance(action, LinkPair) and action.write_keys:
                await self._write_keys(action)

    # --- writes ------------------------------------------------------------------------

    async def _updates(self, updates: list[Update]) -> None:
        live = [(u, link) for u in updates if (link := self.links.get(u.pair)) and link.id]
        if not live:
            return  # their LinkPair failed earlier in this plan
        target = live[0][0].target
        entries = await self._intend_all(
            [
                self._entry(JournalAction.UPDATE, target, u.fields, u.target_id, None, link.id)
                for u, link in live
            ]
        )
        items = [(u.target_id, u.fields, None) for u, _ in live]
        outcomes = await self._send(target, entries, items, [u.target_id for u, _ in live])
        if outcomes is None:
            return
        async with self._moving_bases, self.store.transaction() as tx:
            plain: list[tuple[int, str | None, int | None]] = []  # stored as written
            landed: list[tuple[Update, dict[str, Value]]] = []
            moved: list[Link] = []
            for (update, _), entry, outcome in zip(live, entries, outcomes, strict=True):
                if isinstance(outcome, RecordError):
                    await self._refused(tx, entry, outcome, target, update.target_id)
                    continue
                moved.append(_with_base(self.links[update.pair], update.fields))
                self.links[update.pair] = moved[-1]
                altered = _altered(update, outcome)
                if altered:
                    await tx.finish_journal(_id(entry), JournalState.DONE, altered=altered)
                else:
                    plain.append((_id(entry), None, None))
                landed.append((update, altered))
            await tx.save_bases(moved)
            await tx.finish_journals(plain)
            for update, altered in landed:
                await self._release(tx, target, update.target_id)
                await self._event(
                    tx,
                    EventName.RECORD_CHANGED,
                    update.target_id,
                    side=str(target),
                    fields=_changes(update, altered),
                )
                self.counts[f"updated_{target}"] += 1

    async def _creates(self, creates: list[Create]) -> None:
        target = creates[0].target
        # The journal keeps the base each pair will start with, for a lookup after a crash.
        entries = await self._intend_all(
            [
                self._entry(JournalAction.CREATE, target, c.base, None, c.source.id, None)
                for c in creates
            ]
        )
        items = [(c.fields, c.source.id) for c in creates]
        beside = await self._beside(target, [c.source.id for c in creates])
        outcomes = await self._send(target, entries, items, [c.source.id for c in creates], beside)
        if outcomes is None:
            return
        async with self.store.transaction() as tx:
            made: list[tuple[Create, JournalEntry, Record]] = []
            for create, entry, outcome in zip(creates, entries, outcomes, strict=True):
                if isinstance(outcome, RecordError):
                    await self._refused(tx, entry, outcome, target.other, create.source.id)
                else:
                    made.append((create, entry, outcome))
            links = await tx.insert_links(
                [self._new_link(target, c.source.id, record, c.base) for c, _, record in made]
            )
            pairs = list(zip(made, links, strict=True))
            await tx.finish_journals([(_id(e), r.id, link.id) for (_, e, r), link in pairs])
            for (create, _, record), link in pairs:
                await self._announce_create(
                    tx, target, create.source.id, record, link, EventName.RECORD_CREATED
                )
                self.counts[f"created_{target}"] += 1

    async def _send(
        self,
        target: Side,
        entries: list[JournalEntry],
        items: list[Any],
        ids: list[str],
        beside: Mapping[str, tuple[str, str]] | None = None,
    ) -> list[BatchOutcome] | None:
        """One request for the batch; None when its outcome is unknown or it failed."""
        gateway = self.gateways[target]
        creating = entries[0].action is JournalAction.CREATE
        try:
            if beside and isinstance(gateway, SharingGateway):
                return await gateway.create_beside(self.entity, items, beside)
            if isinstance(gateway, BatchGateway):
                if creating:
                    return await gateway.create_batch(self.entity, items)
                return await gateway.update_batch(self.entity, items)
            [item] = items
            if creating:
                return [await _refusal(gateway.create(self.entity, item[0], correlation=item[1]))]
            return [await _refusal(gateway.update(self.entity, item[0], item[1]))]
        except GatewayError as error:
            await self._batch_failed(entries, error, target if not creating else target.other, ids)
            return None

    async def _beside(self, target: Side, sources: list[str]) -> dict[str, tuple[str, str]]:
        """The creates that go beside a sibling's record (siblings.py), by source id."""
        if not self.siblings or not self.sharing[target]:
            return {}
        return await linked_beside(self.store, self.connection, self.siblings, sources)

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
        async with self.store.transaction() as tx:
            link = await tx.save_link(self._new_link(target, source_id, created, base))
            await tx.finish_journal(
                _id(entry), JournalState.DONE, target_id=created.id, link_id=link.id
            )
            await self._announce_create(tx, target, source_id, created, link, event)
        return link

    def _new_link(
        self, target: Side, source_id: str, created: Record, base: Mapping[str, Value]
    ) -> Link:
        crm_id, afas_id = (
            (source_id, created.id) if target is Side.AFAS else (created.id, source_id)
        )
        return Link(self.connection, self.entity, crm_id, afas_id, base=Fields.of(base))

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
        await self._release(tx, target.other, source_id)
        await self._event(
            tx, event, created.id, side=str(target), source=source_id, fields=dict(link.base)
        )
        self.links[(link.crm_id, link.afas_id)] = link

    async def _detach(self, action: Detach) -> None:
        link, survivor = action.link, action.gone.other
        entry = None
        if action.deactivate:
            target_id = link.id_on(survivor)
            [entry] = await self._intend_all(
                [self._entry(JournalAction.DEACTIVATE, survivor, {}, target_id, None, link.id)]
            )
            try:
                await self.gateways[survivor].deactivate(self.entity, target_id)
            except RecordError as error:
                async with self.store.transaction() as tx:
                    await self._refused(tx, entry, error, survivor, target_id)
                return
            except GatewayError as error:
                await self._batch_failed([entry], error, survivor, [target_id])
                return
        async with self.store.transaction() as tx:
            await tx.save_link(dataclasses.replace(link, detached_at=self.now()))
            if entry is not None:
                await tx.finish_journal(_id(entry), JournalState.DONE)
            # A pair that is no more has nothing left for a person to decide.
            reason = f"unlinked: its {action.gone} record is gone"
            for conflict in await tx.close_conflicts(_link_id(link), None, reason):
                await self._event(tx, EventName.CONFLICT_CLOSED, link.crm_id, field=conflict.field)
            name = EventName.RECORD_DEACTIVATED if action.deactivate else EventName.RECORD_UNLINKED
            await self._event(
                tx,
                name,
                link.id_on(survivor),
                side=str(survivor),
                reason=action.reason,
                crm_id=link.crm_id,
                afas_id=link.afas_id,
            )
        self.counts["deactivated" if action.deactivate else "unlinked"] += 1

    # --- state-only actions ------------------------------------------------------------

    async def _advance_all(self, tx: Transaction, actions: list[AdvanceBase]) -> None:
        moved = []
        for action in actions:
            link = self.links.get(action.pair)
            if link is not None and link.id is not None:
                self.links[action.pair] = _with_base(link, action.fields)
                moved.append(self.links[action.pair])
        await tx.save_bases(moved)

    async def _link_all(self, tx: Transaction, actions: list[LinkPair]) -> None:
        # The agreed fields are compact and never change: the link keeps them, no copy.
        links = await tx.insert_links(
            [
                Link(self.connection, self.entity, *a.pair, base=self.agreed.get(a.pair, {}))
                for a in actions
            ]
        )
        for action, link in zip(actions, links, strict=True):
            await self._release(tx, Side.CRM, action.crm_id)
            await self._release(tx, Side.AFAS, action.afas_id)
            await self._event(
                tx,
                EventName.RECORD_LINKED,
                action.crm_id,
                afas_id=action.afas_id,
                reason=action.reason,
            )
            self.links[action.pair] = link
            self.counts["linked"] += 1

    async def _write_keys(self, action: LinkPair | Adopt) -> None:
        """Each record gets the other's id as its correlation key. Idempotent, so not
        journalled: a write lost here is only a key missing, never a wrong record."""
        for side, record_id, correlation, other_id in (
            (Side.CRM, action.crm_id, action.crm_correlation, action.afas_id),
            (Side.AFAS, action.afas_id, action.afas_correlation, action.crm_id),
        ):
            if correlation == other_id:
                continue
            try:
                await self.gateways[side].update(self.entity, record_id, {}, correlation=other_id)
            except RecordError as error:
                async with self.store.transaction() as tx:
                    await self._put_in_quarantine(
                        tx, side, record_id, str(error), error.field, error.reference
                    )

    async def _adopt(self, action: Adopt) -> None:
        """Idempotent (a role added), so no journal: after a crash the record, now with
        the role, is simply matched and linked by the next cycle."""
        target_id = action.pair[0] if action.target is Side.CRM else action.pair[1]
        try:
            await self.gateways[action.target].adopt(self.entity, target_id)  # type: ignore[attr-defined]
        except RecordError as error:
            async with self.store.transaction() as tx:
                await self._put_in_quarantine(
                    tx, action.target, target_id, str(error), error.field, error.reference
                )
            return
        async with self.store.transaction() as tx:
            link = await tx.save_link(Link(self.connection, self.entity, *action.pair))
            await self._event(
                tx,
                EventName.RECORD_LINKED,
                action.pair[0],
                afas_id=action.pair[1],
                reason=action.reason,
                adopted=str(action.target),
            )
        self.links[action.pair] = link
        self.counts["adopted"] += 1
        if action.write_keys:
            await self._write_keys(action)

    async def _repoint(self, tx: Transaction, action: Repoint) -> None:
        link, old = action.link, action.link.id_on(action.side)
        if action.side is Side.CRM:
            moved = dataclasses.replace(link, crm_id=action.new_id)
        else:
            moved = dataclasses.replace(link, afas_id=action.new_id)
        await tx.save_link(moved)
        await self._event(
            tx,
            EventName.RECORD_LINKED,
            action.new_id,
            side=str(action.side),
            reason=f"{old} was merged into {action.new_id}; the link follows it",
        )
        self.counts["merged"] += 1

    async def _open_all(self, tx: Transaction, actions: list[OpenConflict]) -> None:
        live = [(a, link) for a in actions if (link := self.links.get(a.pair)) and link.id]
        opened = await tx.open_conflicts(
            [
                Conflict(
                    self.connection, self.entity, _link_id(link), a.field, a.base, a.crm, a.afas
                )
                for a, link in live
            ]
        )
        for (action, link), new in zip(live, opened, strict=True):
            if new:
                await self._event(
                    tx,
                    EventName.CONFLICT_OPENED,
                    link.crm_id,
                    afas_id=link.afas_id,
                    field=action.field,
                    base=action.base,
                    crm=action.crm,
                    afas=action.afas,
                )
            self.counts["conflicts"] += 1

    async def _close_conflicts(self, tx: Transaction, action: CloseConflicts) -> None:
        if action.link.id is None:
            return
        closed = await tx.close_conflicts(
            action.link.id, action.fields, "settled: both sides agree or a rule decided"
        )
        for conflict in closed:
            await self._event(
                tx, EventName.CONFLICT_CLOSED, action.link.crm_id, field=conflict.field
            )

    async def _quarantine(self, tx: Transaction, action: Quarantine) -> None:
        await self._put_in_quarantine(
            tx,
            action.side,
            action.record_id,
            action.reason,
            action.field,
            None,
            fields=dict(action.fields),
        )

    # --- helpers -----------------------------------------------------------------------

    def _entry(
        self,
        action: JournalAction,
        target: Side,
        fields: Mapping[str, Value],
        target_id: str | None,
        source_id: str | None,
        link_id: int | None,
    ) -> JournalEntry:
        """A write-ahead intent; a create's correlation key is its source's id."""
        return JournalEntry(
            self.connection,
            self.entity,
            action,
            target,
            dict(fields),
            target_id=target_id,
            source_id=source_id,
            correlation=source_id if action is JournalAction.CREATE else None,
            link_id=link_id,
        )

    async def _intend_all(self, entries: list[JournalEntry]) -> list[JournalEntry]:
        """Commit the intents of one request before it is sent."""
        return await self.store.record_intents(entries)

    async def _batch_failed(
        self, entries: list[JournalEntry], error: GatewayError, side: Side, ids: list[str]
    ) -> None:
        """A lost response leaves the intents pending; a failing side stops the cycle."""
        if isinstance(error, OutcomeUnknownError):
            self.counts["outcome_unknown"] += len(entries)
            return  # settled by a lookup next cycle
        async with self.store.transaction() as tx:
            for entry in entries:
                await tx.finish_journal(_id(entry), JournalState.FAILED)
        raise error

    async def _refused(
        self,
        tx: Transaction,
        entry: JournalEntry,
        error: RecordError,
        side: Side,
        record_id: str,
    ) -> None:
        """The side refused this record: nothing was written, it waits in quarantine."""
        await tx.finish_journal(_id(entry), JournalState.FAILED)
        await self._put_in_quarantine(tx, side, record_id, str(error), error.field, error.reference)

    async def _put_in_quarantine(
        self,
        tx: Transaction,
        side: Side,
        record_id: str,
        reason: str,
        field: str | None,
        reference: str | None,
        *,
        fields: dict[str, Value] | None = None,
    ) -> None:
        previous = self.quarantined.get((side, record_id))
        attempts = previous.attempts + 1 if previous else 1
        now = self.now()
        await tx.quarantine(
            Quarantined(
                self.connection,
                self.entity,
                side,
                record_id,
                reason,
                field=field,
                reference=reference,
                attempts=attempts,
                first_seen=now,
                next_attempt=now + quarantine_delay(attempts),
                fields=fields or {},
            )
        )
        await self._event(
            tx,
            EventName.RECORD_QUARANTINED,
            record_id,
            side=str(side),
            reason=reason,
            field=field,
            reference=reference,
            attempts=attempts,
        )
        self.counts["quarantined"] += 1

    async def _release(self, tx: Transaction, side: Side, record_id: str) -> None:
        if (side, record_id) in self.quarantined and await tx.release(
            self.connection, self.entity, side, record_id
        ):
            await self._event(tx, EventName.RECORD_RELEASED, record_id, side=str(side))

    async def _event(
        self, tx: Transaction, name: EventName, record: str | None, **data: object
    ) -> None:
        await tx.add_event(
            StatusEvent(self.connection, self.entity, str(name), record=record, data=data)
        )


_PHASES: tuple[type, ...] = (
    LinkPair,
    Adopt,
    Repoint,
    Quarantine,
    AdvanceBase,  # before Update: a seeded base is saved before its write, never after
    Update,
    Create,
    Detach,
    OpenConflict,
    CloseConflicts,
)
BATCH_SIZE = 100
IN_FLIGHT = 2  # batches of one batching side at once: enough to overlap a commit with requests
STATE_BATCH_SIZE = 250  # state-only actions per transaction: bounded, and still few commits
_STATE_ONLY = (LinkPair, AdvanceBase, Repoint, OpenConflict, CloseConflicts, Quarantine)


def _target(action: Action) -> Side:
    if not isinstance(action, Update | Create):
        raise TypeError(f"{type(action).__name__} writes to no side")
    return action.target


def _side_order(action: Action) -> int:
    """Writes to one side go together, so they can share requests (a stable sort)."""
    return 1 if isinstance(action, Update | Create) and action.target is Side.AFAS else 0


async def _refusal(write: Awaitable[Record]) -> BatchOutcome:
    """A single write as a batch outcome: the record, or the side's refusal."""
    try:
        return await write
    except RecordError as refused:
        return refused


def _changes(update: Update, altered: Mapping[str, Value]) -> dict[str, dict[str, Value]]:
    """Before and after per field, with the rule that decided, for the status log."""
    changes = {
        d.field: {"before": update.before.get(d.field), "after": d.value, "rule": d.reason}
        for d in update.decisions
    }
    for name, stored in altered.items():
        changes[name]["stored"] = stored
    return changes


def _altered(update: Update, stored: Record) -> dict[str, Value]:
    """The fields the side stored otherwise than they were written."""
    return {
        name: stored.fields.get(name)
        for name, value in update.fields.items()
        if name in stored.fields and stored.fields[name] != value
    }


def _with_base(link: Link, fields: Mapping[str, Value]) -> Link:
    return dataclasses.replace(link, base={**link.base, **fields})


def _link_id(link: Link) -> int:
    if link.id is None:
        raise ValueError("link was not saved")
    return link.id


def _id(entry: JournalEntry) -> int:
    if entry.id is None:
        raise ValueError("journal entry was not recorded")
    return entry.id
