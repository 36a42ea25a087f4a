"""The control API under /_sim: seeding, user edits, merges, faults, counts and settings."""

from __future__ import annotations

import aiohttp

from syncd.sim.hubspot import HubSpotSimulator
from tests.sim.hubspot.api import COMPANIES, call


async def test_the_control_api_seeds_edits_archives_restores_and_merges(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    status, seeded = await call(
        http,
        "POST",
        "/_sim/companies",
        {
            "companies": [
                {"properties": {"name": "A", "afas_roles": "customer"}},
                {"id": "123", "properties": {"name": "B"}, "modified": "2025-01-01T00:00:00Z"},
            ]
        },
    )
    assert status == 201
    a, b = seeded["ids"]
    assert b == "123"
    assert sim.company(b).properties["hs_lastmodifieddate"] == "2025-01-01T00:00:00.000Z"

    assert (await call(http, "PATCH", f"/_sim/companies/{a}", {"properties": {"city": "X"}}))[
        0
    ] == 204
    assert sim.company(a).properties["city"] == "X"
    status, refused = await call(
        http, "PATCH", f"/_sim/companies/{a}", {"properties": {"afas_roles": "both"}}
    )
    assert status == 400
    assert "INVALID_OPTION" in refused["message"]

    await call(http, "POST", f"/_sim/companies/{a}/archive")
    assert (await call(http, "GET", f"{COMPANIES}/{a}"))[0] == 404
    assert (await call(http, "GET", f"{COMPANIES}/{a}", archived="true"))[0] == 200
    await call(http, "POST", f"/_sim/companies/{a}/restore")
    assert (await call(http, "GET", f"{COMPANIES}/{a}"))[0] == 200

    status, merged = await call(http, "POST", "/_sim/merge", {"primary": a, "other": b})
    assert merged == {"id": a}
    status, read = await call(http, "GET", f"{COMPANIES}/{b}", properties="hs_merged_object_ids")
    assert read["id"] == a
    assert read["properties"]["hs_merged_object_ids"] == b
    status, raw = await call(http, "GET", f"/_sim/companies/{b}")
    assert raw["mergedInto"] == a


async def test_the_control_api_sets_faults_counts_and_settings(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    await call(http, "PATCH", "/_sim/config", {"latency": 0.01, "retry_after": True})
    await call(http, "POST", "/_sim/faults", {"method": "GET", "status": 477, "count": 2})
    assert (await call(http, "GET", COMPANIES))[0] == 477
    assert (await call(http, "GET", COMPANIES))[0] == 477
    assert (await call(http, "GET", COMPANIES))[0] == 200
    _, counts = await call(http, "GET", "/_sim/requests")
    assert counts == {"GET list": 3}
    await call(http, "DELETE", "/_sim/requests")
    assert (await call(http, "GET", "/_sim/requests"))[1] == {}

    await call(http, "PATCH", "/_sim/config", {"ten_second_limit": 1})
    await call(http, "GET", COMPANIES)
    async with http.get(COMPANIES) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "10"
        body = await response.json()
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["errorType"] == "RATE_LIMIT"
    _, config = await call(http, "GET", "/_sim/config")
    assert config["ten_second_limit"] == 1
    assert (await call(http, "PATCH", "/_sim/config", {"nonsense": 1}))[0] == 400
    await call(http, "PATCH", "/_sim/config", {"ten_second_limit": None})

    definition = {"name": "erp_code", "type": "string", "fieldType": "text"}
    assert (await call(http, "POST", "/_sim/properties", definition))[0] == 201
    _, props = await call(http, "GET", "/crm/v3/properties/companies")
    assert "erp_code" in {p["name"] for p in props["results"]}
    await call(http, "POST", "/_sim/reset")
    assert sim.portal.companies == {}
