"""Stage 6, apply: the plan's actions (journalled first, see the applier), and the
notes that write nothing but tell the operator."""

from __future__ import annotations

from collections import Counter

from syncd.engine.actions import Plan
from syncd.engine.apply.applier import Applier
from syncd.engine.stages.context import CycleContext


async def apply(ctx: CycleContext, applier: Applier, plan: Plan) -> Counter[str]:
    """Apply ``plan``; returns what was done, by kind."""
    counts = await applier.apply(plan.actions)
    counts.update(await _record_notes(ctx, plan))
    # What waits for a person, not only what this cycle looked at: a pair in conflict
    # that neither side changed is not planned again, its conflict still stands.
    standing = await ctx.store.open_conflict_count(ctx.connection, ctx.entity)
    counts.pop("conflicts", None)
    if standing:
        counts["conflicts"] = standing
    return counts


async def _record_notes(ctx: CycleContext, plan: Plan) -> Counter[str]:
    """Ambiguous matches and skipped creates: nothing is written, the operator is told."""
    if not plan.notes:  # an idle cycle's: no write turn to wait for
        return Counter()
    async with ctx.store.transaction() as tx:
        for note in plan.notes:
            data: dict[str, object] = {
                "side": str(note.side),
                "reason": note.reason,
                "candidates": list(note.candidates),
            }
            if note.name is not None:
                data["name"] = note.name
            await tx.add_event(ctx.status_event(note.event, note.record_id, data))
    return Counter(str(note.event) for note in plan.notes)
