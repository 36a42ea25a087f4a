"""One cycle of one entity of one connection, end to end, as DESIGN.md §2 draws it:

pull (both sides at once) -> match -> plan (pure) -> read again what the plan writes over
-> guards -> apply (journal first) -> commit the cursors. Each stage is a module of
:mod:`syncd.engine.stages`; what makes cycles fast sits behind the speed seam
(:mod:`syncd.engine.speed`), which the stages call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from syncd.clock import utc_now
from syncd.engine.actions import Plan
from syncd.engine.apply.applier import Applier
from syncd.engine.cancel import cancel_task
from syncd.engine.hints import HintedIds
from syncd.engine.indoubt import InDoubt
from syncd.engine.plan import field_rules
from syncd.engine.progress import NO_PROGRESS, ListingProgress
from syncd.engine.references import following_companies
from syncd.engine.siblings import siblings_of
from syncd.engine.speed.fast import FAST
from syncd.engine.speed.quiet import QuietLanes, nothing_listed
from syncd.engine.speed.seam import SpeedStrategy
from syncd.engine.stages.apply import apply
from syncd.engine.stages.commit import commit
from syncd.engine.stages.context import CycleContext, hinted_counts, requests_sent
from syncd.engine.stages.guard import guards_pass
from syncd.engine.stages.listings import Listing
from syncd.engine.stages.lookups import CycleLookups
from syncd.engine.stages.match import match
from syncd.engine.stages.pairs import linked_pairs
from syncd.engine.stages.plan import plan, plan_fresh, with_work_done
from syncd.engine.stages.pull import Pull, close_listings, open_listings, pull
from syncd.engine.stages.read_again import read_again
from syncd.engine.stages.standing import (
    Standing,
    creates_in_doubt,
    read_quarantine,
    read_standing,
)
from syncd.errors import for_people
from syncd.events import EventName
from syncd.gateways.base import Gateway
from syncd.mapping import EntityMapping
from syncd.policy import SyncRules
from syncd.records import Cursor, Side
from syncd.state.store import StateStore

# What a cycle did that a later one must see to even if nothing changes (a conflict
# waits for a person, who is seen when they act: speed/quiet.py).
DUE_LATER = ("quarantined", "outcome_unknown", "creates_in_doubt")


@dataclass(frozen=True)
class Connection:
    """Everything a cycle needs about one connection (an AFAS environment + a CRM)."""

    name: str
    gateways: Mapping[Side, Gateway]
    store: StateStore
    mappings: Mapping[str, EntityMapping]
    rules: SyncRules
    overlap: timedelta = timedelta(minutes=5)
    now: Callable[[], datetime] = utc_now
    speed: SpeedStrategy = FAST  # how the stages are sped up (PLAIN: not at all)
    # What its lanes' last cycles left, for quiet polls (the daemon's; None: no quiet polls).
    quiet: QuietLanes | None = None


@dataclass
class CycleReport:
    connection: str
    entity: str
    full: bool
    plan: Plan
    counts: Counter[str] = field(default_factory=Counter)
    applied: bool = False
    in_doubt: list[InDoubt] = field(default_factory=list)  # a dry run's creates not settled yet
    quiet: bool = False  # a quiet poll: listed nothing, read and wrote nothing in the store
    # The cursors as the cycle left them, when it left nothing due later (speed/quiet.py).
    left_quiet: Mapping[Side, Cursor | None] | None = None

    @property
    def clean(self) -> bool:
        """True when the plan was applied and nothing needs a person or a retry."""
        trouble = ("quarantined", "outcome_unknown", "creates_in_doubt", "conflicts")
        return self.applied and not any(self.counts[k] for k in trouble)


async def run_cycle(
    conn: Connection,
    entity: str,
    *,
    full: bool = False,
    dry_run: bool = False,
    accept_guards: bool = False,
    progress: ListingProgress = NO_PROGRESS,
    hinted: HintedIds | None = None,
) -> CycleReport:
    """Run one cycle; with ``dry_run`` nothing is written anywhere, the plan is returned.
    ``progress`` is told how far a whole listing (first sync, full sweep) has come.
    A ``hinted`` cycle reads those ids by id instead of listing the changes since the
    cursors (:mod:`syncd.engine.hints`), and leaves the cursors where they are."""
    speed = conn.speed
    ctx = _context(conn, entity, full=full, dry_run=dry_run, progress=progress, hinted=hinted)
    quiet = conn.quiet if speed.polls_quietly and not dry_run else None
    # A sweep lists everything and a hinted cycle reads by id: neither is a poll.
    start = quiet.start(entity) if quiet is not None and not (full or hinted) else None
    since = quiet.generation if quiet is not None else 0
    try:
        listings = await open_listings(ctx, speed, start)
        try:
            if quiet is not None and start is not None and await _nothing_new(listings):
                quiet.polled(entity, ctx.started)
                return CycleReport(conn.name, entity, False, Plan(entity), applied=True, quiet=True)
            async with speed.cycle_running():
                report = await _stages(ctx, speed, listings, accept_guards)
        finally:  # a cycle that failed before reading them leaves no request behind
            await close_listings(listings)
    except Exception as error:
        if quiet is not None:
            quiet.forget(entity)
        if not dry_run:
            await ctx.log_event(EventName.CYCLE_FAILED, None, error=for_people(error))
        raise
    if quiet is not None:
        quiet.remember(entity, report.left_quiet, since)
    return report


async def _nothing_new(listings: dict[Side, Listing]) -> bool:
    """Both sides' changes since the cursors are nothing; else the listings go on with
    what was read put back."""
    pages = {side: listing.pages for side, listing in listings.items()}
    seen = {side: listing.seen_before for side, listing in listings.items()}
    nothing = await nothing_listed(pages, seen)
    for side, listing in listings.items():
        listings[side] = replace(listing, pages=pages[side])
    return nothing


async def _stages(
    ctx: CycleContext, speed: SpeedStrategy, listings: Mapping[Side, Listing], accept_guards: bool
) -> CycleReport:
    if not ctx.dry_run:
        await ctx.log_event(EventName.CYCLE_STARTED, None, full=ctx.full, **hinted_counts(ctx))
    lookups = CycleLookups(ctx)
    quarantined = await read_quarantine(ctx)
    applier = Applier(
        ctx.store,
        ctx.gateways,
        ctx.connection,
        ctx.entity,
        lookups.by_pair,
        quarantined,
        ctx.now,
        siblings=ctx.siblings,
        company_field=reference.name if (reference := ctx.mapping.reference) else None,
        record_name=ctx.mapping.display_name,
    )
    standing = await read_standing(ctx, quarantined, applier)
    conflicts_read = lookups.read_conflicts()  # beside the pull
    try:
        pulled = await pull(ctx, speed, listings, standing, lookups, applier)
        cursors = {side: listed.cursor for side, listed in pulled.sides.items()}
        work, done = pulled.work, pulled.done
        try:
            whole_plan = await _decide(ctx, speed, standing, lookups, pulled)
            # What the listings brought is most of a first sync's memory, and the plan
            # holds what applying needs: let it go before anything is applied.
            del pulled
            report = await _guard_and_apply(ctx, applier, whole_plan, accept_guards)
            if report.applied:  # the report shows all the cycle did
                report.plan.actions.extend(done.applied)
            await work.finish()  # what a first sync created while listing was applied too
        finally:
            await work.stop()  # still going only when this cycle failed
    finally:
        await cancel_task(conflicts_read)
    if report.applied:
        await commit(ctx, cursors, report.plan, report.counts, lookups.links_now())
        report.left_quiet = _left_quiet(ctx, listings, cursors, standing, report)
    return report


def _left_quiet(
    ctx: CycleContext,
    listings: Mapping[Side, Listing],
    cursors: Mapping[Side, Cursor | None],
    standing: Standing,
    report: CycleReport,
) -> dict[Side, Cursor | None] | None:
    """The cursors as committed, when the cycle left nothing that a later one must see
    to even if nothing changes; else None. A side without a cursor (it never listed a
    record of the entity: no suppliers yet) is listed whole by each poll, quiet or not."""
    plan = report.plan
    if not standing.nothing_due_later or plan.deferred or any(plan.waiting_for_sibling.values()):
        return None
    if any(report.counts[kind] for kind in DUE_LATER):
        return None
    if ctx.waits is not None and ctx.waits.found.waiting:
        return None
    return {side: cursors[side] or listings[side].cursor for side in Side}


async def _decide(
    ctx: CycleContext,
    speed: SpeedStrategy,
    standing: Standing,
    lookups: CycleLookups,
    pulled: Pull,
) -> Plan:
    """Match, plan and read again: the whole cycle's plan, judged by the guards."""
    linked = await linked_pairs(ctx, standing, lookups, pulled.sides, pulled.done.handled)
    matches = await match(ctx, speed, standing, lookups, pulled.sides, linked.merged)
    planned = await plan(ctx, speed, standing, lookups, pulled.sides, linked, matches)
    if not ctx.dry_run:
        fresh = await read_again(lookups, planned.inputs, planned.plan)
        if fresh is not None:
            planned = await plan_fresh(ctx, speed, fresh)
    return with_work_done(planned, pulled.done, matches.gone_held)


async def _guard_and_apply(
    ctx: CycleContext, applier: Applier, plan: Plan, accept_guards: bool
) -> CycleReport:
    report = CycleReport(ctx.connection, ctx.entity, ctx.full, plan)
    if ctx.dry_run:  # shown with the plan; a cycle that runs logs creates_in_doubt
        report.in_doubt = await creates_in_doubt(ctx)
    if not await guards_pass(ctx, plan, accept_guards=accept_guards):
        report.counts = Counter(applier.counts)  # what was applied page by page, if any
        return report
    if ctx.dry_run:
        return report
    report.counts = await apply(ctx, applier, plan)
    report.applied = True
    return report


def _context(
    conn: Connection,
    entity: str,
    *,
    full: bool,
    dry_run: bool,
    progress: ListingProgress,
    hinted: HintedIds | None,
) -> CycleContext:
    mapping = conn.mappings[entity]
    gateways, waits = following_companies(conn.store, conn.name, mapping, conn.gateways, full=full)
    return CycleContext(
        connection=conn.name,
        entity=entity,
        gateways=gateways,
        store=conn.store,
        mapping=mapping,
        rules=conn.rules,
        field_rules=field_rules(mapping, conn.rules),
        siblings=siblings_of(conn.mappings, entity),
        overlap=conn.overlap,
        now=conn.now,
        full=full,
        dry_run=dry_run,
        started=conn.now(),
        sent_before={side: requests_sent(gateway) for side, gateway in conn.gateways.items()},
        waits=waits,
        progress=progress,
        hinted=hinted,
    )
