"""The gateway contract suite, against the HubSpot gateway on the simulator.

It runs twice: on the v3 paths with unset properties shown as ``null`` (as HubSpot
answers), and on the dated 2026-03 paths with unset properties left out (as HubSpot's
OpenAPI files describe it), so the gateway is shown to read both.

Contacts: the shipped fixture's contacts work at the fixture's companies; here each of
those companies is first made in the portal, and the samples' ``company`` is its id
there. HubSpot keeps contacts' e-mails unique, so the samples keep one contact per
e-mail, and a further contact like one created before gets its e-mail tagged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from syncd.mapping import EntityMapping
from syncd.sim.hubspot import SimConfig
from tests.gateways.contract import GatewayContract, GatewayHarness
from tests.gateways.contract.gateway_contract import Fields, shipped_samples
from tests.gateways.hubspot.harness import HubSpotHarness, harness_for


class TestHubSpotGatewayContract(GatewayContract):
    @pytest.fixture(params=[("v3", True), ("2026-03", False)], ids=["v3", "2026-03"])
    async def harness(
        self, request: pytest.FixtureRequest, mappings: dict[str, EntityMapping]
    ) -> AsyncIterator[GatewayHarness]:
        version, nulls = request.param
        config = SimConfig(unset_as_null=nulls)
        async with harness_for(mappings, page_size=4, config=config, api_version=version) as h:
            yield h

    @pytest.fixture
    async def samples(
        self, entity: str, mappings: dict[str, EntityMapping], harness: GatewayHarness
    ) -> list[Fields]:
        found = await shipped_samples(entity, mappings)
        reference = mappings[entity].reference
        if reference is None:
            return found
        assert isinstance(harness, HubSpotHarness)
        companies: dict[object, str] = {}
        emails: set[object] = set()
        at_portal: list[Fields] = []
        for fields in found:
            if fields.get("email") in emails:
                continue  # the same person, from the other side: one contact in HubSpot
            emails.add(fields.get("email"))
            company = fields.get(reference.name)
            if company is not None and company not in companies:
                companies[company] = harness.company_at(f"Company{len(companies) + 1}")
            at_portal.append({**fields, reference.name: companies.get(company)})
        return at_portal

    def another(self, entity: str, fields: Fields, number: int) -> Fields:
        email = fields.get("email")
        if entity != "contact" or not isinstance(email, str):
            return fields
        local, _, domain = email.partition("@")
        return {**fields, "email": f"{local}+{number + 1}@{domain}"}
