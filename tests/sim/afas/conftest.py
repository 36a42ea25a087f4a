"""A simulated Profit served on loopback, and a client session for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from syncd.sim.afas import AfasSimulator
from tests.gateways.afas.helpers import served, simulator


@pytest.fixture
def sim() -> AfasSimulator:
    return simulator()


@pytest.fixture
async def http(sim: AfasSimulator) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    async with served(sim) as url, aiohttp.ClientSession() as session:
        yield session, url
