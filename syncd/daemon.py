"""``syncd run``: the long-running daemon.

APScheduler's ``AsyncIOScheduler`` starts, per connection and entity, an incremental cycle
every interval (with jitter) and a full sweep on a cron schedule. A lock per connection
and entity makes sure two cycles of one entity never overlap. A failing side is backed
off with a doubling delay and reported once when it fails and once when it recovers; a
side that is down (or refuses the token) as the daemon starts is such a failing side:
its connection's lanes wait and retry, the others sync. Only a bad configuration stops
the start.
SIGTERM (or SIGINT) stops new cycles, gives the one in flight a bounded time to finish,
and exits 0. Status events are mirrored from the state store to the status log (and to
stdout: JSON lines, or readable lines on a console).

A lane (connection and entity) cycles only while this process holds its lease
(:mod:`syncd.lease`): on SQLite that is every lane, for the one daemon the store allows;
on PostgreSQL, replicas share the lanes and check their leases every
``lease_check_seconds``. A lane whose lease is lost has its cycle in flight cancelled.
With replicas, each request's User-Agent names the replica, lane and cycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import signal
import sys
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TextIO

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from rich.console import Console

from syncd.clock import utc_now
from syncd.config import Settings
from syncd.connections import SideChecks, Systems, open_connection
from syncd.engine.cycle import Connection, run_cycle
from syncd.errors import (
    AuthError,
    GatewayError,
    PermanentError,
    StateError,
    TransientError,
    for_people,
)
from syncd.events import EventName
from syncd.gateways.http.user_agent import calling_as
from syncd.lease import LeaseChanges, Leases, open_leases
from syncd.state.rows import StatusEvent
from syncd.status.desk import Desk
from syncd.status.log import StatusLog
from syncd.status.progress import progress_for
from syncd.status.record_lookup import hubspot_pages
from syncd.status.running import RunningListings
from syncd.status.server import StatusSource, make_app

LOG = logging.getLogger(__name__)


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
    cycle: asyncio.Task[Any] | None = None  # the one in flight, cancelled if the lease goes
    checks: SideChecks | None = None  # the connection's, shared by its lanes

    @property
    def key(self) -> str:
        return lane_key(self.conn.name, self.entity)


def lane_key(connection: str, entity: str) -> str:
    return f"{connection}/{entity}"


def failure_reason(error: BaseException) -> str:
    """What kind of failure stops a lane, for operators to filter and alert on."""
    if isinstance(error, AuthError):
        return "authentication"  # the token, or its rights: the operator must act
    if isinstance(error, TransientError):
        return "unavailable"
    if isinstance(error, PermanentError):
        return "refused"
    return "error"


class Daemon:
    def __init__(
        self,
        settings: Settings,
        *,
        stream: TextIO | None = sys.stdout,
        console: Console | None = None,
    ) -> None:
        self.settings = settings
        self.log = StatusLog(settings.data_dir, stream, console=console)
        self.progress = progress_for(console)  # bars for long listings, on a terminal only
        # Whole listings under way, for the status page; it tells the bars too.
        self.running = RunningListings(also=self.progress)
        self.stopping = asyncio.Event()
        self.lanes: list[Lane] = []
        self.cycles_in_flight: set[asyncio.Task[None]] = set()
        self.leases: Leases | None = None
        self.cycle_numbers = itertools.count(1)

    async def run(self) -> int:
        self._stop_on_signals()  # a SIGTERM while starting stops cleanly once started
        async with AsyncExitStack() as stack:
            self.leases = await self._open_leases(stack)
            for chosen in self.settings.connections:
                opening = open_connection(self.settings, chosen, check_sides=False)
                conn, systems = await stack.enter_async_context(opening)
                checks = SideChecks(conn.gateways.values())
                self.lanes += [
                    Lane(conn, e, systems, checks=checks) for e in self.settings.entities
                ]
            await self._catch_up_log()
            await self._serve_status(stack)
            await self._check_leases()
            scheduler = self._schedule()
            scheduler.start()
            await self.stopping.wait()
            scheduler.shutdown(wait=False)
            await self._let_cycles_finish()
            await self._copy_events_to_log()
        self.log.close()
        return 0

    def stop(self) -> None:
        self.stopping.set()

    # --- scheduling ---------------------------------------------------------------------

    def _schedule(self) -> AsyncIOScheduler:
        daemon = self.settings.daemon
        # A job run late on a busy machine is no news for an operator; a job's error is.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        scheduler = AsyncIOScheduler(timezone="UTC")
        for lane in self.lanes:
            scheduler.add_job(
                self._start_cycle_task,
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
                self._start_cycle_task,
                CronTrigger.from_crontab(daemon.full_sweep_cron, timezone="UTC"),
                args=[lane, True],
                id=f"{lane.key}/full",
                max_instances=1,
                coalesce=True,
            )
        if self.leases is not None and self.leases.shared:
            scheduler.add_job(
                self._check_leases,
                IntervalTrigger(seconds=daemon.lease_check.total_seconds()),
                id="leases",
                max_instances=1,
                coalesce=True,
            )
        return scheduler

    def _stop_on_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop)

    async def _start_cycle_task(self, lane: Lane, full: bool) -> None:
        """Start a cycle as a task of its own, so shutdown can wait for it.

        The job does not wait for its cycle: a cycle that is due while the lane's last
        one still runs is skipped by the lane (normal: the next one comes at the next
        interval), not warned about by the scheduler as a job over its instances.
        """
        if self.stopping.is_set():
            return
        task = asyncio.create_task(self._run_lane_cycle(lane, full))
        self.cycles_in_flight.add(task)
        task.add_done_callback(self.cycles_in_flight.discard)

    async def _let_cycles_finish(self) -> None:
        """Let the cycles in flight finish, within the grace period; then cancel them."""
        if not self.cycles_in_flight:
            return
        grace = self.settings.daemon.shutdown_grace.total_seconds()
        _, late = await asyncio.wait(set(self.cycles_in_flight), timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    # --- one cycle ----------------------------------------------------------------------

    async def _run_lane_cycle(self, lane: Lane, full: bool) -> None:
        now = utc_now()
        if not self._holds_lease(lane) or lane.lock.locked() or not lane.backoff.ready(now):
            return
        async with lane.lock:
            if not self._holds_lease(lane):
                return  # handed back while this cycle waited for the lane
            lane.cycle = asyncio.current_task()
            try:
                with calling_as(self._describe_caller(lane)):
                    if lane.checks is not None:
                        await lane.checks.run()
                    await run_cycle(lane.conn, lane.entity, full=full, progress=self.running)
            except GatewayError as error:
                await self._note_failure(lane, error)
            except Exception as error:  # a bug must not stop the other lanes
                LOG.error("%s: unexpected error in syncd", lane.key, exc_info=error)
                await self._note_failure(lane, error)
            else:
                await self._note_recovery(lane)
            finally:
                if lane.systems is not None:
                    lane.systems.save()
                await self._copy_events_to_log()

    def _holds_lease(self, lane: Lane) -> bool:
        return self.leases is None or self.leases.holds(lane.key)

    def _describe_caller(self, lane: Lane) -> str:
        """Who is calling, for the User-Agent: only replicas name themselves."""
        if self.leases is None or not self.leases.shared:
            return ""
        return f"replica {self.leases.replica}; {lane.key}; cycle {next(self.cycle_numbers)}"

    async def _note_failure(self, lane: Lane, error: BaseException) -> None:
        first_failure = lane.backoff.failures == 0
        daemon, now = self.settings.daemon, utc_now()
        lane.backoff.fail(now, daemon.interval, daemon.max_backoff)
        if first_failure:
            wait = (lane.backoff.not_before or now) - now
            await self._add_event(
                lane,
                EventName.SOURCE_FAILED,
                reason=failure_reason(error),
                error=for_people(error),
                retry_in_seconds=wait.total_seconds(),
            )

    async def _note_recovery(self, lane: Lane) -> None:
        if lane.backoff.failures:
            failures = lane.backoff.failures
            lane.backoff = Backoff()
            await self._add_event(lane, EventName.SOURCE_RECOVERED, failed_cycles=failures)

    async def _add_event(self, lane: Lane, name: EventName, **data: object) -> None:
        async with lane.conn.store.transaction() as tx:
            await tx.add_event(StatusEvent(lane.conn.name, lane.entity, str(name), data=data))

    # --- leases ---------------------------------------------------------------------------

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

    # --- the status server and log -------------------------------------------------------

    def failed_in_a_row(self) -> dict[tuple[str, str], int]:
        """Per lane this replica holds, its cycles that failed since its last good one."""
        return {
            (lane.conn.name, lane.entity): lane.backoff.failures
            for lane in self.lanes
            if self._holds_lease(lane)
        }

    async def _serve_status(self, stack: AsyncExitStack) -> None:
        config = self.settings.status
        if not config.enabled or not self.lanes:
            return
        source = StatusSource(
            self.lanes[0].conn.store,
            [(lane.conn.name, lane.entity) for lane in self.lanes],
            self.settings.daemon.interval,
            self.failed_in_a_row,
            self.running,
            pages={c.name: hubspot_pages(self.settings, c) for c in self.settings.connections},
            mappings=self.settings.mappings,
        )
        token = config.token.value if config.token else None
        desk = self._desk() if config.actions else None
        runner = web.AppRunner(make_app(source, token=token, desk=desk), access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, config.host, config.port).start()
        for host, port, *_ in runner.addresses:  # port 0 binds any free port: say which
            where = f"[{host}]" if ":" in host else host
            print(f"syncd: status server on http://{where}:{port}/", file=sys.stderr, flush=True)

    def _desk(self) -> Desk:
        """What the status page's buttons act on: the lanes' connections, each conflict
        settled while its lane is held."""
        systems = {lane.conn.name: lane.systems for lane in self.lanes}

        def saved(connection: str) -> None:
            kept = systems.get(connection)
            if kept is not None:
                kept.save()

        return Desk(
            connections={lane.conn.name: lane.conn for lane in self.lanes},
            operator=self.settings.status.operator,
            lane_locks={(lane.conn.name, lane.entity): lane.lock for lane in self.lanes},
            saved=saved,
        )

    async def _catch_up_log(self) -> None:
        """Go on after the last event in the log file; with no file yet, after the newest
        event in the store (the history is not repeated into a new file)."""
        logged = self.log.last_logged_id()
        for lane in self.lanes[:1]:
            newest = await lane.conn.store.events(limit=1, newest=True)
            in_store = (newest[-1].id or 0) if newest else 0
            self.log.last_id = in_store if logged is None else min(logged, in_store)

    async def _copy_events_to_log(self) -> None:
        if not self.lanes:
            return
        store = self.lanes[0].conn.store
        while page := await store.events(after_id=self.log.last_id, limit=1000):
            self.log.write(page)
