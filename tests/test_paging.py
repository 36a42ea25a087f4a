"""Paged reads: the next page asked for before the caller has this one; chunks at once."""

from __future__ import annotations

import asyncio

import pytest

from syncd.gateways.paging import read_ahead, side_by_side


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
