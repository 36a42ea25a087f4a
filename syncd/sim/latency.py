"""When a simulated server answers: ``latency`` after the request came, or later if its
work takes longer.

AFAS and HubSpot work on requests side by side, so a request's work is part of its
latency, not added to it. A simulator serves every request from one thread: had it
slept the latency first and worked after, five requests arriving together would each
wait for the others' work on top of the latency.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def answer_after(latency: float, work: Awaitable[T]) -> T:
    """``work``'s answer (or error), given no sooner than ``latency`` seconds from now."""
    due = time.monotonic() + latency
    try:
        answer = await work
    except Exception:
        await _until(due)
        raise
    await _until(due)
    return answer


async def _until(due: float) -> None:
    left = due - time.monotonic()
    if left > 0:
        await asyncio.sleep(left)
