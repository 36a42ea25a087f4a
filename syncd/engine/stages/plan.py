"""Stage 3, plan: the pure planner's plan of the cycle's pairs and matches."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from syncd.engine.actions import Note, PairState, Plan, Quarantine
from syncd.engine.cursors import create_cutoff
from syncd.engine.guards import check_guards
from syncd.engine.plan import PlanInput, make_plan
from syncd.engine.speed.seam import DoneWhileListing, SpeedStrategy
from syncd.engine.stages.context import CycleContext
from syncd.engine.stages.listings import SidePull
from syncd.engine.stages.lookups import CycleLookups
from syncd.engine.stages.match import Matches
from syncd.engine.stages.pairs import LinkedPairs
from syncd.engine.stages.standing import Standing
from syncd.events import EventName
from syncd.records import Side

FLIP_FLOP_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class CyclePlan:
    inputs: PlanInput
    plan: Plan


async def plan(
    ctx: CycleContext,
    speed: SpeedStrategy,
    standing: Standing,
    lookups: CycleLookups,
    pulled: Mapping[Side, SidePull],
    linked: LinkedPairs,
    matches: Matches,
) -> CyclePlan:
    pairs = await _not_held(ctx, linked.pairs)
    inputs = PlanInput(
        entity=ctx.entity,
        mapping=ctx.mapping,
        rules=ctx.rules,
        pairs=pairs,
        matches=matches.decisions,
        open_conflicts=await lookups.open_conflict_fields(),
        link_count=standing.link_count,
        listed={s: p.listed for s, p in pulled.items()} if ctx.full else None,
        quarantine=_rejections(standing, lookups),
        awaiting_review=await review_pending(ctx),
        recent_writes=await _recent_writes(ctx, pairs),
        create_cutoff={side: create_cutoff(ctx.started, ctx.lag(side)) for side in Side},
        merged=linked.merged,
        sibling_first=matches.sibling_first,
        sibling_linked=matches.sibling_linked,
    )
    return CyclePlan(inputs, await plan_again(speed, inputs))


async def plan_again(speed: SpeedStrategy, inputs: PlanInput) -> Plan:
    return await speed.run_pure(make_plan, inputs)


async def plan_fresh(ctx: CycleContext, speed: SpeedStrategy, fresh: PlanInput) -> CyclePlan:
    """The plan again, of what was read just before writing: a move found only now holds
    its pair as well."""
    inputs = dataclasses.replace(fresh, pairs=await _not_held(ctx, fresh.pairs))
    return CyclePlan(inputs, await plan_again(speed, inputs))


async def plan_pairs(
    ctx: CycleContext, standing: Standing, lookups: CycleLookups, pairs: list[PairState]
) -> CyclePlan:
    """The plan of ``pairs`` alone (a few hundred: planned in the loop)."""
    pairs = await _not_held(ctx, pairs)
    inputs = PlanInput(
        entity=ctx.entity,
        mapping=ctx.mapping,
        rules=ctx.rules,
        pairs=pairs,
        matches=[],
        open_conflicts=await lookups.open_conflict_fields(),
        link_count=standing.link_count,
        recent_writes=await _recent_writes(ctx, pairs),
    )
    lookups.hand_to_applier(p.link for p in pairs)
    return CyclePlan(inputs, make_plan(inputs))


async def _not_held(ctx: CycleContext, pairs: Sequence[PairState]) -> list[PairState]:
    """``pairs`` but those held while a record's new company is not linked (contacts)."""
    if ctx.waits is None:
        return list(pairs)
    return await ctx.waits.hold_moves(pairs)


def with_work_done(planned: CyclePlan, done: DoneWhileListing, gone_held: Sequence[Note]) -> Plan:
    """The whole cycle's plan: what was planned beside the listings joins it, and the
    guards judge what they count of all of it together."""
    plan = planned.plan
    plan.actions.extend(done.paired)  # planned as their pages came (first sync)
    plan.notes.extend(done.notes)
    plan.notes.extend(gone_held)
    if done.held:
        plan.actions.extend(done.held)
        plan.findings = check_guards(plan, planned.inputs)
    return plan


async def review_pending(ctx: CycleContext) -> bool:
    """A first match review is asked for and no person has reviewed yet."""
    if not ctx.rules.review_first:
        return False
    names = [str(EventName.MATCH_REVIEWED)]
    store = ctx.store
    return not await store.events(ctx.connection, entity=ctx.entity, names=names, limit=1)


def _rejections(standing: Standing, lookups: CycleLookups) -> list[Quarantine]:
    """Every row that could not be read this cycle, unless it waits in quarantine."""
    return [
        Quarantine(side, r.id, r.message, r.field, r.fields)
        for (side, record_id), r in lookups.rejected.items()
        if not standing.is_waiting_in_quarantine(side, record_id)
    ]


async def _recent_writes(
    ctx: CycleContext, pairs: Sequence[PairState]
) -> dict[int, list[tuple[str, Side]]]:
    """Per link, the last day's writes that the side stored otherwise (flip-flops)."""
    ids = [p.link.id for p in pairs if p.link.id is not None]
    if not ids:
        return {}
    found = await ctx.store.recent_updates(ids, ctx.now() - FLIP_FLOP_WINDOW)
    return {
        link_id: [(name, entry.target) for entry in entries for name in entry.altered]
        for link_id, entries in found.items()
    }
