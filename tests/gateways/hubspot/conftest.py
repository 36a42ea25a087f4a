"""Fixtures of the HubSpot gateway tests: the shipped mappings, and the gateway on a
simulator (a test module may define its own)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from syncd.mapping import KNOWN_ENTITIES, EntityMapping, load_mappings
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS
from tests.gateways.hubspot.harness import HubSpotHarness, harness_for


@pytest.fixture
def mappings() -> dict[str, EntityMapping]:
    return load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)


@pytest.fixture
async def hs(mappings: dict[str, EntityMapping]) -> AsyncIterator[HubSpotHarness]:
    async with harness_for(mappings, page_size=100) as harness:
        yield harness
