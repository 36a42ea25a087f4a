"""The daemon's leases: which lanes this process cycles (:mod:`syncd.lease`)."""

from __future__ import annotations

import contextlib
from contextlib import AsyncExitStack

from syncd.daemon.lanes import Lane, lane_key
from syncd.daemon.parts import DaemonState
from syncd.errors import (
    StateError,
)
from syncd.events import EventName
from syncd.lease import LeaseChanges, Leases, open_leases


class LeaseKeeping(DaemonState):
    """Holding, renewing and losing the lanes' leases."""

    async def _open_leases(self, stack: AsyncExitStack) -> Leases:
        settings, daemon = self.settings, self.settings.daemon
        lanes = [lane_key(c.name, e) for c in settings.connections for e in settings.entities]
        leases = await open_leases(
            settings.state_url,
            lanes,
            replica=daemon.replica,
            lease_check=daemon.lease_check,
            lease_timeout=daemon.lease_timeout,
        )
        stack.push_async_callback(leases.close)
        return leases

    async def _check_leases(self) -> None:
        """Renew this replica's hold on its lanes; stop the cycles of lanes it lost."""
        if self.leases is None or self.stopping.is_set():
            return
        changes = await self.leases.check({lane.key: lane.lock for lane in self.lanes})
        for lane in self.lanes:
            if lane.key in changes.lost and lane.cycle is not None:
                lane.cycle.cancel()  # another replica may take it over: stop at once
            if lane.key in changes.acquired:
                self._poll_soon(lane)
            if lane.key in (*changes.lost, *changes.acquired, *changes.released):
                self._forget_quiet(lane)  # another replica may have run it meanwhile
        await self._lease_events(changes)

    async def _lease_events(self, changes: LeaseChanges) -> None:
        if self.leases is None:
            return
        named = [
            (EventName.LEASE_ACQUIRED, changes.acquired, ""),
            (EventName.LEASE_RELEASED, changes.released, "shared with other replicas"),
            (EventName.LEASE_LOST, changes.lost, "the lease session to PostgreSQL broke"),
        ]
        for name, keys, reason in named:
            for lane in (lane for lane in self.lanes if lane.key in keys):
                extra = {"reason": reason} if reason else {}
                with contextlib.suppress(StateError):  # a lost lease often means no store
                    await self._add_event(lane, name, replica=self.leases.replica, **extra)
        if changes.acquired or changes.released or changes.lost:
            with contextlib.suppress(StateError):
                await self._copy_events_to_log()

    def _holds_lease(self, lane: Lane) -> bool:
        return self.leases is None or self.leases.holds(lane.key)

    def _describe_caller(self, lane: Lane) -> str:
        """Who is calling, for the User-Agent: only replicas name themselves."""
        if self.leases is None or not self.leases.shared:
            return ""
        return f"replica {self.leases.replica}; {lane.key}; cycle {next(self.cycle_numbers)}"
