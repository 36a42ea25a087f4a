"""HubSpot's rolling window: a burst may spend it at once, and no window holds more."""

from __future__ import annotations

import asyncio
import time

import pytest

from syncd.gateways.rolling import RollingWindow

# The test reads the clock a moment after the window did: its spans may come out that
# much shorter than the window's own.
READ_LATER = 0.005


async def test_a_burst_spends_the_window_at_once_and_the_next_waits_for_the_oldest() -> None:
    window = RollingWindow(3, 0.5)
    sent = []
    for _ in range(4):
        async with window:
            sent.append(time.monotonic())

    assert sent[2] - sent[0] < 0.5  # the first three did not wait for one another
    # the fourth waited until the first left the window
    assert sent[3] - sent[0] >= 0.5 - READ_LATER


async def test_no_window_of_many_waiting_requests_holds_more_than_allowed() -> None:
    window = RollingWindow(3, 0.2)
    sent: list[float] = []

    async def request() -> None:
        await window.acquire()
        sent.append(time.monotonic())

    await asyncio.gather(*(request() for _ in range(10)))

    sent.sort()
    assert len(sent) == 10
    spans = [later - first for first, later in zip(sent, sent[3:], strict=False)]
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
