"""``syncd run``: the long-running daemon.

APScheduler's ``AsyncIOScheduler`` starts, per connection and entity, an incremental cycle
an interval (and a random part of the jitter) after the last one ended, and a full sweep
on a cron schedule; a lane whose cycles changed something polls sooner for a while
(:mod:`syncd.polling`, decided in :meth:`Daemon.next_poll`). A lock per connection
and entity makes sure two cycles of one entity never overlap. A failing side is backed
off with a doubling delay and reported once when it fails and once when it recovers; a
side that is down (or refuses the token) as the daemon starts is such a failing side:
its connection's lanes wait and retry, the others sync. Only a bad configuration stops
the start.
SIGHUP reads config.toml and the mappings again: connections are opened, closed (after
their cycle in flight) or restarted as they changed; a config with problems is refused
and the running one kept (:mod:`syncd.config.changes` says what changed).
SIGTERM (or SIGINT) stops new cycles, gives the one in flight a bounded time to finish,
and exits 0. Status events are mirrored from the state store to the status log (and to
stdout: JSON lines, or readable lines on a console).

A lane (connection and entity) cycles only while this process holds its lease
(:mod:`syncd.lease`): on SQLite that is every lane, for the one daemon the store allows;
on PostgreSQL, replicas share the lanes and check their leases every
``lease_check_seconds``. A lane whose lease is lost has its cycle in flight cancelled.
With replicas, each request's User-Agent names the replica, lane and cycle.

With HubSpot's webhooks on for a connection (docs/webhooks.md), a receiver on a port of
its own turns HubSpot's calls into hints (:mod:`syncd.engine.hints`), and each of the
connection's lanes runs a hinted cycle for them soon after (:mod:`.hinted`), under the
lane's lock like any cycle. With its Webhooks Journal on, a job per connection pulls the
same hints instead (:mod:`.journal_polls`), with no inbound port. Polling goes on as
before: it is what a lost hint falls back on.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import itertools
import logging
import random
import signal
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import TextIO

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from rich.console import Console

from syncd.clock import utc_now
from syncd.config import ConnectionSettings, Settings, load_settings
from syncd.connections import SideChecks, open_connection
from syncd.daemon.hinted import HintedCycles
from syncd.daemon.journal_polls import JournalPolls
from syncd.daemon.lanes import (
    Backoff,
    Lane,
    OpenConnection,
    failure_reason,
    full_sweep_job,
    incremental_job,
    lane_key,
)
from syncd.daemon.leasing import LeaseKeeping
from syncd.daemon.open_files import raise_open_files_limit
from syncd.daemon.polls import PollScheduling
from syncd.daemon.quiet_watch import FLUSH_EVERY, WATCH_EVERY, QuietPolls, QuietWatching
from syncd.daemon.reloading import Reloading
from syncd.daemon.serving import StatusServing
from syncd.daemon.trimming import MemoryHandBack, glibc_trim, limit_arenas
from syncd.daemon.turns import EntityTurns
from syncd.engine.cycle import Connection, run_cycle
from syncd.engine.hints import HintedIds, Hints
from syncd.engine.progress import ListingProgress
from syncd.engine.speed.quiet import QuietLanes
from syncd.errors import GatewayError, for_people
from syncd.events import EventName
from syncd.gateways.http.user_agent import calling_as
from syncd.lease import Leases
from syncd.mapping import EntityMapping
from syncd.polling import saw_changes
from syncd.state.rows import StatusEvent
from syncd.state.store import StateStore, open_store
from syncd.status.log import StatusLog
from syncd.status.progress import progress_for
from syncd.status.record_names import HubSpotPages
from syncd.status.running import StoredProgress
from syncd.webhooks.receiver import Received, serve_webhooks

__all__ = [
    "Backoff",
    "Daemon",
    "Lane",
    "OpenConnection",
    "failure_reason",
    "full_sweep_job",
    "incremental_job",
    "lane_key",
]

LOG = logging.getLogger(__name__)


class Daemon(LeaseKeeping, StatusServing, Reloading, PollScheduling, QuietWatching):
    def __init__(
        self,
        settings: Settings,
        *,
        stream: TextIO | None = sys.stdout,
        console: Console | None = None,
        reread: Callable[[], Settings] | None = None,
    ) -> None:
        """``reread`` reads the configuration again for a reload (SIGHUP); by default,
        the file ``settings`` came from, as it is now."""
        self.settings = settings
        self.reread = reread or functools.partial(load_settings, settings.source)
        self.log = StatusLog(settings.data_dir, stream, console=console)
        self.progress = progress_for(console)  # bars for long listings, on a terminal only
        # Whole listings under way, told to the store for the status pages once it is
        # open (and to the bars).
        self.running: ListingProgress = self.progress
        self.stopping = asyncio.Event()
        self.lanes: list[Lane] = []
        self.cycles_in_flight: set[asyncio.Task[None]] = set()
        self.leases: Leases | None = None
        self.cycle_numbers = itertools.count(1)
        self.scheduler: AsyncIOScheduler | None = None
        self.clock = utc_now  # when cycles changed something, and so when to poll next
        self.random = random.Random()  # the jitter's
        # Memory that cycles with changes freed goes back to the system now and then.
        self.hand_back = MemoryHandBack(lambda: self.clock(), glibc_trim())
        self.opened: dict[str, OpenConnection] = {}
        self.store: StateStore | None = None  # one for all: the connections share it
        self.reloading = asyncio.Lock()  # one reload at a time
        self.closing: dict[str, asyncio.Task[None]] = {}  # by a reload, each on its own
        # What the status server shows and acts on: kept in step with the lanes.
        self.shown: list[tuple[str, str]] = []
        self.desk_connections: dict[str, Connection] = {}
        self.desk_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.pages: dict[str, HubSpotPages] = {}
        self.hints = Hints()  # records named by webhooks, per lane
        self.webhooks_received = Received()
        self.hinted: HintedCycles | None = None
        self.journal_polls = JournalPolls(
            self.hints, lambda opened: any(self._holds_lease(lane) for lane in opened.lanes)
        )
        self.page_mappings: dict[str, EntityMapping] = {}  # to name quarantined records
        self.quiet_polls = QuietPolls()

    async def run(self) -> int:
        self._stop_on_signals()  # a SIGTERM while starting stops cleanly once started
        raise_open_files_limit()  # sockets of many connections: the soft limit is too low
        limit_arenas()  # before the database's threads start
        async with AsyncExitStack() as stack:
            self.leases = await self._open_leases(stack)
            self.store = await open_store(self.settings.state_url)
            stack.push_async_callback(self.store.close)
            self.running = await stack.enter_async_context(
                StoredProgress(self.store, also=self.progress)
            )
            stack.push_async_callback(self._close_connections)
            for chosen in self.settings.connections:
                await self._open(chosen)
            await self._catch_up_log()
            await self._serve_status(stack)
            await serve_webhooks(stack, self.settings, self.hints, self.webhooks_received)
            await self._check_leases()
            scheduler = self.scheduler = self._schedule()
            scheduler.start()
            hinted = self.hinted = HintedCycles(
                self.settings.webhooks.gather,
                self.stopping,
                lambda lane: self._holds_lease(lane) and lane.backoff.ready(utc_now()),
                lambda lane, ids: self._lane_cycle(lane, hinted=ids),
                self.cycles_in_flight,
            )
            hinted.start(self.lanes)
            self._reload_on_sighup()
            await self.stopping.wait()
            scheduler.shutdown(wait=False)
            await self._let_cycles_finish()
            await hinted.stop()
            await self._copy_events_to_log()
            await self._flush_quiet_polls()
        self.log.close()
        return 0

    def stop(self) -> None:
        self.stopping.set()

    # --- connections, opened at start and by reloads ------------------------------------

    async def _open(self, chosen: ConnectionSettings) -> None:
        """Open a connection and give it its lanes (and their jobs, once scheduling)."""
        stack = AsyncExitStack()
        # The daemon's one store, shared by its connections and left open when one closes.
        opening = open_connection(self.settings, chosen, store=self.store, check_sides=False)
        try:
            conn, systems = await stack.enter_async_context(opening)
        except BaseException:
            await stack.aclose()
            raise
        conn = dataclasses.replace(conn, quiet=QuietLanes())  # its lanes may poll quietly
        checks = SideChecks(conn.gateways.values())
        turns = EntityTurns()  # companies' cycles together, their contacts' alone
        lanes = [
            Lane(conn, e, systems, checks=checks, hints=self.hints.lane(conn.name, e), turns=turns)
            for e in self.settings.entities
        ]
        self.opened[chosen.name] = OpenConnection(chosen, lanes, stack)
        self.lanes += lanes
        await self._lanes_changed()
        for lane in lanes if self.scheduler is not None else ():
            self._add_jobs(self.scheduler, lane)
        if self.scheduler is not None:
            self.journal_polls.add(self.scheduler, self.opened[chosen.name])
        if self.hinted is not None:  # opened by a reload: follow its hints too
            self.hinted.start(lanes)

    async def _close(self, name: str) -> None:
        """Stop a connection's lanes, each after its cycle in flight ends (never cut)."""
        opened = self.opened[name]
        self.journal_polls.remove(self.scheduler, name)
        for lane in opened.lanes:
            self._remove_jobs(lane)
        for lane in opened.lanes:
            async with lane.lock:  # waits for the cycle in flight
                lane.retired = True  # a cycle started but still waiting will not run
        closing = {id(lane) for lane in opened.lanes}
        self.lanes = [lane for lane in self.lanes if id(lane) not in closing]
        del self.opened[name]
        await self._lanes_changed()
        await opened.stack.aclose()

    async def _lanes_changed(self) -> None:
        self._show_lanes()
        if self.leases is not None:
            await self.leases.set_lanes([lane.key for lane in self.lanes])

    async def _close_connections(self) -> None:
        for name in list(self.opened):
            await self.opened.pop(name).stack.aclose()

    # --- scheduling ---------------------------------------------------------------------

    def _schedule(self) -> AsyncIOScheduler:
        daemon = self.settings.daemon
        # A job run late on a busy machine is no news for an operator; a job's error is.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        scheduler = AsyncIOScheduler(timezone="UTC")
        for lane in self.lanes:
            self._add_jobs(scheduler, lane)
        for opened in self.opened.values():
            self.journal_polls.add(scheduler, opened)
        quiet_jobs = ((self._watch_store, WATCH_EVERY), (self._flush_quiet_polls, FLUSH_EVERY))
        for job, every in quiet_jobs:
            trigger = IntervalTrigger(seconds=every.total_seconds())
            scheduler.add_job(job, trigger, id=job.__name__, max_instances=1, coalesce=True)
        if self.leases is not None and self.leases.shared:
            scheduler.add_job(
                self._check_leases,
                IntervalTrigger(seconds=daemon.lease_check.total_seconds()),
                id="leases",
                max_instances=1,
                coalesce=True,
            )
        return scheduler

    def _add_jobs(self, scheduler: AsyncIOScheduler, lane: Lane) -> None:
        daemon = self.settings.daemon
        scheduler.add_job(
            self._start_cycle_task,
            IntervalTrigger(
                seconds=daemon.interval.total_seconds(),
                jitter=int(daemon.jitter.total_seconds()) or None,
            ),
            args=[lane, False],
            id=incremental_job(lane),
            next_run_time=utc_now() + self._jitter(),
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            self._start_cycle_task,
            CronTrigger.from_crontab(daemon.full_sweep_cron, timezone="UTC"),
            args=[lane, True],
            id=full_sweep_job(lane),
            max_instances=1,
            coalesce=True,
        )

    def _remove_jobs(self, lane: Lane) -> None:
        for job in (incremental_job(lane), full_sweep_job(lane)):
            with contextlib.suppress(JobLookupError):
                if self.scheduler is not None:
                    self.scheduler.remove_job(job)

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
        if not self._holds_lease(lane) or not lane.backoff.ready(utc_now()):
            return
        if lane.lock.locked() and not lane.hinted_in_flight:
            return  # its last poll or sweep still runs: the next comes at the next interval
        # A hinted cycle is short: the poll waits for it instead of an interval more.
        async with lane.lock:
            if lane.backoff.ready(utc_now()):
                await self._lane_cycle(lane, full=full)

    async def _lane_cycle(
        self, lane: Lane, *, full: bool = False, hinted: HintedIds | None = None
    ) -> None:
        """One cycle of ``lane``, whose lock the caller holds."""
        if lane.retired or not self._holds_lease(lane):
            return  # handed back, or its connection closed, while this one waited
        lane.cycle = asyncio.current_task()
        lane.hinted_in_flight = hinted is not None
        report = None
        try:
            with calling_as(self._describe_caller(lane)):
                if lane.checks is not None:
                    await lane.checks.run()
                async with lane.turns.turn(contacts=lane.follows_companies):
                    report = await run_cycle(
                        lane.conn, lane.entity, full=full, progress=self.running, hinted=hinted
                    )
            if report.quiet:
                self._note_quiet_poll(lane)
            changed = saw_changes(report.counts)
            if changed:
                lane.last_change = self.clock()
            self.hand_back.cycle_ended(changed=changed)
        except GatewayError as error:
            await self._note_failure(lane, error)
        except Exception as error:  # a bug must not stop the other lanes
            LOG.error("%s: unexpected error in syncd", lane.key, exc_info=error)
            await self._note_failure(lane, error)
        else:
            await self._note_recovery(lane)
        finally:
            lane.hinted_in_flight = False
            if lane.systems is not None:
                lane.systems.save()
            self._poll_next(lane, may_postpone=hinted is None)
            if report is None or not report.quiet:  # a quiet poll wrote no event
                await self._copy_events_to_log()

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
