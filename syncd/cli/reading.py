"""The commands that read the state store: status, check, the log, a record's history."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from syncd.cli.common import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_NOT_CLEAN,
    names,
    print_lines,
    with_store,
)
from syncd.config import Settings
from syncd.state.rows import StatusEvent
from syncd.state.store import StateStore
from syncd.status.log import event_as_json
from syncd.status.record_lists import Found, RecordLists, not_found
from syncd.status.views import entity_health, lanes_health


async def status(args: argparse.Namespace, settings: Settings) -> int:
    async def work(store: StateStore) -> int:
        lanes = [(name, entity) for name in names(args, settings) for entity in settings.entities]
        rows = await lanes_health(store, lanes, settings.daemon.interval)
        lists = RecordLists(store, settings)
        if args.json:
            print(json.dumps(await lists.status_dicts(rows), indent=2))
        else:
            print(await lists.status_text(rows))
        return EXIT_CLEAN if all(h.healthy for h in rows) else EXIT_NOT_CLEAN

    return await with_store(settings, work)


async def check(args: argparse.Namespace, settings: Settings) -> int:
    async def work(store: StateStore) -> int:
        for name in names(args, settings):
            for entity in settings.entities:
                health = await entity_health(store, name, entity)
                if not health.healthy:
                    print(f"{name}/{entity}: {health.last_outcome}: {health.last_message}")
                    return EXIT_NOT_CLEAN
        print("ok")
        return EXIT_CLEAN

    return await with_store(settings, work)


async def log(args: argparse.Namespace, settings: Settings) -> int:
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

    return await with_store(settings, work)


async def _print_events(
    store: StateStore, settings: Settings, events: Sequence[StatusEvent], *, as_json: bool
) -> None:
    """As JSON lines, as logged; or as text, each record named as people know it."""
    lists = RecordLists(store, settings)
    print_lines([event_as_json(e) for e in events] if as_json else await lists.event_lines(events))


async def history(args: argparse.Namespace, settings: Settings) -> int:
    entities = [args.entity] if args.entity else list(settings.entities)

    async def work(store: StateStore) -> int:
        lists = RecordLists(store, settings)
        found, lines = await lists.history(names(args, settings), entities, args.record)
        if found is Found.NONE:
            print(f"syncd: {not_found(args.record)}", file=sys.stderr)
            return EXIT_ERROR
        print_lines(lines)
        return EXIT_CLEAN if found is Found.ONE else EXIT_NOT_CLEAN

    return await with_store(settings, work)
