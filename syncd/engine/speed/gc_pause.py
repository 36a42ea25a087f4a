"""Keep what a cycle holds out of the garbage collector's full passes while it runs.

A cycle holds its listings, links and plans for its whole length, and every full pass of
the cycle collector walks all of them while the requests of both sides wait. So while any
cycle runs, what survived a full pass is frozen after it (``gc.freeze``), and so is what
the process held as the cycle began; reference counting still frees what the cycle lets
go of. Young objects are collected before each freeze, so little garbage is frozen, and
everything goes back to the collector when the last running cycle ends.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

LOOK_EVERY = 0.5  # seconds between looks for a full pass since the last


class _RunningCycles:
    count = 0
    freezing: asyncio.Task[None] | None = None


@asynccontextmanager
async def gc_paused() -> AsyncIterator[None]:
    """Run a cycle (or several side by side) with what survives full passes frozen."""
    _RunningCycles.count += 1
    if _RunningCycles.freezing is None:
        # What the process holds as its first cycle starts (modules, sessions, mappings)
        # outlives the cycle too: frozen with the rest.
        _freeze()
        _RunningCycles.freezing = asyncio.ensure_future(_freeze_as_it_ages(_full_passes()))
    try:
        yield
    finally:
        _RunningCycles.count -= 1
        if _RunningCycles.count == 0 and _RunningCycles.freezing is not None:
            _RunningCycles.freezing.cancel()
            _RunningCycles.freezing = None
            gc.unfreeze()


async def _freeze_as_it_ages(passes: int) -> None:
    while True:
        await asyncio.sleep(LOOK_EVERY)
        if _full_passes() != passes:
            _freeze()
            passes = _full_passes()


def _freeze() -> None:
    gc.collect(1)  # the young garbage, not frozen with the survivors
    gc.freeze()


def _full_passes() -> int:
    return int(gc.get_stats()[2]["collections"])
