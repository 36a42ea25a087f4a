"""The gateway contract suite, against the AFAS gateway on the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from syncd.mapping import EntityMapping
from tests.gateways.afas.helpers import AfasHarness, gateway, served, simulator
from tests.gateways.contract import GatewayContract, GatewayHarness


class TestAfasGatewayContract(GatewayContract):
    @pytest.fixture(params=["round", "second"])
    async def harness(
        self, request: pytest.FixtureRequest, mappings: dict[str, EntityMapping]
    ) -> AsyncIterator[GatewayHarness]:
        sim = simulator(request.param)
        async with served(sim) as url:
            afas = gateway(url, mappings, page_size=4)
            yield AfasHarness(sim, afas, mappings)
            await afas.aclose()
