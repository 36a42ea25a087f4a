"""The ``syncd`` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from syncd.config import Settings, load_settings
from syncd.connections import opened, pick
from syncd.engine.cycle import CycleReport, run_cycle
from syncd.errors import ConfigError, GuardTripped, SyncdError
from syncd.status.render import plan_as_dict, plan_as_text, report_as_text

EXIT_CLEAN, EXIT_NOT_CLEAN, EXIT_ERROR = 0, 1, 2


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=Path("config.toml"),
        help="the configuration file (default: ./config.toml)",
    )
    parser.add_argument("--connection", help="only this connection (default: all)")
    parser.add_argument(
        "--entity",
        action="append",
        choices=["customer", "supplier"],
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncd",
        description="Keep customers and suppliers in step between a CRM and AFAS Profit.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    plan = commands.add_parser(
        "plan",
        help="dry run: show what one cycle would do, field by field; writes nothing",
        description="Pull both sides, reconcile against the state store and print the plan. "
        "Nothing is written to either side or to the state store.",
    )
    _common(plan)
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    once = commands.add_parser(
        "once",
        help="run one cycle and exit: 0 clean, 1 conflicts/quarantine/guard, 2 error",
        description="Run one sync cycle per connection and entity, then exit. Exit code 0 when "
        "everything was applied cleanly, 1 when a guard stopped the plan or records need a "
        "person (conflicts, quarantine), 2 on a configuration or connection error.",
    )
    _common(once)
    once.add_argument(
        "--accept-guards",
        action="store_true",
        help="apply the plan even if a safety guard trips (mass delete, blanking, empty side)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        return asyncio.run(_run(args, settings))
    except ConfigError as error:
        print(f"syncd: {error}", file=sys.stderr)
    except GuardTripped as error:
        print(f"syncd: guard {error.guard}: {error}", file=sys.stderr)
        return EXIT_NOT_CLEAN
    except SyncdError as error:
        print(f"syncd: {type(error).__name__}: {error}", file=sys.stderr)
    return EXIT_ERROR


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    entities = args.entity or list(settings.entities)
    clean = True
    for chosen in pick(settings, args.connection):
        async with opened(settings, chosen, args.fixture) as (conn, systems):
            for entity in entities:
                report = await run_cycle(
                    conn,
                    entity,
                    full=args.full,
                    dry_run=args.command == "plan",
                    accept_guards=getattr(args, "accept_guards", False),
                )
                clean &= _show(args, report)
            if args.command == "once" and systems is not None:
                systems.save()
    return EXIT_CLEAN if clean else EXIT_NOT_CLEAN


def _show(args: argparse.Namespace, report: CycleReport) -> bool:
    if args.command == "plan":
        if args.json:
            print(json.dumps(plan_as_dict(report.plan, report.connection), indent=2))
        else:
            print(plan_as_text(report.plan, report.connection))
        return not report.plan.findings
    print(report_as_text(report))
    return report.clean


if __name__ == "__main__":
    sys.exit(main())
