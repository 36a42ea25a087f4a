"""The ``syncd`` command line: one cycle, the plan, and what an operator asks afterwards."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import json
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncd.clock import utc_now
from syncd.config import Settings, load_settings
from syncd.connections import open_connection, select_connections
from syncd.daemon import Daemon
from syncd.engine import guards
from syncd.engine.cycle import CycleReport, run_cycle
from syncd.engine.matchplan import MatchPlanError, count_held_back, parse_reviewed_pairs, to_csv
from syncd.engine.resolve import resolve_conflict
from syncd.engine.review import apply_match_plan, match_plan
from syncd.engine.settle import (
    FilterError,
    RecordFilter,
    SelectedConflict,
    Settlement,
    drop_quarantined,
    parse_age,
    retry_quarantined,
    select_conflicts,
    select_quarantined,
    settle_conflicts,
)
from syncd.errors import SyncdError
from syncd.mapping import KNOWN_ENTITIES
from syncd.records import Side
from syncd.state.rows import Quarantined, StatusEvent
from syncd.state.store import StateStore, open_store
from syncd.status.log import StatusLog, event_as_json
from syncd.status.output import LogFormat, console_for
from syncd.status.progress import progress_for
from syncd.status.record_lists import Found, RecordLists, not_found
from syncd.status.render import GUARD_HINT, plan_as_dict, plan_as_text
from syncd.status.views import entity_health

EXIT_CLEAN, EXIT_NOT_CLEAN, EXIT_ERROR = 0, 1, 2
ENTITIES = list(KNOWN_ENTITIES)

Command = Callable[[argparse.Namespace, Settings], Awaitable[int]]


# --- the parser ---------------------------------------------------------------------------


def _config(parser: argparse.ArgumentParser, *, reads_state_only: bool = False) -> None:
    # Commands that only read the state store need no secrets from the environment.
    parser.set_defaults(secrets=not reads_state_only)
    parser.add_argument(
        "--config",
        type=Path,
        default=Path("config.toml"),
        help="the configuration file (default: ./config.toml)",
    )
    parser.add_argument("--connection", help="only this connection (default: all)")


def _log_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        type=LogFormat,
        choices=list(LogFormat),
        default=LogFormat.AUTO,
        help="status events on stdout: 'console', a readable line each; 'json', one JSON "
        "object per line; 'auto' (default): console on a terminal, else json",
    )


def _cycle_options(parser: argparse.ArgumentParser) -> None:
    _config(parser)
    parser.add_argument(
        "--entity",
        action="append",
        choices=ENTITIES,
        help="only this entity; repeat for several (default: those in the config)",
    )
    parser.add_argument(
        "--fixture",
        type=Path,
        help="use in-memory systems loaded from this JSON file (written back by 'once')",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="full sweep: list every record on both sides (finds deletes), not only changes",
    )


def _add(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    run: Command,
    summary: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=summary, description=description or summary)
    parser.set_defaults(run=run)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncd",
        description="Keep customers and suppliers in step between a CRM and AFAS Profit.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = _add(
        commands,
        "run",
        _run,
        "run the daemon: cycles on a schedule until SIGTERM",
        "Run incremental cycles every [daemon] interval_seconds and full sweeps on "
        "[daemon] full_sweep_cron for every connection and entity, writing the status "
        "log to <data_dir>/status.log and stdout. SIGTERM or Ctrl-C stops it cleanly.",
    )
    _config(run)
    _log_format(run)

    plan = _add(
        commands,
        "plan",
        _plan,
        "dry run: show what one cycle would do, field by field; writes nothing",
        "Pull both sides, reconcile against the state store and print the plan. "
        "Nothing is written to either side or to the state store.",
    )
    _cycle_options(plan)
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")

    once = _add(
        commands,
        "once",
        _once,
        "run one cycle and exit: 0 clean, 1 conflicts/quarantine/guard, 2 error",
        "Run one sync cycle per connection and entity, then exit. Exit code 0 when "
        "everything was applied cleanly, 1 when a guard stopped the plan, records "
        "need a person (conflicts, quarantine) or writes are in doubt (a lost answer: "
        "looked up again next cycle), 2 on a configuration or connection error.",
    )
    _cycle_options(once)
    _log_format(once)
    once.add_argument(
        "--accept-guards",
        action="store_true",
        help="apply the plan even if a safety guard trips (mass delete, blanking, empty side)",
    )

    status = _add(commands, "status", _status, "health per connection and entity")
    _config(status, reads_state_only=True)
    status.add_argument("--json", action="store_true", help="print as JSON")

    check = _add(
        commands,
        "check",
        _check,
        "health check: exit 0 when every entity's last cycle went well, else 1",
    )
    _config(check, reads_state_only=True)

    log = _add(commands, "log", _log, "the status log, filtered; --follow to keep reading")
    _config(log, reads_state_only=True)
    log.add_argument("--entity", choices=ENTITIES, help="only this entity")
    log.add_argument("--record", help="only events about this record id")
    log.add_argument("--event", action="append", default=[], help="only this event name")
    log.add_argument("--since", type=_when, help="only events at or after this ISO time")
    log.add_argument("--limit", type=int, default=200, help="at most this many (default 200)")
    log.add_argument("--follow", action="store_true", help="keep printing new events")
    log.add_argument("--json", action="store_true", help="JSON lines, as in the log file")

    hist = _add(
        commands, "history", _history, "every change to one record, with the rule that decided"
    )
    _config(hist, reads_state_only=True)
    hist.add_argument("record", help="(part of) a name, a HubSpot id or an AFAS number")
    hist.add_argument("--entity", choices=ENTITIES, help="only this entity (default: all)")

    conflicts = _add(commands, "conflicts", _conflicts, "list, show or resolve open conflicts")
    _cycle_options(conflicts)
    conflicts.set_defaults(secrets=False)  # only resolve talks to the sides: it reloads
    conflicts.add_argument("action", nargs="?", choices=["list", "show", "resolve"], default="list")
    conflicts.add_argument("id", nargs="?", type=int, help="the conflict (for show and resolve)")
    take = conflicts.add_mutually_exclusive_group()
    take.add_argument("--take", choices=["crm", "afas"], help="resolve: keep this side's value")
    take.add_argument("--value", help="resolve: write this value to both sides")
    conflicts.add_argument("--json", action="store_true", help="list or show as JSON")
    _bulk_filters(conflicts, "resolve every open conflict that matches, instead of one ID")

    match = _add(
        commands,
        "match",
        _match,
        "first run: write the match plan to review, or link what the operator kept",
        "List both sides and propose a link for every unlinked record: confident matches "
        "(a unique match on [match] keys) with keep=yes, ambiguous ones and matches on "
        "[match] review keys with keep=no. Edit the keep column, then --apply the file.",
    )
    _config(match)
    match.add_argument("--entity", choices=ENTITIES, default="customer")
    match.add_argument("--fixture", type=Path, help="in-memory systems from this JSON file")
    what = match.add_mutually_exclusive_group(required=True)
    what.add_argument("--plan", type=Path, metavar="CSV", help="write the match plan here")
    what.add_argument("--apply", type=Path, metavar="CSV", help="link the rows kept in it")

    demo = commands.add_parser(
        "demo",
        help="try syncd: both simulators on loopback, seeded, and the daemon syncing them",
        description="Start the AFAS Profit and HubSpot simulators on the loopback addresses "
        "the config's demo connection names, seed them with realistic Dutch companies "
        "(customers and suppliers, some on both sides, some drifted apart) and their "
        "contact persons, then run the daemon. Edit through the simulators' control APIs "
        "to see changes flow.",
    )
    demo.add_argument(
        "--config",
        type=Path,
        default=Path("config.toml"),
        help="the configuration file (default: ./config.toml)",
    )
    demo.add_argument("--companies", type=int, default=300, help="how many (default 300)")
    _log_format(demo)

    sim = commands.add_parser(
        "sim",
        help="run an AFAS Profit or HubSpot simulator on loopback, for trying clients",
        description="Serve a simulator of AFAS ProfitRestServices or the HubSpot companies "
        "API until Ctrl-C, optionally seeded from a JSON file. Without --token it accepts "
        "any well-formed token. Each has a control API under /_sim (seed, edit, faults).",
    )
    sim.add_argument("system", choices=["afas", "hubspot"])
    sim.add_argument("--host", default="127.0.0.1", help="address to listen on")
    sim.add_argument("--port", type=int, required=True, help="port to listen on")
    sim.add_argument("--seed", type=Path, help="a JSON file of records to start with")
    sim.add_argument("--token", help="accept only this token")

    guard_command = _add(
        commands,
        "guards",
        _guards,
        "list tripped safety guards, or confirm them so the next cycle applies its plan",
        "A plan that trips a guard (a side listing nothing, a mass delete, a mass "
        "blanking) is not applied until an operator confirms it (a cycle of changes "
        "still applies what no guard counts, as its pages come). Check it with "
        "'syncd plan' first. A confirmation covers the next cycle only, and only as many "
        "records per guard as the tripped plan would affect.",
    )
    _config(guard_command, reads_state_only=True)
    guard_command.add_argument("action", nargs="?", choices=["list", "confirm"], default="list")
    guard_command.add_argument(
        "--entity",
        action="append",
        choices=ENTITIES,
        help="only this entity; repeat for several (default: those in the config)",
    )

    quarantine = _add(
        commands, "quarantine", _quarantine, "list, retry or drop quarantined records"
    )
    _config(quarantine, reads_state_only=True)
    quarantine.add_argument("action", nargs="?", choices=["list", "retry", "drop"], default="list")
    quarantine.add_argument(
        "records",
        nargs="*",
        type=_record_reference,
        help="records as side:id (e.g. afas:10001); list: none = all",
    )
    quarantine.add_argument("--entity", choices=ENTITIES, help="only this entity (default: all)")
    quarantine.add_argument("--side", choices=["crm", "afas"], help="only records of this side")
    _bulk_filters(quarantine, "retry or drop every quarantined record that matches")
    return parser


def _bulk_filters(parser: argparse.ArgumentParser, what: str) -> None:
    """The filters of a bulk action; --entity (and --side) each command has already."""
    group = parser.add_argument_group(
        "many at once", f"{what}; without a filter, --all is needed to act on every one"
    )
    group.add_argument("--all", dest="everything", action="store_true", help="every one")
    group.add_argument("--field", help="only those about this field (canonical name)")
    group.add_argument(
        "--older-than", type=_age, metavar="AGE", help="only those older than AGE: 90m, 12h, 2d"
    )
    group.add_argument(
        "--search", metavar="TEXT", help="only those whose name, ids, values or reason hold TEXT"
    )
    group.add_argument(
        "--dry-run", action="store_true", help="show how many and which; write nothing"
    )


def _age(text: str) -> timedelta:
    try:
        return parse_age(text)
    except FilterError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _record_reference(text: str) -> str:
    side, _, record_id = text.partition(":")
    if side not in ("crm", "afas") or not record_id:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a record: give its side and id as crm:ID or afas:ID"
        )
    return text


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- entry point ----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sim":
        return _sim(args)
    try:
        if args.command == "demo":
            return asyncio.run(_demo(args))
        settings = load_settings(args.config, secrets=getattr(args, "secrets", True))
        code: int = asyncio.run(args.run(args, settings))
        return code
    except SyncdError as error:  # a configuration error, or a side or store failing
        print(f"syncd: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        return EXIT_CLEAN
    return EXIT_ERROR


def _names(args: argparse.Namespace, settings: Settings) -> list[str]:
    return [c.name for c in select_connections(settings, args.connection)]


# --- cycles -------------------------------------------------------------------------------


async def _run(args: argparse.Namespace, settings: Settings) -> int:
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


async def _plan(args: argparse.Namespace, settings: Settings) -> int:
    return await _cycles(args, settings, dry_run=True)


async def _once(args: argparse.Namespace, settings: Settings) -> int:
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
        async with open_connection(settings, chosen, args.fixture) as (conn, systems):
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
                        progress=progress,
                    )
                finally:  # a failed cycle's events too
                    if echo is not None:
                        await _echo_events(conn.store, echo)
                clean &= report.clean if echo is not None else _show_plan(args, report)
            if not dry_run and systems is not None:
                systems.save()
    return EXIT_CLEAN if clean else EXIT_NOT_CLEAN


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


# --- reading the state store --------------------------------------------------------------


async def _with_store(settings: Settings, work: Callable[[StateStore], Awaitable[int]]) -> int:
    store = await open_store(settings.state_url)
    try:
        return await work(store)
    finally:
        await store.close()


async def _status(args: argparse.Namespace, settings: Settings) -> int:
    async def work(store: StateStore) -> int:
        rows = [
            await entity_health(store, name, entity, settings.daemon.interval)
            for name in _names(args, settings)
            for entity in settings.entities
        ]
        lists = RecordLists(store, settings)
        if args.json:
            print(json.dumps(await lists.status_dicts(rows), indent=2))
        else:
            print(await lists.status_text(rows))
        return EXIT_CLEAN if all(h.healthy for h in rows) else EXIT_NOT_CLEAN

    return await _with_store(settings, work)


async def _check(args: argparse.Namespace, settings: Settings) -> int:
    async def work(store: StateStore) -> int:
        for name in _names(args, settings):
            for entity in settings.entities:
                health = await entity_health(store, name, entity)
                if not health.healthy:
                    print(f"{name}/{entity}: {health.last_outcome}: {health.last_message}")
                    return EXIT_NOT_CLEAN
        print("ok")
        return EXIT_CLEAN

    return await _with_store(settings, work)


async def _log(args: argparse.Namespace, settings: Settings) -> int:
    async def work(store: StateStore) -> int:
        after = 0
        while True:
            events = await store.events(
                args.connection,
                entity=args.entity,
                record=args.record,
                names=args.event,
                since=args.since,
                after_id=after,
                limit=args.limit,
            )
            await _print_events(store, settings, events, as_json=args.json)
            after = events[-1].id or after if events else after
            if not args.follow:
                return EXIT_CLEAN
            await asyncio.sleep(1.0)

    return await _with_store(settings, work)


async def _print_events(
    store: StateStore, settings: Settings, events: Sequence[StatusEvent], *, as_json: bool
) -> None:
    """As JSON lines, as logged; or as text, each record named as people know it."""
    lists = RecordLists(store, settings)
    _print_lines([event_as_json(e) for e in events] if as_json else await lists.event_lines(events))


def _print_lines(lines: Sequence[str]) -> None:
    for line in lines:
        print(line, flush=True)


async def _history(args: argparse.Namespace, settings: Settings) -> int:
    entities = [args.entity] if args.entity else list(settings.entities)

    async def work(store: StateStore) -> int:
        lists = RecordLists(store, settings)
        found, lines = await lists.history(_names(args, settings), entities, args.record)
        if found is Found.NONE:
            print(f"syncd: {not_found(args.record)}", file=sys.stderr)
            return EXIT_ERROR
        _print_lines(lines)
        return EXIT_CLEAN if found is Found.ONE else EXIT_NOT_CLEAN

    return await _with_store(settings, work)


async def _conflicts(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "resolve":
        many = args.id is None and (args.everything or _conflict_filter(args).narrows)
        return await (_resolve_many(args, settings) if many else _resolve(args, settings))
    if _bulk_options_given(args) or args.entity:
        return _refuse_filters("conflicts", "resolve --take crm")

    async def work(store: StateStore) -> int:
        lists = RecordLists(store, settings)
        only = args.id if args.action == "show" else None
        found = [c for name in _names(args, settings) for c in await lists.conflicts(name, only)]
        if args.json:
            print(json.dumps([lists.conflict_dict(c) for c in found], indent=2))
        else:
            _print_lines([lists.conflict_line(c) for c in found])
        return EXIT_CLEAN

    return await _with_store(settings, work)


async def _resolve(args: argparse.Namespace, settings: Settings) -> int:
    if args.id is None:
        print(
            "syncd: conflicts resolve needs a conflict ID, or filters (--entity, --field, "
            "--older-than, --search) or --all to resolve many",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if args.take is None and args.value is None:
        print("syncd: conflicts resolve ID needs --take crm|afas or --value V", file=sys.stderr)
        return EXIT_ERROR
    if args.everything or _conflict_filter(args).narrows:
        print("syncd: give a conflict ID or filters, not both", file=sys.stderr)
        return EXIT_ERROR
    settings = load_settings(args.config)  # with the secrets: it writes to the sides
    chosen = select_connections(settings, args.connection)[0]
    async with open_connection(settings, chosen, args.fixture) as (conn, systems):
        take = Side(args.take) if args.take else None
        done = await resolve_conflict(conn, args.id, take=take, value=args.value, by=_operator())
        if systems is not None:
            systems.save()
    written = ", ".join(str(s) for s in done.written) or "nothing (both sides agree)"
    print(f"conflict #{args.id} on {done.conflict.field}: {done.value!r}; wrote {written}")
    return EXIT_CLEAN


async def _match(args: argparse.Namespace, settings: Settings) -> int:
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
        # Bars while both sides are listed, on a terminal; the plan goes to a file.
        progress = progress_for(console_for(LogFormat.AUTO, sys.stdout))
        proposals = await match_plan(conn, args.entity, progress)
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


async def _demo(args: argparse.Namespace) -> int:
    from syncd.sim.demo import run_demo  # the daemon itself never imports the simulators

    console = console_for(args.log_format, sys.stdout)
    return await run_demo(args.config, count=args.companies, console=console)


def _sim(args: argparse.Namespace) -> int:
    """The simulators are imported here only: the daemon never needs them."""
    if args.system == "afas":
        from syncd.sim.afas import serve as serve_afas

        serve_afas(args.host, args.port, seed=args.seed, token=args.token)
    else:
        from syncd.sim.hubspot import serve as serve_hubspot

        serve_hubspot(args.host, args.port, seed=args.seed, token=args.token)
    return EXIT_CLEAN


async def _guards(args: argparse.Namespace, settings: Settings) -> int:
    async def work(store: StateStore) -> int:
        lists = RecordLists(store, settings)
        found = False
        for name in _names(args, settings):
            for entity in args.entity or settings.entities:
                if args.action == "confirm":
                    trips = await guards.confirm(store, name, entity, by=_operator())
                else:
                    trips = await guards.read_trips(store, name, entity)
                for trip in trips:
                    found = True
                    verb = "confirmed" if args.action == "confirm" else "tripped"
                    print(f"{name}/{entity}: {verb} {trip.guard}: {trip.message}")
                    _print_lines(await lists.guard_lines(name, entity, trip))
        if not found:
            print("no guard has tripped since the last finished cycle")
        elif args.action == "list":
            print(GUARD_HINT)
        return EXIT_CLEAN if args.action == "confirm" or not found else EXIT_NOT_CLEAN

    return await _with_store(settings, work)


def _operator() -> str | None:
    """Who confirms, for the status log; a container may have no user name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


async def _quarantine(args: argparse.Namespace, settings: Settings) -> int:
    if args.action != "list":
        return await _settle_quarantine(args, settings)
    if _bulk_options_given(args) or args.side:
        return _refuse_filters("quarantine", "retry")
    wanted = {tuple(r.split(":", 1)) for r in args.records}

    async def work(store: StateStore) -> int:
        for name in _names(args, settings):
            entries = [
                q
                for q in await store.quarantined(name, args.entity)
                if not wanted or (str(q.side), q.record_id) in wanted
            ]
            _print_lines(await RecordLists(store, settings).quarantine_lines(entries))
        return EXIT_CLEAN

    return await _with_store(settings, work)


# --- settling many at once (the logic is in syncd.engine.settle) ---------------------------


def _bulk_options_given(args: argparse.Namespace) -> bool:
    chosen = (args.field, args.older_than, args.search)
    return args.everything or args.dry_run or any(c is not None for c in chosen)


def _refuse_filters(command: str, action: str) -> int:
    print(
        f"syncd: the filters select what to settle; to see which match, run "
        f"'syncd {command} {action} FILTERS --dry-run'",
        file=sys.stderr,
    )
    return EXIT_ERROR


def _conflict_filter(args: argparse.Namespace, connection: str | None = None) -> RecordFilter:
    return RecordFilter(
        connection=connection,
        entities=frozenset(args.entity or ()),
        field=args.field,
        older_than=args.older_than,
        search=args.search,
        everything=args.everything,
    )


def _quarantine_filter(args: argparse.Namespace, connection: str) -> RecordFilter:
    return RecordFilter(
        connection=connection,
        entities=frozenset([args.entity] if args.entity else []),
        field=args.field,
        side=Side(args.side) if args.side else None,
        older_than=args.older_than,
        search=args.search,
        records=frozenset(args.records),
        everything=args.everything,
    )


async def _resolve_many(args: argparse.Namespace, settings: Settings) -> int:
    if args.take is None and args.value is None:
        print("syncd: conflicts resolve needs --take crm|afas or --value V", file=sys.stderr)
        return EXIT_ERROR
    take = Side(args.take) if args.take else None
    if args.dry_run:  # reads the state store only: no secrets, no sides

        async def preview(store: StateStore) -> int:
            for name in _names(args, settings):
                selection = await select_conflicts(store, _conflict_filter(args, name), utc_now())
                _show_conflicts_settled(Settlement(selection, dry_run=True))
            return EXIT_CLEAN

        return await _with_store(settings, preview)
    settings = load_settings(args.config)  # with the secrets: it writes to the sides
    clean = True
    for chosen in select_connections(settings, args.connection):
        async with open_connection(settings, chosen, args.fixture) as (conn, systems):
            selection = await select_conflicts(
                conn.store, _conflict_filter(args, conn.name), utc_now()
            )
            result = await settle_conflicts(
                conn, selection, take=take, value=args.value, by=_operator()
            )
            if systems is not None:
                systems.save()
        _show_conflicts_settled(result)
        clean &= result.clean
    return EXIT_CLEAN if clean else EXIT_NOT_CLEAN


async def _settle_quarantine(args: argparse.Namespace, settings: Settings) -> int:
    async def work(store: StateStore) -> int:
        clean, by, now = True, _operator(), utc_now()
        for name in _names(args, settings):
            selection = await select_quarantined(store, _quarantine_filter(args, name), now)
            if args.action == "retry":
                result = await retry_quarantined(
                    store, selection, by=by, now=now, dry_run=args.dry_run
                )
            else:
                result = await drop_quarantined(store, selection, by=by, dry_run=args.dry_run)
            _show_quarantine_settled(args.action, result)
            clean &= result.clean
        return EXIT_CLEAN if clean else EXIT_NOT_CLEAN

    return await _with_store(settings, work)


def _show_conflicts_settled(result: Settlement[SelectedConflict]) -> None:
    """One line per conflict; the line's form is :func:`_conflict_line`'s."""
    if result.dry_run:
        print(f"dry run: {_count(result.selected, 'conflict')} would be resolved; nothing written")
        for item in result.selected:
            print(f"  {_conflict_line(item)}")
        return
    if not result.selected:
        print("no open conflict matches")
    done, skipped, failed = result.settled, result.skipped, result.failed
    for verb, outcomes in (("resolved", done), ("skipped", skipped), ("failed", failed)):
        for outcome in outcomes:
            print(f"{verb} {_conflict_line(outcome.item)}: {outcome.detail}")


def _conflict_line(item: SelectedConflict) -> str:
    c = item.conflict
    record = f"{item.name or ''} (crm {item.crm_id}, afas {item.afas_id})".lstrip()
    return (
        f"#{c.id} {c.connection}/{c.entity} {record} field {c.field}: "
        f"base {c.base!r}, crm {c.crm!r}, afas {c.afas!r}"
    )


def _show_quarantine_settled(action: str, result: Settlement[Quarantined]) -> None:
    """One line per record; the line's form is :func:`_quarantine_line`'s."""
    if result.dry_run:
        count = _count(result.selected, "record")
        done = {"retry": "retried", "drop": "dropped"}[action]
        print(f"dry run: {count} would be {done}; nothing written")
        for entry in result.selected:
            print(f"  {_quarantine_line(entry)}")
        return
    if not result.selected:
        print("no quarantined record matches")
    for outcome in result.settled:  # as a single record's retry or drop always said it
        print(f"{action}: {outcome.item.side}:{outcome.item.record_id}")
    for verb, outcomes in (("skipped", result.skipped), ("failed", result.failed)):
        for outcome in outcomes:
            print(f"{verb} {_quarantine_line(outcome.item)}: {outcome.detail}")


def _count(items: Sequence[object], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _quarantine_line(q: Quarantined) -> str:
    return f"{q.side}:{q.record_id} {q.connection}/{q.entity}: {q.reason}"


if __name__ == "__main__":
    sys.exit(main())
