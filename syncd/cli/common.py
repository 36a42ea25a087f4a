"""What the commands share: exit codes, the entities, and reaching the state store."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Awaitable, Callable, Sequence

from syncd.config import Settings
from syncd.connections import select_connections
from syncd.mapping import KNOWN_ENTITIES
from syncd.state.store import StateStore, open_store

EXIT_CLEAN, EXIT_NOT_CLEAN, EXIT_ERROR = 0, 1, 2
ENTITIES = list(KNOWN_ENTITIES)

Command = Callable[[argparse.Namespace, Settings], Awaitable[int]]


def names(args: argparse.Namespace, settings: Settings) -> list[str]:
    return [c.name for c in select_connections(settings, args.connection)]


async def with_store(settings: Settings, work: Callable[[StateStore], Awaitable[int]]) -> int:
    store = await open_store(settings.state_url)
    try:
        return await work(store)
    finally:
        await store.close()


def operator() -> str | None:
    """Who confirms, for the status log; a container may have no user name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def print_lines(lines: Sequence[str]) -> None:
    for line in lines:
        print(line, flush=True)
