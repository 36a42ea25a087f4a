"""The ``syncd`` command line's parser: its commands and their options."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncd.cli import cycles, reading, settling
from syncd.cli.common import (
    ENTITIES,
    Command,
)
from syncd.engine.settle import (
    FilterError,
    parse_age,
)
from syncd.status.output import LogFormat


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
        cycles.run,
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
        cycles.plan,
        "dry run: show what one cycle would do, field by field; writes nothing",
        "Pull both sides, reconcile against the state store and print the plan. "
        "Nothing is written to either side or to the state store.",
    )
    _cycle_options(plan)
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")

    once = _add(
        commands,
        "once",
        cycles.once,
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

    status = _add(commands, "status", reading.status, "health per connection and entity")
    _config(status, reads_state_only=True)
    status.add_argument("--json", action="store_true", help="print as JSON")

    check = _add(
        commands,
        "check",
        reading.check,
        "health check: exit 0 when every entity's last cycle went well, else 1",
    )
    _config(check, reads_state_only=True)

    log = _add(commands, "log", reading.log, "the status log, filtered; --follow to keep reading")
    _config(log, reads_state_only=True)
    log.add_argument("--entity", choices=ENTITIES, help="only this entity")
    log.add_argument("--record", help="only events about this record id")
    log.add_argument("--event", action="append", default=[], help="only this event name")
    log.add_argument("--since", type=_when, help="only events at or after this ISO time")
    log.add_argument("--limit", type=int, default=200, help="at most this many (default 200)")
    log.add_argument("--follow", action="store_true", help="keep printing new events")
    log.add_argument("--json", action="store_true", help="JSON lines, as in the log file")

    hist = _add(
        commands,
        "history",
        reading.history,
        "every change to one record, with the rule that decided",
    )
    _config(hist, reads_state_only=True)
    hist.add_argument("record", help="(part of) a name, a HubSpot id or an AFAS number")
    hist.add_argument("--entity", choices=ENTITIES, help="only this entity (default: all)")

    conflicts = _add(
        commands, "conflicts", settling.conflicts, "list, show or resolve open conflicts"
    )
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
        cycles.match,
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
        "any well-formed token. Each has a control API under /cycles.sim (seed, edit, faults).",
    )
    sim.add_argument("system", choices=["afas", "hubspot"])
    sim.add_argument("--host", default="127.0.0.1", help="address to listen on")
    sim.add_argument("--port", type=int, required=True, help="port to listen on")
    sim.add_argument("--seed", type=Path, help="a JSON file of records to start with")
    sim.add_argument("--token", help="accept only this token")

    guard_command = _add(
        commands,
        "guards",
        settling.guards,
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
        commands, "quarantine", settling.quarantine, "list, retry or drop quarantined records"
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
