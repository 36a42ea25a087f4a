"""An independent client agrees with the simulator: HubSpot's own ``hubspot-api-client``.

The official SDK is synchronous (urllib3), so it runs in a thread against the simulator
served on a loopback port; what it lists, searches and writes is then checked from the
simulator's side and through syncd's gateway.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hubspot import HubSpot
from hubspot.crm.companies import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectId,
)

from syncd.mapping import KNOWN_ENTITIES, load_mappings
from syncd.sim.hubspot import HubSpotSimulator
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS
from tests.gateways.hubspot.harness import gateway_for


def use_the_sdk(url: str, seeded: list[str]) -> dict[str, Any]:
    """List, search, batch-create, batch-update and batch-read companies with the SDK."""
    companies = HubSpot(access_token="pat-eu1-00000000-0000", host=url).crm.companies
    seen: dict[str, Any] = {}

    listed, after = [], None
    while True:
        page = companies.basic_api.get_page(
            limit=2, after=after, properties=["name", "afas_roles"], archived=False
        )
        listed += [(c.id, c.properties["name"]) for c in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    seen["listed"] = listed
    seen["get_all"] = [c.id for c in companies.get_all(properties=["name"])]

    created = companies.batch_api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[
                SimplePublicObjectBatchInputForCreate(
                    properties={"name": f"SDK {n}", "afas_roles": "supplier"}, associations=[]
                )
                for n in range(3)
            ]
        )
    )
    seen["created"] = sorted(c.id for c in created.results)

    updated = companies.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                SimplePublicObjectBatchInput(id=i, properties={"city": "Delft"})
                for i in seen["created"]
            ]
        )
    )
    seen["updated"] = sorted((c.id, c.properties["city"]) for c in updated.results)

    found = companies.search_api.do_search(
        PublicObjectSearchRequest(
            filter_groups=[
                FilterGroup(
                    filters=[Filter(property_name="afas_roles", operator="IN", values=["supplier"])]
                )
            ],
            sorts=["hs_object_id"],
            properties=["name", "city"],
            limit=2,
            after="0",
        )
    )
    seen["search_total"] = found.total
    seen["search_page"] = [(c.id, c.properties["city"]) for c in found.results]
    seen["search_next"] = found.paging.next.after

    read = companies.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=seeded[0]), SimplePublicObjectId(id="1")],
            properties=["name"],
            properties_with_history=[],
        )
    )
    seen["read"] = [c.id for c in read.results]
    seen["read_errors"] = [e.category for e in read.errors or []]
    return seen


async def test_the_official_client_lists_searches_and_batch_writes() -> None:
    sim = HubSpotSimulator()
    url = await sim.start()
    try:
        seeded = [sim.seed({"name": f"Seeded {n}", "afas_roles": "customer"}) for n in range(3)]
        seen = await asyncio.to_thread(use_the_sdk, url, seeded)

        assert seen["listed"] == [(i, f"Seeded {n}") for n, i in enumerate(seeded)]
        assert seen["get_all"] == seeded
        assert len(seen["created"]) == 3
        assert seen["updated"] == [(i, "Delft") for i in seen["created"]]
        assert seen["search_total"] == 3
        assert seen["search_page"] == [(i, "Delft") for i in seen["created"][:2]]
        assert seen["search_next"] == "2"
        assert seen["read"] == [seeded[0]]
        assert seen["read_errors"] == ["OBJECT_NOT_FOUND"]
        assert sim.counts["POST batch/create"] == 1

        # what the SDK wrote, syncd's gateway reads as suppliers
        mappings = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
        hub = gateway_for(url, mappings)
        try:
            page = await hub.read("supplier", seen["created"])
            assert [r.fields["city"] for r in page.records] == ["Delft"] * 3
        finally:
            await hub.aclose()
    finally:
        await sim.close()
