"""The gateway contract suite, against the HubSpot gateway on the simulator.

It runs twice: on the v3 paths with unset properties shown as ``null`` (as HubSpot
answers), and on the dated 2026-03 paths with unset properties left out (as HubSpot's
OpenAPI files describe it), so the gateway is shown to read both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from syncd.mapping import EntityMapping
from syncd.sim.hubspot import SimConfig
from tests.gateways.contract import GatewayContract, GatewayHarness
from tests.gateways.hubspot.harness import harness_for


class TestHubSpotGatewayContract(GatewayContract):
    @pytest.fixture(params=[("v3", True), ("2026-03", False)], ids=["v3", "2026-03"])
    async def harness(
        self, request: pytest.FixtureRequest, mappings: dict[str, EntityMapping]
    ) -> AsyncIterator[GatewayHarness]:
        version, nulls = request.param
        config = SimConfig(unset_as_null=nulls)
        async with harness_for(mappings, page_size=4, config=config, api_version=version) as h:
            yield h
