"""What every API request goes through before its route: the Bearer token."""

from __future__ import annotations

import aiohttp

from syncd.sim.hubspot import HubSpotSimulator
from tests.sim.hubspot.api import AUTH, COMPANIES, call


async def test_a_token_is_needed_and_checked_when_given(sim: HubSpotSimulator) -> None:
    async with aiohttp.ClientSession(base_url=sim.url) as anonymous:
        status, body = await call(anonymous, "GET", COMPANIES)
    assert status == 401
    assert body["category"] == "INVALID_AUTHENTICATION"
    sim.token = "secret"
    async with aiohttp.ClientSession(base_url=sim.url, headers=AUTH) as wrong:
        assert (await call(wrong, "GET", COMPANIES))[0] == 401
