"""HubSpot's rolling window: a burst may spend it at once, and no window holds more."""

from __future__ import annotations

import asyncio
import time

import pytest

from syncd.gateways.http.rolling_window import RollingWindow

# The test reads the clock a moment after the window did: its spans may come out that
# much shorter than the window's own.
READ_LATER = 0.005


async def test_a_burst_spends_the_window_at_once_and_the_next_waits_for_the_oldest() -> None:
    window = RollingWindow(3, 0.5)
    sent, answered = [], []
    for _ in range(4):
        async with window:
            sent.append(time.monotonic())
            await asyncio.sleep(0.05)  # the request's round trip
            answered.append(time.monotonic())

    assert sent[2] - sent[0] < 0.5  # the first three did not wait for one another
    # the fourth waited until the first had left the window, counted from its answer
    assert sent[3] - answered[0] >= 0.5 - READ_LATER


async def test_a_request_answered_late_holds_its_place_until_its_answer() -> None:
    """HubSpot may count a slow request as late as its answer: the window runs from there."""
    window = RollingWindow(1, 0.2)
    started = time.monotonic()

    async def slow() -> None:
        async with window:
            await asyncio.sleep(0.3)

    async def next_one() -> float:
        await asyncio.sleep(0.01)  # after the slow one took the only place
        async with window:
            return time.monotonic() - started

    _, sent_after = await asyncio.gather(slow(), next_one())
    assert sent_after >= 0.3 + 0.2 - READ_LATER


async def test_a_failed_request_leaves_the_window_like_an_answered_one() -> None:
    window = RollingWindow(1, 0.1)
    with pytest.raises(OSError, match="reset"):
        async with window:
            raise OSError("connection reset")

    async def next_one() -> None:
        async with window:
            pass

    await asyncio.wait_for(next_one(), timeout=1.0)  # not held as if still unanswered


async def test_no_window_holds_more_than_allowed_however_late_requests_arrive() -> None:
    """Each request "arrives" at some moment of its round trip, as at HubSpot; however
    late or early, no window of the length sees more than the window allows."""
    window = RollingWindow(3, 0.2)
    arrived: list[float] = []

    async def request(index: int) -> None:
        async with window:
            arrival_delay = (index * 7 % 5) / 100  # 0 to 40 ms, mixed
            await asyncio.sleep(arrival_delay)
            arrived.append(time.monotonic())
            await asyncio.sleep(0.04 - arrival_delay)

    await asyncio.gather(*(request(index) for index in range(12)))

    arrived.sort()
    assert len(arrived) == 12
    spans = [later - first for first, later in zip(arrived, arrived[3:], strict=False)]
    assert min(spans) >= 0.2 - READ_LATER


def test_a_rate_below_one_is_one_request_in_a_longer_window() -> None:
    assert (RollingWindow.at(4.5, 1.0).amount, RollingWindow.at(4.5, 1.0).seconds) == (4, 1.0)
    half = RollingWindow.at(0.5, 1.0)
    assert (half.amount, half.seconds) == (1, 2.0)


def test_a_window_without_room_is_refused() -> None:
    with pytest.raises(ValueError, match="room"):
        RollingWindow(0, 10)
    with pytest.raises(ValueError, match="room"):
        RollingWindow(5, 0)
    with pytest.raises(ValueError, match="room"):
        RollingWindow.at(0, 1.0)
