"""The commands that settle what waits for a person: conflicts, quarantine, guards."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from syncd.cli.common import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_NOT_CLEAN,
    names,
    operator,
    print_lines,
    with_store,
)
from syncd.clock import utc_now
from syncd.config import Settings, load_settings
from syncd.connections import open_connection, select_connections
from syncd.engine import guards as guard_trips
from syncd.engine.resolve import resolve_conflict
from syncd.engine.settle import (
    RecordFilter,
    SelectedConflict,
    Settlement,
    drop_quarantined,
    retry_quarantined,
    select_conflicts,
    select_quarantined,
    settle_conflicts,
)
from syncd.records import Side
from syncd.state.rows import Quarantined
from syncd.state.store import StateStore
from syncd.status.record_lists import RecordLists
from syncd.status.render import GUARD_HINT


async def conflicts(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "resolve":
        many = args.id is None and (args.everything or _conflict_filter(args).narrows)
        return await (_resolve_many(args, settings) if many else _resolve(args, settings))
    if _bulk_options_given(args) or args.entity:
        return _refuse_filters("conflicts", "resolve --take crm")

    async def work(store: StateStore) -> int:
        lists = RecordLists(store, settings)
        only = args.id if args.action == "show" else None
        found = [c for name in names(args, settings) for c in await lists.conflicts(name, only)]
        if args.json:
            print(json.dumps([lists.conflict_dict(c) for c in found], indent=2))
        else:
            print_lines([lists.conflict_line(c) for c in found] or ["no open conflicts"])
        return EXIT_CLEAN

    return await with_store(settings, work)


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
        done = await resolve_conflict(conn, args.id, take=take, value=args.value, by=operator())
        if systems is not None:
            systems.save()
    written = ", ".join(str(s) for s in done.written) or "nothing (both sides agree)"
    print(f"conflict #{args.id} on {done.conflict.field}: {done.value!r}; wrote {written}")
    return EXIT_CLEAN


async def guards(args: argparse.Namespace, settings: Settings) -> int:
    async def work(store: StateStore) -> int:
        lists = RecordLists(store, settings)
        found = False
        for name in names(args, settings):
            for entity in args.entity or settings.entities:
                if args.action == "confirm":
                    trips = await guard_trips.confirm(store, name, entity, by=operator())
                else:
                    trips = await guard_trips.read_trips(store, name, entity)
                for trip in trips:
                    found = True
                    verb = "confirmed" if args.action == "confirm" else "tripped"
                    print(f"{name}/{entity}: {verb} {trip.guard}: {trip.message}")
                    print_lines(await lists.guard_lines(name, entity, trip))
                if trips:
                    print_lines(await lists.held_plan_lines(name, entity))
        if not found:
            print("no guard has tripped since the last finished cycle")
        elif args.action == "list":
            print(GUARD_HINT)
        return EXIT_CLEAN if args.action == "confirm" or not found else EXIT_NOT_CLEAN

    return await with_store(settings, work)


async def quarantine(args: argparse.Namespace, settings: Settings) -> int:
    if args.action != "list":
        return await _settle_quarantine(args, settings)
    if _bulk_options_given(args) or args.side:
        return _refuse_filters("quarantine", "retry")
    wanted = {tuple(r.split(":", 1)) for r in args.records}

    async def work(store: StateStore) -> int:
        entries = [
            q
            for name in names(args, settings)
            for q in await store.quarantined(name, args.entity)
            if not wanted or (str(q.side), q.record_id) in wanted
        ]
        lines = await RecordLists(store, settings).quarantine_lines(entries)
        print_lines(lines or ["no quarantined records"])
        return EXIT_CLEAN

    return await with_store(settings, work)


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
            for name in names(args, settings):
                selection = await select_conflicts(store, _conflict_filter(args, name), utc_now())
                _show_conflicts_settled(Settlement(selection, dry_run=True))
            return EXIT_CLEAN

        return await with_store(settings, preview)
    settings = load_settings(args.config)  # with the secrets: it writes to the sides
    clean = True
    for chosen in select_connections(settings, args.connection):
        async with open_connection(settings, chosen, args.fixture) as (conn, systems):
            selection = await select_conflicts(
                conn.store, _conflict_filter(args, conn.name), utc_now()
            )
            result = await settle_conflicts(
                conn, selection, take=take, value=args.value, by=operator()
            )
            if systems is not None:
                systems.save()
        _show_conflicts_settled(result)
        clean &= result.clean
    return EXIT_CLEAN if clean else EXIT_NOT_CLEAN


async def _settle_quarantine(args: argparse.Namespace, settings: Settings) -> int:
    async def work(store: StateStore) -> int:
        clean, by, now, mappings = True, operator(), utc_now(), settings.mappings
        for name in names(args, settings):
            chosen = _quarantine_filter(args, name)
            selection = await select_quarantined(store, chosen, now, mappings)
            if args.action == "retry":
                result = await retry_quarantined(
                    store, selection, mappings, by=by, now=now, dry_run=args.dry_run
                )
            else:
                result = await drop_quarantined(
                    store, selection, mappings, by=by, dry_run=args.dry_run
                )
            _show_quarantine_settled(args.action, result)
            clean &= result.clean
        return EXIT_CLEAN if clean else EXIT_NOT_CLEAN

    return await with_store(settings, work)


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
