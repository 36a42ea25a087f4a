"""What a cycle holds, kept out of the cycle collector's full passes while it runs.

A cycle holds its listings, links and plans for its whole length: at 100,000 companies
per side a few million objects. Python's cycle collector walks every one of them in each
full pass, and runs one whenever a quarter more objects survived since the last: a first
cycle at that size had 18 passes of up to 0.5 s (5 s in all), the requests of both sides
waiting on each. So while any cycle runs, what survived a full pass is frozen after it
(``gc.freeze``), and so is what the process held as the cycle began: later passes leave
it out, and reference counting still frees what the cycle lets go of. Young objects are
collected first, so little garbage is frozen (each request's retry state is garbage in a
reference cycle, a few KB); what is waits until the last running cycle ends, when
everything is handed back to the collector.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

LOOK_EVERY = 0.5  # seconds between looks for a full pass since the last


class _Running:
    cycles = 0
    freezing: asyncio.Task[None] | None = None


@asynccontextmanager
async def held_still() -> AsyncIterator[None]:
    """Run a cycle (or several side by side) with what survives full passes frozen."""
    _Running.cycles += 1
    if _Running.freezing is None:
        # What the process holds as its first cycle starts (its modules, sessions and
        # mappings: a fresh process's first full pass walked them for 76 ms, during the
        # first cycle's first query) outlives the cycle too: frozen with the rest.
        _freeze()
        _Running.freezing = asyncio.ensure_future(_freeze_as_it_ages(_full_passes()))
    try:
        yield
    finally:
        _Running.cycles -= 1
        if _Running.cycles == 0 and _Running.freezing is not None:
            _Running.freezing.cancel()
            _Running.freezing = None
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
