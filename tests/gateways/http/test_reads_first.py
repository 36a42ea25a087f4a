"""A side's concurrency slots: never more than allowed, waiting reads before writes."""

from __future__ import annotations

import asyncio

from syncd.gateways.http.reads_first import READ, WRITE, ReadsFirstConcurrency


async def test_never_more_at_once_than_allowed_and_reads_go_before_queued_writes() -> None:
    slots = ReadsFirstConcurrency(2)
    running = 0
    most = 0
    started: list[str] = []

    async def request(name: str, priority: int) -> None:
        nonlocal running, most
        async with slots(priority):
            started.append(name)
            running += 1
            most = max(most, running)
            await asyncio.sleep(0.01)
            running -= 1

    writes = [asyncio.create_task(request(f"write {n}", WRITE)) for n in range(6)]
    await asyncio.sleep(0.001)  # two writes hold the slots, four wait
    read = asyncio.create_task(request("read", READ))
    await asyncio.gather(*writes, read)

    assert most == 2
    assert started.index("read") == 2  # the first slot that freed
    assert started[3:] == ["write 2", "write 3", "write 4", "write 5"]  # in their order


async def test_a_waiter_that_gives_up_keeps_no_slot() -> None:
    slots = ReadsFirstConcurrency(1)
    await slots.acquire(WRITE)
    gives_up = asyncio.create_task(slots.acquire(READ))
    waits = asyncio.create_task(slots.acquire(WRITE))
    await asyncio.sleep(0)
    gives_up.cancel()
    slots.release()
    await asyncio.wait_for(waits, 1)  # the slot went past the cancelled waiter


async def test_a_slot_handed_to_a_waiter_cancelled_at_that_moment_is_passed_on() -> None:
    slots = ReadsFirstConcurrency(1)
    await slots.acquire(WRITE)
    first = asyncio.create_task(slots.acquire(WRITE))
    second = asyncio.create_task(slots.acquire(WRITE))
    await asyncio.sleep(0)
    slots.release()  # the slot is handed to ``first``, which has not run yet
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    await asyncio.wait_for(second, 1)
