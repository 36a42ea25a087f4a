"""Stage 5, guards: a plan whose findings no operator confirmed is not applied."""

from __future__ import annotations

from syncd.engine import guards
from syncd.engine.actions import Plan
from syncd.engine.stages.context import CycleContext
from syncd.events import EventName


async def guards_pass(ctx: CycleContext, plan: Plan, *, accept_guards: bool) -> bool:
    """True when nothing stops the plan; a stopped one is logged (but in a dry run)."""
    if not plan.findings or accept_guards or await _is_confirmed(ctx, plan):
        return True
    if not ctx.dry_run:
        for finding in plan.findings:
            await ctx.log_event(
                EventName.GUARD_TRIPPED,
                None,
                guard=finding.guard,
                message=finding.message,
                count=finding.count,
                records=[list(pair) for pair in finding.pairs],
            )
    return False


async def _is_confirmed(ctx: CycleContext, plan: Plan) -> bool:
    """True when an operator confirmed these guards (``syncd guards confirm``)."""
    allowed = await guards.read_confirmation(ctx.store, ctx.connection, ctx.entity)
    return guards.are_covered(plan.findings, allowed)
