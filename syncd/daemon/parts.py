"""What the daemon's parts share: its state, and the steps each part asks of another.

The daemon (:class:`syncd.daemon.Daemon`) is its lanes and schedule; keeping leases
(:mod:`.leasing`), serving its status and log (:mod:`.serving`) and reloading its
configuration (:mod:`.reloading`) are parts of it, each in its own module.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from syncd.config import ConnectionSettings, Settings
from syncd.daemon.lanes import Lane, OpenConnection
from syncd.engine.cycle import Connection
from syncd.engine.progress import ListingProgress
from syncd.events import EventName
from syncd.lease import Leases
from syncd.mapping import EntityMapping
from syncd.state.rows import StatusEvent
from syncd.state.store import StateStore
from syncd.status.log import StatusLog
from syncd.status.record_names import HubSpotPages


class DaemonState:
    """The daemon's state, as its parts read it; set up by ``Daemon.__init__``."""

    settings: Settings
    reread: Callable[[], Settings]
    log: StatusLog
    running: ListingProgress  # who is told of whole listings: the store, the bars
    stopping: asyncio.Event
    lanes: list[Lane]
    cycles_in_flight: set[asyncio.Task[None]]
    leases: Leases | None
    cycle_numbers: itertools.count[int]
    scheduler: AsyncIOScheduler | None
    clock: Callable[[], datetime]
    random: random.Random
    opened: dict[str, OpenConnection]
    store: StateStore | None
    reloading: asyncio.Lock
    closing: dict[str, asyncio.Task[None]]  # connections a reload closes or restarts
    shown: list[tuple[str, str]]
    desk_connections: dict[str, Connection]
    desk_locks: dict[tuple[str, str], asyncio.Lock]
    pages: dict[str, HubSpotPages]
    page_mappings: dict[str, EntityMapping]

    async def _open(self, chosen: ConnectionSettings) -> None:
        raise NotImplementedError

    async def _close(self, name: str) -> None:
        raise NotImplementedError

    async def _add_event(self, lane: Lane, name: EventName, **data: object) -> None:
        raise NotImplementedError

    async def _check_leases(self) -> None:
        raise NotImplementedError

    def _holds_lease(self, lane: Lane) -> bool:
        raise NotImplementedError

    def _jitter(self) -> timedelta:
        raise NotImplementedError

    def _poll_soon(self, lane: Lane) -> None:
        raise NotImplementedError

    async def _copy_events_to_log(self) -> None:
        raise NotImplementedError

    def _disturb(self, events: Iterable[StatusEvent]) -> None:
        raise NotImplementedError

    @staticmethod
    def _forget_quiet(lane: Lane) -> None:
        raise NotImplementedError
