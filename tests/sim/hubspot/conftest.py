"""A HubSpot simulator served on loopback, and a client session for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from syncd.sim.hubspot import HubSpotSimulator
from tests.sim.hubspot.api import AUTH


@pytest.fixture
async def sim() -> AsyncIterator[HubSpotSimulator]:
    simulator = HubSpotSimulator()
    await simulator.start()
    yield simulator
    await simulator.close()


@pytest.fixture
async def http(sim: HubSpotSimulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=sim.url, headers=AUTH) as session:
        yield session
