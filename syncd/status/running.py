"""Long work running now (a first sync's or a full sweep's listing, a match plan's), told
to the state store so that the status page of any process sharing it shows it.

The engine tells a :class:`StoredProgress` as pages arrive, synchronously; a task of its
own writes to the store, each write in a short transaction of its own, so no write ever
runs inside a cycle's transaction (the store's "one write at a time per task" rule) or
holds a cycle up. Writes are few: at a listing's start and end, and while it lists at
most one every :data:`EVERY` per listing; a listing waiting long for a page still says
every :data:`BEAT` that its process lives. A row not heard of for :data:`STALE` (its
process died) is not shown, and the next listing to begin removes it. A failed write is
logged and skipped: progress never fails a cycle. Whoever else watches (a terminal's
bars) is told too.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol

from syncd.clock import utc_now
from syncd.engine.progress import NO_PROGRESS, ListingProgress, SideListing
from syncd.records import Side
from syncd.state.rows import RunningWork, WorkKind

LOG = logging.getLogger(__name__)

EVERY = timedelta(seconds=2)
"""At most one write per listing this often while its pages come."""
BEAT = timedelta(seconds=15)
"""A listing told nothing new for this long is written again: its process still lives."""
STALE = timedelta(seconds=60)
"""Work not heard of for this long is gone: its process stopped without saying so."""


class WorkStore(Protocol):
    """What a :class:`StoredProgress` writes (a :class:`~syncd.state.store.StateStore`)."""

    async def tell_work(self, work: RunningWork) -> None: ...

    async def end_work(self, key: str) -> None: ...

    async def forget_stale_work(self, heard_before: datetime) -> None: ...


@dataclass(frozen=True)
class Here:
    """Where work runs, as the page shows it."""

    host: str
    pid: int

    @classmethod
    def this_process(cls) -> Here:
        return cls(socket.gethostname(), os.getpid())


class StoredProgress:
    """A :class:`~syncd.engine.progress.ListingProgress` that tells the state store; use
    it as an async context manager, which runs its writer (and on exit, ends what still
    runs)."""

    def __init__(
        self,
        store: WorkStore,
        *,
        kind: WorkKind = WorkKind.LISTING,
        also: ListingProgress = NO_PROGRESS,
        clock: Callable[[], datetime] = utc_now,
        here: Here | None = None,
        every: timedelta = EVERY,
        beat: timedelta = BEAT,
    ) -> None:
        self._store = store
        self._kind = kind
        self._also = also
        self._clock = clock
        self._here = here or Here.this_process()
        self._every = every
        self._beat = beat
        self._running: dict[str, RunningWork] = {}
        self._told_at: dict[str, datetime] = {}  # when each was last handed to the writer
        self._to_write: dict[str, RunningWork | None] = {}  # None: it ended
        self._saved: set[str] = set()  # begun in the store
        self._failing = False  # one warning for failures in a row, not one each
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()  # what was told is written in the order told
        self._closing = False
        self._writer: asyncio.Task[None] | None = None

    async def __aenter__(self) -> StoredProgress:
        self._writer = asyncio.create_task(self._write_while_open())
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for key in list(self._running):
            self.ended(key)
        self._closing = True
        self._wake.set()
        if self._writer is not None:
            await self._writer

    async def written(self) -> None:
        """Once everything told so far is in the store (or failed to be)."""
        await self._write_told()

    def listing(self, lane: str, side: Side, expected: int | None) -> SideListing:
        now = self._clock()
        key = uuid.uuid4().hex
        work = RunningWork(
            key, lane, side, self._kind, now, now, self._here.host, self._here.pid, 0, expected
        )
        self._running[key] = work
        self._tell(work, now)
        return _Told(self, key, self._also.listing(lane, side, expected))

    def listed(self, key: str, count: int) -> None:
        work = self._running.get(key)
        if work is None:
            return
        now = self._clock()
        self._running[key] = work = replace(work, listed=count, heard=now)
        if now - self._told_at[key] >= self._every:
            self._tell(work, now)

    def ended(self, key: str) -> None:
        if self._running.pop(key, None) is not None:
            self._told_at.pop(key, None)
            self._to_write[key] = None
            self._wake.set()

    def _tell(self, work: RunningWork, now: datetime) -> None:
        self._told_at[work.key] = now
        self._to_write[work.key] = work
        self._wake.set()

    async def _write_while_open(self) -> None:
        while not self._closing:
            try:
                await asyncio.wait_for(self._wake.wait(), self._beat.total_seconds())
            except TimeoutError:
                self._still_running()
            self._wake.clear()
            await self._write_told()
        await self._write_told()  # what was told while it closed

    def _still_running(self) -> None:
        """Nothing told for a beat: each listing says it still runs."""
        now = self._clock()
        for key, work in self._running.items():
            self._running[key] = work = replace(work, heard=now)
            self._tell(work, now)

    async def _write_told(self) -> None:
        async with self._writing:
            told, self._to_write = self._to_write, {}
            for key, work in told.items():
                try:
                    await self._write(key, work)
                except Exception as error:  # progress never fails a cycle, nor its writer
                    log = LOG.debug if self._failing else LOG.warning
                    log("syncd: progress not saved, skipped: %s", error)
                    self._failing = True
                else:
                    self._failing = False

    async def _write(self, key: str, work: RunningWork | None) -> None:
        if work is None:
            if key in self._saved:  # else it ended before it was written: nothing to remove
                self._saved.discard(key)
                await self._store.end_work(key)
            return
        if key not in self._saved:  # a listing begins: what died meanwhile goes
            await self._store.forget_stale_work(work.heard - STALE)
        await self._store.tell_work(work)
        self._saved.add(key)


class _Told:
    def __init__(self, owner: StoredProgress, key: str, also: SideListing) -> None:
        self._owner = owner
        self._key = key
        self._also = also

    def listed(self, count: int) -> None:
        self._owner.listed(self._key, count)
        self._also.listed(count)

    def done(self) -> None:
        self._owner.ended(self._key)
        self._also.done()
