"""Hinted cycles: a lane's records named by webhooks, looked at soon after they come."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from syncd.daemon.lanes import Lane
from syncd.engine.hints import HintedIds


@dataclass(frozen=True)
class HintedCycles:
    """Runs a lane's hinted cycle whenever ids wait in its hints: after ``gather``, which
    lets a burst of calls come in, and under the lane's lock (after a cycle in flight).
    A lane that may not cycle now (another replica's, or backed off) drops its hints:
    polling catches up. A lane a reload retired stops being followed."""

    gather: timedelta
    stopping: asyncio.Event
    may_cycle: Callable[[Lane], bool]
    cycle: Callable[[Lane, HintedIds], Coroutine[Any, Any, None]]
    in_flight: set[asyncio.Task[None]]  # what shutdown waits for, within its grace
    followers: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self, lanes: list[Lane]) -> None:
        self.followers.extend(asyncio.create_task(self.follow(lane)) for lane in lanes)

    async def stop(self) -> None:
        """Once the cycles in flight are done: stop following."""
        for follower in self.followers:
            follower.cancel()
        await asyncio.gather(*self.followers, return_exceptions=True)

    async def follow(self, lane: Lane) -> None:
        while not self.stopping.is_set() and not lane.retired:
            await lane.hints.wait()
            await asyncio.sleep(self.gather.total_seconds())
            async with lane.lock:
                if self.stopping.is_set() or lane.retired:
                    return
                ids = lane.hints.take()
                if self.may_cycle(lane):
                    task = asyncio.create_task(self.cycle(lane, ids))
                    self.in_flight.add(task)
                    task.add_done_callback(self.in_flight.discard)
                    await asyncio.wait([task])
