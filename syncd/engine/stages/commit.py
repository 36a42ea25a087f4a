"""Stage 7, commit: each side's cursor moves on (only after the whole plan was applied,
so a failed cycle is simply repeated), the links the cycle touched keep their records'
names, and the cycle's report goes to the status log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from syncd.engine.actions import Plan
from syncd.engine.cursors import before_deferred
from syncd.engine.link_names import renamed
from syncd.engine.stages.context import CycleContext, hinted_counts, requests_sent
from syncd.events import EventName
from syncd.records import Cursor, Side
from syncd.state.rows import Link


async def commit(
    ctx: CycleContext,
    cursors: Mapping[Side, Cursor | None],
    plan: Plan,
    counts: Counter[str],
    links: Iterable[Link] = (),
) -> None:
    """``links``: those the cycle touched (new ones too), as they are now."""
    async with ctx.store.transaction() as tx:
        await tx.save_names(renamed(links, ctx.mapping))
        for side in Side:
            cursor = before_deferred(cursors[side], plan.deferred, side)
            if cursor is not None:
                await tx.set_cursor(ctx.connection, ctx.entity, side, cursor)
        if ctx.waits is not None:
            await ctx.waits.save(tx, whole=ctx.full)
        await tx.add_event(
            ctx.status_event(
                EventName.CYCLE_FINISHED,
                None,
                {
                    "full": ctx.full,
                    **hinted_counts(ctx),
                    "counts": dict(counts),
                    "waiting_for_sibling": plan.waiting_for_sibling,
                    **_waiting_for_company(ctx),
                    "seconds": round((ctx.now() - ctx.started).total_seconds(), 3),
                    "requests": _requests(ctx),
                },
            )
        )


def _waiting_for_company(ctx: CycleContext) -> dict[str, object]:
    """What this cycle saw waiting for its company, by reason (contacts only)."""
    if ctx.waits is None:
        return {}
    reasons = Counter(w.reason for w in ctx.waits.found.waiting.values())
    return {"waiting_for_company": dict(reasons)}


def _requests(ctx: CycleContext) -> dict[str, object]:
    """Per side: requests this cycle used, and its budget where it keeps one."""
    found: dict[str, object] = {}
    for side, gateway in ctx.gateways.items():
        status = getattr(gateway, "status", None)
        extra = status() if callable(status) else {}
        used = requests_sent(gateway) - ctx.sent_before[side]
        found[str(side)] = {"used": used, **extra}
    return found
