"""Paged reads: the next page asked for before the caller has this one; chunks at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from syncd.gateways.http.pages_ahead import HeadStart, read_ahead, side_by_side


async def test_the_next_request_is_under_way_before_a_page_is_handed_over() -> None:
    started: list[int] = []

    async def page(n: int) -> int:
        started.append(n)
        await asyncio.sleep(0.01)
        return n

    pages = read_ahead(page(0), lambda n: page(n + 1) if n < 2 else None)
    assert await anext(pages) == 0
    assert started == [0, 1]  # nothing awaited since: page 1 was asked for before page 0 came
    assert [n async for n in pages] == [1, 2]
    assert started == [0, 1, 2]


async def test_side_by_side_runs_at_once_and_the_first_error_stops_the_rest() -> None:
    running: set[str] = set()
    met: list[set[str]] = []
    finished: list[str] = []

    async def read(name: str, seconds: float, fail: bool = False) -> str:
        running.add(name)
        await asyncio.sleep(seconds)
        met.append(set(running))
        running.discard(name)
        if fail:
            raise ValueError(name)
        finished.append(name)
        return name

    assert await side_by_side([read("a", 0.02), read("b", 0.01)]) == ["a", "b"]  # in order
    assert {"a", "b"} in met  # under way together

    with pytest.raises(ValueError, match="bad"):
        await side_by_side([read("slow", 0.5), read("bad", 0.01, fail=True)])
    await asyncio.sleep(0.6)
    assert "slow" not in finished  # stopped, not left running


async def test_a_head_start_asks_for_the_first_item_before_it_is_wanted() -> None:
    asked: list[int] = []

    async def items(count: int) -> AsyncIterator[int]:
        for n in range(count):
            asked.append(n)
            yield n

    listing = HeadStart(items(3))
    await asyncio.sleep(0)  # the caller's other work
    assert asked == [0]
    assert [n async for n in listing] == [0, 1, 2]
    assert [n async for n in HeadStart(items(0))] == []


async def test_a_head_start_closed_early_stops_its_first_request() -> None:
    stopped = asyncio.Event()

    async def items() -> AsyncIterator[int]:
        try:
            await asyncio.Event().wait()  # a first page that does not come
            yield 0
        finally:
            stopped.set()

    listing = HeadStart(items())
    await asyncio.sleep(0)
    await listing.aclose()
    assert stopped.is_set()
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]


async def test_a_head_start_raises_the_first_requests_error_when_it_is_wanted() -> None:
    async def items() -> AsyncIterator[int]:
        raise ValueError("503 on the first page")
        yield 0

    listing = HeadStart(items())
    await asyncio.sleep(0)
    with pytest.raises(ValueError, match="503"):
        await anext(listing)
