"""Conflicts for a person to settle: recorded when opened, closed when settled."""

from __future__ import annotations

from collections.abc import Sequence

from syncd.engine.actions import OpenConflict
from syncd.engine.apply.context import ApplyContext, saved_id
from syncd.events import EventName
from syncd.state.rows import Conflict, Link
from syncd.state.store import Transaction

SETTLED = "settled: both sides agree or a rule decided"


async def open_conflicts(
    context: ApplyContext, tx: Transaction, actions: list[OpenConflict]
) -> None:
    """Record the conflicts of linked pairs; a conflict already open is not told again."""
    links = context.links
    live = [(a, link) for a in actions if (link := links.get(a.pair)) and link.id]
    opening = await tx.open_conflicts(
        [
            Conflict(
                context.connection,
                context.entity,
                saved_id(link),
                a.field,
                a.base,
                a.crm,
                a.afas,
            )
            for a, link in live
        ]
    )
    for (action, link), new in zip(live, opening, strict=True):
        if new:
            await context.log_event(
                tx,
                EventName.CONFLICT_OPENED,
                link.crm_id,
                afas_id=link.afas_id,
                name=context.record_name(link.base),
                field=action.field,
                base=action.base,
                crm=action.crm,
                afas=action.afas,
            )
        context.counts["conflicts"] += 1


async def close_conflicts(
    context: ApplyContext,
    tx: Transaction,
    link: Link,
    fields: Sequence[str] | None,
    resolution: str,
) -> None:
    """Close ``link``'s open conflicts of ``fields`` (None: all of them)."""
    for conflict in await tx.close_conflicts(saved_id(link), fields, resolution):
        await context.log_event(tx, EventName.CONFLICT_CLOSED, link.crm_id, field=conflict.field)
