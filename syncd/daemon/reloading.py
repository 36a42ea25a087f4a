"""Reloading the configuration on SIGHUP: connections opened, closed or restarted.

A removed or changed connection is closed after its cycle in flight ends (never cut),
and that cycle may take long: a big first sync, or an AFAS that does not answer until
the read timeout (15 minutes). So each is closed (and a changed one opened again) in a
task of its own, and the added connections open at once: one slow connection holds up
neither the others nor the next reload.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Awaitable, Callable

from syncd.config import ConnectionSettings
from syncd.config.changes import config_changes, keep_for_restart
from syncd.daemon.parts import DaemonState
from syncd.errors import (
    ConfigError,
    SyncdError,
    for_people,
)

LOG = logging.getLogger(__name__)


class Reloading(DaemonState):
    """SIGHUP reads config.toml and the mappings again and applies what changed."""

    def _reload_on_sighup(self) -> None:
        with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._reload_soon)

    def _reload_soon(self) -> None:
        if self.stopping.is_set():
            return
        task = asyncio.create_task(self._reload_in_background())
        self.cycles_in_flight.add(task)  # shutdown waits for it as for a cycle
        task.add_done_callback(self.cycles_in_flight.discard)

    async def _reload_in_background(self) -> None:
        await self.reload()

    async def reload(self) -> bool:
        """Read config.toml and the mapping files again and apply what changed: open
        added connections, close removed ones, restart changed ones. A configuration
        with problems is refused, and the running one kept. True if it was applied."""
        async with self.reloading:
            try:
                new = self.reread()
            except ConfigError as error:
                LOG.error("syncd: reload refused, still running the previous config:\n%s", error)
                return False
            changes = config_changes(self.settings, new)
            for setting in changes.need_restart:
                LOG.warning("syncd: %s changed; it applies when syncd restarts", setting)
            self.settings = keep_for_restart(self.settings, new)
            for chosen in new.connections:
                if chosen.name in changes.added:
                    await self._open_reloaded(chosen)
            for name in changes.removed:
                self._aside(name, functools.partial(self._close_if_open, name))
            for chosen in new.connections:
                if chosen.name in changes.changed:
                    self._aside(chosen.name, functools.partial(self._restart, chosen))
            await self._check_leases()  # claims the new lanes' leases now
            LOG.warning(
                "syncd: config reloaded; connections added %s, removed %s, restarted %s",
                list(changes.added),
                list(changes.removed),
                list(changes.changed),
            )
            return True

    def _aside(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        """Close or restart connection ``name`` in a task of its own, after what an
        earlier reload does to it; shutdown waits for it as for a cycle."""
        earlier = self.closing.get(name)

        async def in_turn() -> None:
            if earlier is not None:
                await asyncio.wait({earlier})
            await work()

        task = asyncio.create_task(in_turn())
        self.closing[name] = task
        self.cycles_in_flight.add(task)

        def done(task: asyncio.Task[None]) -> None:
            self.cycles_in_flight.discard(task)
            if self.closing.get(name) is task:
                del self.closing[name]

        task.add_done_callback(done)

    async def _close_if_open(self, name: str) -> None:
        if name in self.opened:  # not when opening it again failed
            await self._close(name)

    async def _restart(self, chosen: ConnectionSettings) -> None:
        await self._close_if_open(chosen.name)
        await self._open_reloaded(chosen, claim=True)

    async def _open_reloaded(self, chosen: ConnectionSettings, *, claim: bool = False) -> None:
        """Open a connection of the new config (once an earlier one of its name is
        closed); ``claim``: take its lanes' leases now, not at the next check."""
        earlier = self.closing.get(chosen.name)
        if earlier is not None and earlier is not asyncio.current_task():
            await asyncio.wait({earlier})
        try:
            await self._open(chosen)
        except SyncdError as error:  # e.g. its fixture file is missing: the others go on
            LOG.error("syncd: connection %s not opened: %s", chosen.name, for_people(error))
            return
        if claim:
            await self._check_leases()
