"""At most so many requests in any window of so many seconds, as HubSpot counts them.

HubSpot counts a private app's requests over a rolling ten seconds (its 429 names the
policy ``TEN_SECONDLY_ROLLING``) and a portal's searches over a second, so a burst may
spend a whole window's budget at once: a first sync's list pages come as fast as HubSpot
answers, not a few a second, and so do the first search pages of a cycle's changes.
aiolimiter's leaky bucket (AFAS's optional rate) cannot allow that burst and still keep
every window under the limit, and the moving windows of ``limits`` expire their entries
from a task and a thread per request; so the window is kept here, as the send times of
the last ``amount`` requests.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from types import TracebackType


class RollingWindow:
    """``async with window:`` waits until fewer than ``amount`` requests went out in the
    last ``seconds``; whoever finds room first goes (no queue: few requests wait at once).
    """

    def __init__(self, amount: int, seconds: float) -> None:
        if amount < 1 or seconds <= 0:
            raise ValueError(f"a window needs room for a request: {amount} in {seconds} s")
        self.amount = amount
        self.seconds = seconds
        self._sent: deque[float] = deque()

    @classmethod
    def at(cls, rate: float, seconds: float) -> RollingWindow:
        """``rate`` requests in any ``seconds``; below one, one in a longer window."""
        if rate <= 0:
            raise ValueError(f"a window needs room for a request: {rate} in {seconds} s")
        return cls(int(rate), seconds) if rate >= 1 else cls(1, seconds / rate)

    async def acquire(self) -> None:
        while True:
            now = time.monotonic()
            while self._sent and self._sent[0] <= now - self.seconds:
                self._sent.popleft()
            if len(self._sent) < self.amount:
                self._sent.append(now)
                return
            await asyncio.sleep(self._sent[0] + self.seconds - now)

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None
