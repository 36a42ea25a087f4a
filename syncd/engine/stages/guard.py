"""Stage 5, guards: a plan whose findings no operator confirmed is not applied."""

from __future__ import annotations

from syncd.engine import guards, held_plan
from syncd.engine.actions import Plan
from syncd.engine.stages.context import CycleContext
from syncd.events import EventName
from syncd.records import Side


async def guards_pass(ctx: CycleContext, plan: Plan, *, accept_guards: bool) -> bool:
    """True when nothing stops the plan; a stopped one is logged, with what it would
    write kept for the operator to read (but in a dry run)."""
    if not plan.findings or accept_guards or await _is_confirmed(ctx, plan):
        return True
    if not ctx.dry_run:
        held = await _held(ctx, plan)
        async with ctx.store.transaction() as tx:
            for finding in plan.findings:
                data: dict[str, object] = {
                    "guard": finding.guard,
                    "message": finding.message,
                    "count": finding.count,
                    "records": [list(pair) for pair in finding.pairs],
                }
                await tx.add_event(ctx.status_event(EventName.GUARD_TRIPPED, None, data))
            await tx.hold_plan(ctx.connection, ctx.entity, held.as_data(), held.at)
    return False


async def _held(ctx: CycleContext, plan: Plan) -> held_plan.HeldPlan:
    """The plan's writes, a linked record named by its link (as every view names it)."""
    ids = held_plan.crm_ids(plan)
    links = await ctx.store.links_by_ids(ctx.connection, ctx.entity, Side.CRM, ids) if ids else {}

    def link_name(crm_id: str) -> str | None:
        link = links.get(crm_id)
        return link.name if link is not None else None

    return held_plan.hold(plan, ctx.now(), link_name, ctx.mapping.display_name)


async def _is_confirmed(ctx: CycleContext, plan: Plan) -> bool:
    """True when an operator confirmed these guards (``syncd guards confirm``)."""
    allowed = await guards.read_confirmation(ctx.store, ctx.connection, ctx.entity)
    return guards.are_covered(plan.findings, allowed)
