"""What a cycle holds, kept out of the cycle collector's full passes while it runs.

A cycle holds its listings, links and plans for its whole length: at 100,000 companies
per side a few million objects. Python's cycle collector walks every one of them in each
full pass, and runs one whenever a quarter more objects survived since the last: a first
cycle at that size had 18 passes of up to 0.5 s (5 s in all), the requests of both sides
waiting on each. So while any cycle runs, what is older than half a second is frozen
(``gc.freeze``): full passes leave it out, and reference counting still frees what the
cycle lets go of. Only garbage in reference cycles among the frozen objects waits, until
the last running cycle ends and everything is handed back to the collector.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

FREEZE_EVERY = 0.5  # seconds: what is younger is still collected as usual


class _Running:
    cycles = 0
    freezing: asyncio.Task[None] | None = None


@asynccontextmanager
async def held_still() -> AsyncIterator[None]:
    """Run a cycle (or several side by side) with what it holds frozen as it ages."""
    _Running.cycles += 1
    if _Running.freezing is None:
        _Running.freezing = asyncio.ensure_future(_freeze_as_it_ages())
    try:
        yield
    finally:
        _Running.cycles -= 1
        if _Running.cycles == 0 and _Running.freezing is not None:
            _Running.freezing.cancel()
            _Running.freezing = None
            gc.unfreeze()


async def _freeze_as_it_ages() -> None:
    while True:
        await asyncio.sleep(FREEZE_EVERY)
        gc.freeze()
