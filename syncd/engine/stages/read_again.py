"""Stage 4, read again: the records a plan writes over, read once more before writing.

A listing is no snapshot (a long one takes minutes, and a record can change while its
pages are read), so the records the plan updates are read again, and a change found there
is reconciled, not overwritten: the caller plans again with what was read.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from syncd.engine.actions import Plan, Update
from syncd.engine.plan import PlanInput
from syncd.engine.stages.lookups import CycleLookups
from syncd.records import Record, Side


async def read_again(lookups: CycleLookups, inputs: PlanInput, plan: Plan) -> PlanInput | None:
    """``inputs`` with the targets as read now, or None when none changed."""
    pairs = list(inputs.pairs)
    stale = False

    async def fresh_on(side: Side) -> dict[str, Record]:
        targets = [
            a.target_id
            for a in plan.actions
            if isinstance(a, Update)
            and a.target is side
            and a.target_id not in lookups.read_now[side]
        ]
        return {r.id: r for r in (await lookups.read(side, targets)).records} if targets else {}

    read = await asyncio.gather(*(fresh_on(side) for side in Side))  # both sides at once
    for side, fresh in zip(Side, read, strict=True):
        for n, pair in enumerate(pairs if fresh else ()):
            now, listed = fresh.get(pair.link.id_on(side)), pair.on(side)
            if now is not None and listed is not None and now.fields != listed.fields:
                pairs[n] = replace(pair, crm=now) if side is Side.CRM else replace(pair, afas=now)
                stale = True
    return replace(inputs, pairs=pairs) if stale else None
