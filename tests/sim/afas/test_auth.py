"""Who may call: AfasTokens well formed, and the simulator's own when it has one."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp

from syncd.gateways.afas.client import token_header
from syncd.sim.afas import AfasSimulator
from tests.gateways.afas.helpers import served
from tests.sim.afas.api import call


async def test_no_or_a_wrong_token_is_401_with_an_empty_body(http: Any) -> None:
    assert (await call(http, "GET", "metainfo", headers={}))[::2] == (401, "")
    wrong = {"Authorization": token_header("nope")}
    assert (await call(http, "GET", "metainfo", headers=wrong))[::2] == (401, "")


async def test_a_token_that_is_not_base64_is_a_500(http: Any) -> None:
    status, body, _ = await call(
        http, "GET", "metainfo", headers={"Authorization": "AfasToken <x>"}
    )
    assert status == 500
    assert body["errorNumber"] == -2147180999


async def test_standalone_any_well_formed_token_passes() -> None:
    sim = AfasSimulator()
    async with served(sim) as url, aiohttp.ClientSession() as session:
        headers = {"Authorization": token_header("anything")}
        async with session.get(f"{url}/metainfo", headers=headers) as response:
            assert response.status == 200
    assert base64.b64decode(token_header("x").split()[1]).startswith(b"<token><version>1")
