"""A side's allowed concurrency, in which a waiting read goes before waiting writes.

AFAS takes one record a request, so a batch of 100 writes is 100 requests that queue for
the five slots fair use allows, and a batch ends with a read of what it stored. Queued
first come first served, that read waits behind the next batch's writes, both batches
end together, and the slots stand idle while both commit. With reads first, a batch's
read-back goes as soon as a slot frees, it commits while the next batch's writes keep the
slots busy.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from types import TracebackType

READ, WRITE = 0, 1


class ReadsFirstConcurrency:
    """At most ``size`` requests at once; among those waiting, reads go first, then
    in the order they came."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def __call__(self, priority: int) -> _SlotGuard:
        """``async with concurrency(READ):`` holds a slot for the block."""
        return _SlotGuard(self, priority)

    async def acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # handed a slot just as it was cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():  # a cancelled waiter has given up its place
                turn.set_result(None)
                return
        self._free += 1


class _SlotGuard:
    def __init__(self, slots: ReadsFirstConcurrency, priority: int) -> None:
        self._slots = slots
        self._priority = priority

    async def __aenter__(self) -> None:
        await self._slots.acquire(self._priority)

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._slots.release()
