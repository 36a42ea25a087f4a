"""The commands that run cycles: the daemon, one cycle, its plan, the match plan, the demo."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections import Counter
from contextlib import AbstractAsyncContextManager, nullcontext

from syncd.cli.common import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_NOT_CLEAN,
)
from syncd.config import Settings, load_settings
from syncd.connections import open_connection, select_connections
from syncd.daemon import Daemon
from syncd.engine.cycle import CycleReport, run_cycle
from syncd.engine.matchplan import MatchPlanError, count_held_back, parse_reviewed_pairs, to_csv
from syncd.engine.progress import ListingProgress
from syncd.engine.review import apply_match_plan, match_plan
from syncd.records import Side
from syncd.state.rows import WorkKind
from syncd.state.store import StateStore
from syncd.status.log import StatusLog
from syncd.status.output import LogFormat, console_for
from syncd.status.progress import progress_for
from syncd.status.render import plan_as_dict, plan_as_text
from syncd.status.running import StoredProgress


async def run(args: argparse.Namespace, settings: Settings) -> int:
    def narrowed(settings: Settings) -> Settings:
        """Only the --connection chosen, if one is: at start and at each reload."""
        if not args.connection:
            return settings
        chosen = select_connections(settings, args.connection)
        return dataclasses.replace(settings, connections=tuple(chosen))

    def reread() -> Settings:
        return narrowed(load_settings(args.config))

    console = console_for(args.log_format, sys.stdout)
    return await Daemon(narrowed(settings), console=console, reread=reread).run()


async def plan(args: argparse.Namespace, settings: Settings) -> int:
    return await _cycles(args, settings, dry_run=True)


async def once(args: argparse.Namespace, settings: Settings) -> int:
    return await _cycles(args, settings, dry_run=False)


async def _cycles(args: argparse.Namespace, settings: Settings, *, dry_run: bool) -> int:
    entities = args.entity or list(settings.entities)
    clean = True
    # A cycle's status events, as the daemon shows them; a dry run shows its plan instead.
    echo, progress = None, progress_for(None)
    if not dry_run:
        console = console_for(args.log_format, sys.stdout)
        echo, progress = StatusLog(None, sys.stdout, console=console), progress_for(console)
    for chosen in select_connections(settings, args.connection):
        async with (
            open_connection(settings, chosen, args.fixture) as (conn, systems),
            _told(conn.store, progress, dry_run=dry_run) as told,
        ):
            if echo is not None:
                newest = await conn.store.events(limit=1, newest=True)
                echo.last_id = newest[-1].id or 0 if newest else 0
            for entity in entities:
                try:
                    report = await run_cycle(
                        conn,
                        entity,
                        full=args.full,
                        dry_run=dry_run,
                        accept_guards=getattr(args, "accept_guards", False),
                        progress=told,
                    )
                finally:  # a failed cycle's events too
                    if echo is not None:
                        await _echo_events(conn.store, echo)
                clean &= report.clean if echo is not None else _show_plan(args, report)
            if not dry_run and systems is not None:
                systems.save()
    return EXIT_CLEAN if clean else EXIT_NOT_CLEAN


def _told(
    store: StateStore, bars: ListingProgress, *, dry_run: bool
) -> AbstractAsyncContextManager[ListingProgress]:
    """Who is told of a cycle's whole listings: the bars, and the status pages of every
    process sharing the store (not for a dry run, which writes nothing)."""
    if dry_run:
        return nullcontext(bars)
    return StoredProgress(store, also=bars)


async def _echo_events(store: StateStore, echo: StatusLog) -> None:
    while page := await store.events(after_id=echo.last_id):
        echo.write(page)


def _show_plan(args: argparse.Namespace, report: CycleReport) -> bool:
    doubts = report.in_doubt  # not in the plan: settled by the next cycle, not by it
    if args.json:
        shown = plan_as_dict(report.plan, report.connection)
        print(json.dumps({**shown, "in_doubt": [d.as_dict() for d in doubts]}, indent=2))
    else:
        print(plan_as_text(report.plan, report.connection))
        print("".join(f"  {d.as_text()}\n" for d in doubts), end="")
    return not report.plan.findings


async def match(args: argparse.Namespace, settings: Settings) -> int:
    chosen = select_connections(settings, args.connection)[0]
    if args.apply is not None:
        try:
            text = args.apply.read_text(encoding="utf-8")
            pairs, declined = parse_reviewed_pairs(text, str(args.apply))
        except (OSError, MatchPlanError) as error:
            print(f"syncd: {error}", file=sys.stderr)
            return EXIT_ERROR
    async with open_connection(settings, chosen, args.fixture) as (conn, _):
        if args.apply is not None:
            counts = await apply_match_plan(conn, args.entity, pairs, declined)
            settled = f", declined {len(declined)}: created in the next cycle" if declined else ""
            print(f"linked {counts['linked']}, already linked {counts['already_linked']}{settled}")
            return EXIT_CLEAN
        # Bars while both sides are listed, on a terminal, and the status pages told;
        # the plan goes to a file.
        bars = progress_for(console_for(LogFormat.AUTO, sys.stdout))
        async with StoredProgress(conn.store, kind=WorkKind.MATCH_PLAN, also=bars) as told:
            proposals = await match_plan(conn, args.entity, told)
    args.plan.write_text(to_csv(proposals), encoding="utf-8")
    kinds = Counter(p.kind for p in proposals)
    waiting = count_held_back(proposals)
    print(
        f"{len(proposals)} proposed links in {args.plan}: {kinds['auto']} confident, "
        f"{kinds['ambiguous']} ambiguous, {kinds['review']} to review; "
        f"{waiting[Side.CRM]} crm and {waiting[Side.AFAS]} afas records are held back "
        "(neither linked nor created) until you decide"
    )
    return EXIT_CLEAN


async def demo(args: argparse.Namespace) -> int:
    from syncd.sim.demo import run_demo  # the daemon itself never imports the simulators

    console = console_for(args.log_format, sys.stdout)
    return await run_demo(args.config, count=args.companies, console=console)


def sim(args: argparse.Namespace) -> int:
    """The simulators are imported here only: the daemon never needs them."""
    if args.system == "afas":
        from syncd.sim.afas import serve as serve_afas

        serve_afas(args.host, args.port, seed=args.seed, token=args.token)
    else:
        from syncd.sim.hubspot import serve as serve_hubspot

        serve_hubspot(args.host, args.port, seed=args.seed, token=args.token)
    return EXIT_CLEAN
