"""A process's writes to a SQLite store take turns, first come first served.

SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps
and tries again (up to 100 ms between tries) and lets in whoever tries at the right
moment: there is no queue. With many lanes on one store, an idle lane's small write
waited behind a first sync's stream of writes for up to 20 s (docs/performance.md, "Many
lanes"). So the write transactions of the process queue here first, in the order they
asked (``asyncio.Lock`` wakes its waiters in order); the busy handler is left to settle
turns with other processes (a CLI command beside the daemon). PostgreSQL needs no turns:
its writers lock rows, not the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from syncd.errors import StateError


class WriteTurns:
    """Write transactions one at a time, in the order they asked."""

    def __init__(self, patience: float) -> None:
        self._lock = asyncio.Lock()
        self._patience = patience  # as long as SQLite's busy handler would wait

    @asynccontextmanager
    async def turn(self, what: str) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self._patience):
                await self._lock.acquire()
        except TimeoutError:
            raise StateError(
                f"{what}: the other writes of this process held the state database for "
                f"{self._patience:.0f} s; a write that never ends is a bug, please report it"
            ) from None
        try:
            yield
        finally:
            self._lock.release()
