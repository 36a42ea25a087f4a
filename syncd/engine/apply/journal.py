"""The write-ahead journal as the applier keeps it: an intent committed before each
request, and what a request that failed leaves behind."""

from __future__ import annotations

from collections.abc import Mapping

from syncd.engine.apply.context import ApplyContext
from syncd.errors import GatewayError, OutcomeUnknownError
from syncd.records import Side, Value
from syncd.state.rows import JournalAction, JournalEntry, JournalState


def intent(
    context: ApplyContext,
    action: JournalAction,
    target: Side,
    fields: Mapping[str, Value],
    *,
    target_id: str | None = None,
    source_id: str | None = None,
    link_id: int | None = None,
) -> JournalEntry:
    """A write-ahead intent; a create's correlation key is its source's id."""
    return JournalEntry(
        context.connection,
        context.entity,
        action,
        target,
        dict(fields),
        target_id=target_id,
        source_id=source_id,
        correlation=source_id if action is JournalAction.CREATE else None,
        link_id=link_id,
    )


async def record_intents(context: ApplyContext, entries: list[JournalEntry]) -> list[JournalEntry]:
    """Commit the intents of one request before it is sent."""
    return await context.store.record_intents(entries)


async def settle_failed_request(
    context: ApplyContext, entries: list[JournalEntry], error: GatewayError
) -> None:
    """A lost response leaves the intents pending; a failing side stops the cycle."""
    if isinstance(error, OutcomeUnknownError):
        context.counts["outcome_unknown"] += len(entries)
        return  # settled by a lookup next cycle
    async with context.store.transaction() as tx:
        for entry in entries:
            await tx.finish_journal(entry_id(entry), JournalState.FAILED)
    raise error


def entry_id(entry: JournalEntry) -> int:
    if entry.id is None:
        raise ValueError("journal entry was not recorded")
    return entry.id
