"""A cycle's long-lived objects are left out of the collector's full passes while it runs."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from syncd.engine.speed import gc_pause
from syncd.engine.speed.gc_pause import gc_paused


async def test_what_survives_a_full_pass_is_frozen_and_handed_back_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gc_pause, "LOOK_EVERY", 0.01)
    before = [[n] for n in range(1000)]  # the process's own, from before the cycle
    async with gc_paused():
        at_start = gc.get_freeze_count()
        assert at_start >= len(before)  # frozen as the cycle begins
        held = [[n] for n in range(1000)]
        await asyncio.sleep(0.05)
        assert gc.get_freeze_count() <= at_start  # no full pass yet: the cycle's are not
        gc.collect()
        await asyncio.sleep(0.05)
        assert gc.get_freeze_count() >= at_start + len(held)
    assert gc.get_freeze_count() == 0


async def test_garbage_in_reference_cycles_is_collected_not_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gc_pause, "LOOK_EVERY", 0.01)

    class Node:
        def __init__(self) -> None:
            self.me = self  # garbage only the collector can free

    async with gc_paused():
        gc.collect()  # a full pass: the next look freezes what survived
        alive = weakref.ref(Node())  # garbage at once, in a reference cycle
        await asyncio.sleep(0.05)
        assert gc.get_freeze_count() > 0
        assert alive() is None  # collected before the freeze, not frozen with the rest


async def test_cycles_side_by_side_keep_it_frozen_until_the_last_one_ends() -> None:
    first_done = asyncio.Event()

    async def cycle(seconds: float) -> int:
        async with gc_paused():
            gc.collect()
            await asyncio.sleep(seconds)
        first_done.set()
        return gc.get_freeze_count()

    async def longer() -> int:
        async with gc_paused():
            await first_done.wait()
            await asyncio.sleep(gc_pause.LOOK_EVERY + 0.1)
            return gc.get_freeze_count()

    after_first, during_second = await asyncio.gather(cycle(gc_pause.LOOK_EVERY + 0.1), longer())
    assert after_first > 0  # the other cycle still runs: nothing handed back
    assert during_second > 0
    assert gc.get_freeze_count() == 0
