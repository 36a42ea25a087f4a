"""A simulator answers a request its latency after it came, its work included."""

from __future__ import annotations

import asyncio
import time

import pytest

from syncd.sim.latency import answer_after

LATENCY = 0.2
EARLY = 0.005  # asyncio.sleep may wake this much before its time


async def work(seconds: float, answer: str = "done") -> str:
    await asyncio.sleep(seconds)
    return answer


async def test_quick_work_is_answered_when_the_latency_is_over() -> None:
    started = time.monotonic()
    assert await answer_after(LATENCY, work(0.0)) == "done"
    assert time.monotonic() - started >= LATENCY - EARLY


async def test_work_longer_than_the_latency_is_answered_when_done_not_later() -> None:
    started = time.monotonic()
    await answer_after(LATENCY, work(2 * LATENCY))
    took = time.monotonic() - started
    assert 2 * LATENCY - EARLY <= took < 2.5 * LATENCY  # not the work and then the latency


async def test_an_error_is_answered_after_the_latency_too() -> None:
    async def failing() -> str:
        raise ValueError("no such connector")

    started = time.monotonic()
    with pytest.raises(ValueError, match="connector"):
        await answer_after(LATENCY, failing())
    assert time.monotonic() - started >= LATENCY - EARLY
