"""The gateway contract suite, against the AFAS gateway on the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from syncd.mapping import EntityMapping
from tests.gateways.afas.helpers import AfasHarness, gateway, served, simulator
from tests.gateways.contract import GatewayContract, shipped_samples
from tests.gateways.contract.gateway_contract import Fields


class TestAfasGatewayContract(GatewayContract):
    @pytest.fixture(params=["round", "second"])
    async def harness(
        self, request: pytest.FixtureRequest, mappings: dict[str, EntityMapping]
    ) -> AsyncIterator[AfasHarness]:
        sim = simulator(request.param)
        async with served(sim) as url:
            afas = gateway(url, mappings, page_size=4)
            yield AfasHarness(sim, afas, mappings)
            await afas.aclose()

    @pytest.fixture
    async def samples(
        self, entity: str, mappings: dict[str, EntityMapping], harness: AfasHarness
    ) -> list[Fields]:
        """The shipped samples; contacts all at one organisation that exists (a contact
        is added under its organisation, and a change of it is a move, not an update)."""
        found = await shipped_samples(entity, mappings)
        reference = mappings[entity].reference
        if reference is None:
            return found
        return [{**sample, reference.name: harness.organisation()} for sample in found]

    @pytest.fixture
    def required(self, entity: str, mappings: dict[str, EntityMapping]) -> tuple[str, ...]:
        """A contact is added under its organisation, with a new person, who needs a
        last name (the simulator's assumption, docs/afas-setup.md)."""
        reference = mappings[entity].reference
        return () if reference is None else (reference.name, "last_name")
