"""Records a side refused or that could not be read: held back, retried later.

A record waits in quarantine with a doubling delay between attempts, and is released
when a later write of it lands or it is linked.
"""

from __future__ import annotations

from datetime import timedelta

from syncd.engine.actions import Quarantine
from syncd.engine.apply.context import ApplyContext
from syncd.engine.apply.journal import entry_id
from syncd.errors import RecordError
from syncd.events import EventName
from syncd.records import Side, Value
from syncd.state.rows import JournalEntry, JournalState, Quarantined
from syncd.state.store import Transaction

QUARANTINE_FIRST_RETRY = timedelta(minutes=5)
QUARANTINE_MAX_RETRY = timedelta(hours=24)


def quarantine_delay(attempts: int) -> timedelta:
    """Doubling backoff for a refused record, capped at a day."""
    delay: timedelta = QUARANTINE_FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(delay, QUARANTINE_MAX_RETRY)


async def put_in_quarantine(
    context: ApplyContext,
    tx: Transaction,
    side: Side,
    record_id: str,
    reason: str,
    *,
    field: str | None = None,
    reference: str | None = None,
    fields: dict[str, Value] | None = None,
) -> None:
    previous = context.quarantined.get((side, record_id))
    attempts = previous.attempts + 1 if previous else 1
    now = context.now()
    await tx.quarantine(
        Quarantined(
            context.connection,
            context.entity,
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
    await context.log_event(
        tx,
        EventName.RECORD_QUARANTINED,
        record_id,
        side=str(side),
        reason=reason,
        field=field,
        reference=reference,
        attempts=attempts,
    )
    context.counts["quarantined"] += 1


async def quarantine_action(context: ApplyContext, tx: Transaction, action: Quarantine) -> None:
    """A record the plan holds back (unreadable, clashing), with what could be read."""
    await put_in_quarantine(
        context,
        tx,
        action.side,
        action.record_id,
        action.reason,
        field=action.field,
        fields=dict(action.fields),
    )


async def quarantine_refusal(
    context: ApplyContext, tx: Transaction, side: Side, record_id: str, error: RecordError
) -> None:
    """The side refused a write of this record: it waits in quarantine."""
    await put_in_quarantine(
        context, tx, side, record_id, str(error), field=error.field, reference=error.reference
    )


async def quarantine_refused_write(
    context: ApplyContext,
    tx: Transaction,
    entry: JournalEntry,
    side: Side,
    record_id: str,
    error: RecordError,
) -> None:
    """A journalled write the side refused: nothing was written, the intent failed."""
    await tx.finish_journal(entry_id(entry), JournalState.FAILED)
    await quarantine_refusal(context, tx, side, record_id, error)


async def release_from_quarantine(
    context: ApplyContext, tx: Transaction, side: Side, record_id: str
) -> None:
    if (side, record_id) in context.quarantined and await tx.release(
        context.connection, context.entity, side, record_id
    ):
        await context.log_event(tx, EventName.RECORD_RELEASED, record_id, side=str(side))
