"""At most so many requests in any window of so many seconds, as HubSpot counts them.

HubSpot counts a private app's requests over a rolling ten seconds (its 429 names the
policy ``TEN_SECONDLY_ROLLING``) and a portal's searches over a second, so a burst may
spend a whole window's budget at once: a first sync's list pages come as fast as HubSpot
answers, not a few a second, and so do the first search pages of a cycle's changes.
aiolimiter's leaky bucket (AFAS's optional rate) cannot allow that burst and still keep
every window under the limit, and the moving windows of ``limits`` expire their entries
from a task and a thread per request; so the window is kept here.

HubSpot counts a request when it arrives, which is some time after it was sent (the
network, HubSpot answering the requests before it) but never after its answer came. So
a request holds its place in the window until its answer and ``seconds`` after: then it
has left HubSpot's window too, however late it arrived. (Counting from the send instead
let a burst's late arrivals share a window with the next burst's early ones.)
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from types import TracebackType


class RollingWindow:
    """``async with window:`` around a request waits until it fits: fewer than ``amount``
    requests unanswered or answered in the last ``seconds``. Whoever finds room first
    goes (no queue: few requests wait at once).
    """

    def __init__(self, amount: int, seconds: float) -> None:
        if amount < 1 or seconds <= 0:
            raise ValueError(f"a window needs room for a request: {amount} in {seconds} s")
        self.amount = amount
        self.seconds = seconds
        self._unanswered = 0
        self._answered: deque[float] = deque()  # answer times, oldest first
        self._answer_waiters: list[asyncio.Future[None]] = []

    @classmethod
    def at(cls, rate: float, seconds: float) -> RollingWindow:
        """``rate`` requests in any ``seconds``; below one, one in a longer window."""
        if rate <= 0:
            raise ValueError(f"a window needs room for a request: {rate} in {seconds} s")
        return cls(int(rate), seconds) if rate >= 1 else cls(1, seconds / rate)

    async def __aenter__(self) -> None:
        while True:
            now = time.monotonic()
            while self._answered and self._answered[0] <= now - self.seconds:
                self._answered.popleft()
            if self._unanswered + len(self._answered) < self.amount:
                self._unanswered += 1
                return
            if self._answered:  # an answer given later leaves the window later
                await asyncio.sleep(self._answered[0] + self.seconds - now)
            else:
                await self._wait_for_an_answer()

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._unanswered -= 1
        self._answered.append(time.monotonic())
        waiters, self._answer_waiters = self._answer_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _wait_for_an_answer(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._answer_waiters.append(waiter)
        await waiter
