"""Search: operators, sorts, paging, its limits, and the lag before it sees a write."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from syncd.sim.hubspot import HubSpotSimulator, SimConfig
from tests.sim.hubspot.api import AUTH, COMPANIES, call, search


async def test_search_operators_sorts_and_paging(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    a = sim.seed({"name": "Alpha Bakery", "numberofemployees": "5", "afas_roles": "customer"})
    b = sim.seed({"name": "Beta", "numberofemployees": "50", "afas_roles": "customer;supplier"})
    c = sim.seed({"name": "Gamma", "afas_roles": "supplier"})

    def ids(answer: Any) -> list[str]:
        return [r["id"] for r in answer["results"]]

    f = {"propertyName": "afas_roles", "operator": "IN", "values": ["customer"]}
    assert ids(await search(http, f)) == [a, b]
    f = {"propertyName": "afas_roles", "operator": "NOT_IN", "values": ["customer"]}
    assert ids(await search(http, f)) == [c]
    f = {
        "propertyName": "numberofemployees",
        "operator": "BETWEEN",
        "value": "6",
        "highValue": "60",
    }
    assert ids(await search(http, f)) == [b]
    f = {"propertyName": "numberofemployees", "operator": "HAS_PROPERTY"}
    assert ids(await search(http, f)) == [a, b]
    f = {"propertyName": "numberofemployees", "operator": "NOT_HAS_PROPERTY"}
    assert ids(await search(http, f)) == [c]
    f = {"propertyName": "name", "operator": "CONTAINS_TOKEN", "value": "bakery"}
    assert ids(await search(http, f)) == [a]
    f = {"propertyName": "name", "operator": "EQ", "value": "beta"}
    assert ids(await search(http, f)) == [b]
    f = {"propertyName": "hs_object_id", "operator": "GT", "value": a}
    assert ids(await search(http, f)) == [b, c]
    desc = [{"propertyName": "name", "direction": "DESCENDING"}]
    assert ids(await search(http, sorts=desc)) == [c, b, a]
    assert ids(await search(http, sorts=["-name"])) == [c, b, a]
    assert ids(await search(http, query="gam")) == [c]
    paged = await search(http, limit=2, after="0")
    assert paged["total"] == 3
    assert paged["paging"]["next"]["after"] == "2"
    assert ids(await search(http, limit=2, after="2")) == [c]
    default = await search(http, limit=1)
    assert set(default["results"][0]["properties"]) == {
        "name",
        "domain",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    }


async def test_search_refuses_too_many_filters_and_pages_too_big(
    http: aiohttp.ClientSession,
) -> None:
    f = {"propertyName": "name", "operator": "HAS_PROPERTY"}
    groups = {"filterGroups": [{"filters": [f]}] * 6}
    assert (await call(http, "POST", f"{COMPANIES}/search", groups))[0] == 400
    seven = {"filterGroups": [{"filters": [f] * 7}]}
    assert (await call(http, "POST", f"{COMPANIES}/search", seven))[0] == 400
    assert (await call(http, "POST", f"{COMPANIES}/search", {"limit": 201}))[0] == 400


async def test_search_sees_writes_only_after_the_lag(http: aiohttp.ClientSession) -> None:
    sim = HubSpotSimulator(config=SimConfig(search_lag=0.2))
    await sim.start()
    try:
        async with aiohttp.ClientSession(base_url=sim.url, headers=AUTH) as lagging:
            body = {"properties": {"name": "New"}}
            created = (await call(lagging, "POST", COMPANIES, body))[1]
            assert (await search(lagging))["total"] == 0
            await asyncio.sleep(0.25)
            assert [r["id"] for r in (await search(lagging))["results"]] == [created["id"]]
            await call(lagging, "DELETE", f"{COMPANIES}/{created['id']}")
            assert (await search(lagging))["total"] == 1  # archiving lags too
            await asyncio.sleep(0.25)
            assert (await search(lagging))["total"] == 0
    finally:
        await sim.close()


async def test_writes_are_shown_to_search_in_the_background_once_due(
    http: aiohttp.ClientSession,
) -> None:
    """A search does not pay for showing the writes before it: the simulator, like
    HubSpot, indexes them apart from the requests (a few hundred at a time)."""
    sim = HubSpotSimulator(config=SimConfig(search_lag=0.1))
    await sim.start()
    try:
        async with aiohttp.ClientSession(base_url=sim.url, headers=AUTH) as client:
            for n in range(450):
                await call(client, "POST", COMPANIES, {"properties": {"name": f"New {n}"}})
            await asyncio.sleep(0.4)  # no search meanwhile
            assert sim.portal.view_version >= 450  # each write shown
            assert (await search(client))["total"] == 450
    finally:
        await sim.close()
