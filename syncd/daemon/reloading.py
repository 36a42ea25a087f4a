"""Reloading the configuration on SIGHUP: connections opened, closed or restarted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

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
            for name in changes.removed + changes.changed:
                await self._close(name)
            for chosen in new.connections:
                if chosen.name in changes.added + changes.changed:
                    await self._open_reloaded(chosen)
            await self._check_leases()  # claims the new lanes' leases now
            LOG.warning(
                "syncd: config reloaded; connections added %s, removed %s, restarted %s",
                list(changes.added),
                list(changes.removed),
                list(changes.changed),
            )
            return True

    async def _open_reloaded(self, chosen: ConnectionSettings) -> None:
        try:
            await self._open(chosen)
        except SyncdError as error:  # e.g. its fixture file is missing: the others go on
            LOG.error("syncd: connection %s not opened: %s", chosen.name, for_people(error))
