"""``syncd run``: the long-running daemon.

APScheduler's ``AsyncIOScheduler`` starts, per connection and entity, an incremental cycle
every interval (with jitter) and a full sweep on a cron schedule. A lock per connection
and entity makes sure two cycles of one entity never overlap. A failing side is backed
off with a doubling delay and reported once when it fails and once when it recovers.
SIGTERM (or SIGINT) stops new cycles, gives the one in flight a bounded time to finish,
and exits 0. Status events are mirrored from the state store to the status log.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TextIO

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from syncd.config import Settings
from syncd.connections import Systems, opened
from syncd.engine.cycle import Connection, run_cycle, utc_now
from syncd.errors import GatewayError
from syncd.state.rows import StatusEvent
from syncd.status.events import EventName
from syncd.status.log import StatusLog
from syncd.status.server import StatusSource, make_app


@dataclass
class Backoff:
    """When a failing connection+entity may be tried again."""

    failures: int = 0
    not_before: datetime | None = None

    def fail(self, now: datetime, first: timedelta, limit: timedelta) -> None:
        self.failures += 1
        delay = min(first * 2 ** (self.failures - 1), limit)
        self.not_before = now + delay

    def ready(self, now: datetime) -> bool:
        return self.not_before is None or now >= self.not_before


@dataclass
class Lane:
    """One connection and entity: its lock, backoff and in-memory systems."""

    conn: Connection
    entity: str
    systems: Systems | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    backoff: Backoff = field(default_factory=Backoff)

    @property
    def key(self) -> str:
        return f"{self.conn.name}/{self.entity}"


class Daemon:
    def __init__(self, settings: Settings, *, stream: TextIO | None = sys.stdout) -> None:
        self.settings = settings
        self.log = StatusLog(settings.data_dir, stream)
        self.stopping = asyncio.Event()
        self.lanes: list[Lane] = []
        self.running: set[asyncio.Task[None]] = set()

    async def run(self) -> int:
        async with AsyncExitStack() as stack:
            for chosen in self.settings.connections:
                conn, systems = await stack.enter_async_context(opened(self.settings, chosen))
                self.lanes += [Lane(conn, e, systems) for e in self.settings.entities]
            await self._catch_up_log()
            await self._serve_status(stack)
            scheduler = self._schedule()
            self._on_signals()
            scheduler.start()
            await self.stopping.wait()
            scheduler.shutdown(wait=False)
            await self._drain()
            await self._ship()
        self.log.close()
        return 0

    def stop(self) -> None:
        self.stopping.set()

    # --- scheduling ---------------------------------------------------------------------

    def _schedule(self) -> AsyncIOScheduler:
        daemon = self.settings.daemon
        scheduler = AsyncIOScheduler(timezone="UTC")
        for lane in self.lanes:
            scheduler.add_job(
                self._spawn,
                IntervalTrigger(
                    seconds=daemon.interval.total_seconds(),
                    jitter=int(daemon.jitter.total_seconds()) or None,
                ),
                args=[lane, False],
                id=f"{lane.key}/incremental",
                next_run_time=utc_now(),
                max_instances=1,
                coalesce=True,
            )
            scheduler.add_job(
                self._spawn,
                CronTrigger.from_crontab(daemon.full_sweep_cron, timezone="UTC"),
                args=[lane, True],
                id=f"{lane.key}/full",
                max_instances=1,
                coalesce=True,
            )
        return scheduler

    def _on_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop)

    async def _spawn(self, lane: Lane, full: bool) -> None:
        """Run a cycle as a task of its own, so shutdown can wait for it."""
        if self.stopping.is_set():
            return
        task = asyncio.create_task(self._cycle(lane, full))
        self.running.add(task)
        task.add_done_callback(self.running.discard)
        await asyncio.shield(task)

    async def _drain(self) -> None:
        """Let the cycles in flight finish, within the grace period; then cancel them."""
        if not self.running:
            return
        grace = self.settings.daemon.shutdown_grace.total_seconds()
        _, late = await asyncio.wait(set(self.running), timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    # --- one cycle ----------------------------------------------------------------------

    async def _cycle(self, lane: Lane, full: bool) -> None:
        now = utc_now()
        if lane.lock.locked() or not lane.backoff.ready(now):
            return
        async with lane.lock:
            try:
                await run_cycle(lane.conn, lane.entity, full=full)
            except GatewayError as error:
                await self._failed(lane, error)
            except Exception as error:  # a bug must not stop the other lanes
                await self._failed(lane, error)
            else:
                await self._recovered(lane)
            finally:
                if lane.systems is not None:
                    lane.systems.save()
                await self._ship()

    async def _failed(self, lane: Lane, error: BaseException) -> None:
        first_failure = lane.backoff.failures == 0
        daemon, now = self.settings.daemon, utc_now()
        lane.backoff.fail(now, daemon.interval, daemon.max_backoff)
        if first_failure:
            wait = (lane.backoff.not_before or now) - now
            await self._event(
                lane,
                EventName.SOURCE_FAILED,
                error=f"{type(error).__name__}: {error}",
                retry_in_seconds=wait.total_seconds(),
            )

    async def _recovered(self, lane: Lane) -> None:
        if lane.backoff.failures:
            failures = lane.backoff.failures
            lane.backoff = Backoff()
            await self._event(lane, EventName.SOURCE_RECOVERED, failed_cycles=failures)

    async def _event(self, lane: Lane, name: EventName, **data: object) -> None:
        async with lane.conn.store.transaction() as tx:
            await tx.add_event(StatusEvent(lane.conn.name, lane.entity, str(name), data=data))

    # --- the status server and log -------------------------------------------------------

    async def _serve_status(self, stack: AsyncExitStack) -> None:
        config = self.settings.status
        if not config.enabled or not self.lanes:
            return
        source = StatusSource(
            self.lanes[0].conn.store,
            [(lane.conn.name, lane.entity) for lane in self.lanes],
            self.settings.daemon.interval,
        )
        token = config.token.value if config.token else None
        runner = web.AppRunner(make_app(source, token=token), access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, config.host, config.port).start()

    async def _catch_up_log(self) -> None:
        """Start the log after what is already in the store: old events are not repeated."""
        for lane in self.lanes[:1]:
            newest = await lane.conn.store.events(limit=1, newest=True)
            self.log.last_id = (newest[-1].id or 0) if newest else 0

    async def _ship(self) -> None:
        if not self.lanes:
            return
        store = self.lanes[0].conn.store
        while page := await store.events(after_id=self.log.last_id, limit=1000):
            self.log.write(page)
