"""HubSpot's list pages come one cursor at a time; the gateway asks for the next page as
soon as it has the cursor, so that the request overlaps the current page's use."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from syncd.mapping import load_mappings
from tests.gateways.contract import collect
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS
from tests.gateways.hubspot.harness import HubSpotHarness, harness_for

ENTITY = "customer"
LIST = "GET list"


async def seeded(hs: HubSpotHarness, count: int) -> list[str]:
    return [await hs.seed(ENTITY, {"name": f"Company {n}"}) for n in range(count)]


async def lists_sent(hs: HubSpotHarness, at_least: int, tries: int = 500) -> int:
    """The list requests the simulator has seen, once it saw ``at_least`` (or ``tries``
    hundredths of a second passed)."""
    for _ in range(tries):
        if hs.sim.counts[LIST] >= at_least:
            break
        await asyncio.sleep(0.01)
    return hs.sim.counts[LIST]


async def test_the_next_page_is_asked_for_while_the_caller_holds_this_one() -> None:
    mappings = load_mappings(SHIPPED_MAPPINGS, [ENTITY])
    async with harness_for(mappings, page_size=2) as hs:
        ids = await seeded(hs, 5)
        hs.sim.counts.clear()
        pages = hs.hub.list_all(ENTITY)
        assert isinstance(pages, AsyncGenerator)

        first = await anext(pages)
        assert await lists_sent(hs, 2) == 2  # the second page, before it was asked for

        await pages.aclose()  # a caller that stops early
        assert await lists_sent(hs, 3, tries=50) == 2  # no third page, nothing left running
        assert [r.id for r in first.records] == ids[:2]

        _, listed, _ = await collect(hs.hub.list_all(ENTITY))
        assert sorted(r.id for r in listed) == sorted(ids)  # every page, each once
        assert len(listed) == len(ids)
