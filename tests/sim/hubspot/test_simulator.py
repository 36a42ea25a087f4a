"""The simulator on its own: the control API, search, batches and running it standalone."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from syncd.sim.hubspot import HubSpotSimulator, SimConfig, load_seed
from tests.gateways.contract.gateway_contract import ROOT, SHIPPED_FIXTURE

AUTH = {"Authorization": "Bearer pat-na1-any"}
COMPANIES = "/crm/v3/objects/companies"


@pytest.fixture
async def sim() -> AsyncIterator[HubSpotSimulator]:
    simulator = HubSpotSimulator()
    await simulator.start()
    yield simulator
    await simulator.close()


@pytest.fixture
async def http(sim: HubSpotSimulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=sim.url, headers=AUTH) as session:
        yield session


async def call(
    http: aiohttp.ClientSession, method: str, path: str, body: Any = None, **params: str
) -> tuple[int, Any]:
    async with http.request(method, path, json=body, params=params or None) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None


async def search(http: aiohttp.ClientSession, *filters: dict[str, Any], **extra: Any) -> Any:
    body = {"filterGroups": [{"filters": list(filters)}] if filters else [], **extra}
    status, answer = await call(http, "POST", f"{COMPANIES}/search", body)
    assert status == 200, answer
    return answer


# -- the control API ------------------------------------------------------------------------


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


async def test_a_token_is_needed_and_checked_when_given(sim: HubSpotSimulator) -> None:
    async with aiohttp.ClientSession(base_url=sim.url) as anonymous:
        status, body = await call(anonymous, "GET", COMPANIES)
    assert status == 401
    assert body["category"] == "INVALID_AUTHENTICATION"
    sim.token = "secret"
    async with aiohttp.ClientSession(base_url=sim.url, headers=AUTH) as wrong:
        assert (await call(wrong, "GET", COMPANIES))[0] == 401


# -- objects, lists and batches ------------------------------------------------------------


async def test_companies_are_never_deduplicated_and_values_are_strings(
    http: aiohttp.ClientSession,
) -> None:
    body = {"properties": {"name": "Acme", "domain": "acme.nl"}, "associations": []}
    first = (await call(http, "POST", COMPANIES, body))[1]
    second = (await call(http, "POST", COMPANIES, body))[1]
    assert first["id"] != second["id"]
    assert isinstance(first["properties"]["hs_object_id"], str)
    _, read = await call(http, "GET", f"{COMPANIES}/{first['id']}", properties="name,phone")
    assert read["properties"]["phone"] is None
    patch = {"properties": {"name": "", "numberofemployees": "12"}}
    _, patched = await call(http, "PATCH", f"{COMPANIES}/{first['id']}", patch)
    assert "name" not in patched["properties"]  # "" cleared it
    assert patched["properties"]["numberofemployees"] == "12"


@pytest.mark.parametrize(
    ("properties", "error"),
    [
        ({"nope": "x"}, "PROPERTY_DOESNT_EXIST"),
        ({"hs_lastmodifieddate": "1"}, "READ_ONLY_VALUE"),
        ({"numberofemployees": "twelve"}, "INVALID_DECIMAL"),
        ({"afas_customer_since": "2025-03-01T10:00:00Z"}, "INVALID_DATE"),
        ({"afas_automatic_payment": "yes"}, "INVALID_BOOLEAN"),
        ({"payment_terms": "net_90"}, "INVALID_OPTION"),
    ],
)
async def test_bad_values_are_refused_like_hubspot_does(
    http: aiohttp.ClientSession, properties: dict[str, str], error: str
) -> None:
    status, body = await call(http, "POST", COMPANIES, {"properties": properties})
    assert status == 400
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Property values were not valid: ")
    assert error in body["message"]
    assert body["errors"][0]["in"] == next(iter(properties))


async def test_list_pages_with_an_opaque_cursor_and_lists_archived_apart(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    ids = [sim.seed({"name": f"C{n}"}) for n in range(5)]
    sim.archive(ids[1])
    seen, after = [], None
    while True:
        params = {"limit": "2", **({"after": after} if after else {})}
        _, page = await call(http, "GET", COMPANIES, **params)
        seen += [c["id"] for c in page["results"]]
        if "paging" not in page:
            break
        after = page["paging"]["next"]["after"]
        assert not after.isdigit()
    assert seen == [ids[0], *ids[2:]]
    _, archived = await call(http, "GET", COMPANIES, archived="true")
    assert [c["id"] for c in archived["results"]] == [ids[1]]
    assert archived["results"][0]["archived"] is True
    assert (await call(http, "GET", COMPANIES, limit="101"))[0] == 400


async def test_batch_create_without_trace_ids_fails_whole_and_upsert_needs_a_unique_property(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    inputs = [{"properties": {"name": "ok"}}, {"properties": {"payment_terms": "x"}}]
    status, _ = await call(http, "POST", f"{COMPANIES}/batch/create", {"inputs": inputs})
    assert status == 400
    assert sim.portal.companies == {}
    too_many: dict[str, Any] = {"inputs": [{"properties": {}}] * 101}
    assert (await call(http, "POST", f"{COMPANIES}/batch/create", too_many))[0] == 400
    upsert = {"inputs": [{"id": "x", "idProperty": "name", "properties": {}}]}
    assert (await call(http, "POST", f"{COMPANIES}/batch/upsert", upsert))[0] == 400
    upsert = {"inputs": [{"id": "10001", "idProperty": "afas_debtor_number", "properties": {}}]}
    status, done = await call(http, "POST", f"{COMPANIES}/batch/upsert", upsert)
    assert status == 200
    assert done["results"][0]["new"] is True
    status, again = await call(http, "POST", f"{COMPANIES}/batch/upsert", upsert)
    assert again["results"][0]["new"] is False
    status, _ = await call(
        http, "POST", f"{COMPANIES}/batch/archive", {"inputs": [{"id": done["results"][0]["id"]}]}
    )
    assert status == 204
    assert list(sim.portal.live()) == []


async def test_batch_update_answers_with_the_properties_written_as_stored(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    company = sim.seed({"name": "Acme", "city": "Utrecht"})
    inputs = [{"id": company, "properties": {"city": "", "afas_automatic_payment": "TRUE"}}]
    status, done = await call(http, "POST", f"{COMPANIES}/batch/update", {"inputs": inputs})
    assert status == 200
    properties = done["results"][0]["properties"]
    assert set(properties) == {
        "city",
        "afas_automatic_payment",
        "hs_object_id",
        "createdate",
        "hs_lastmodifieddate",
    }
    assert properties["city"] is None  # cleared
    assert properties["afas_automatic_payment"] == "true"  # as stored, not as written
    assert sim.company(company).properties["name"] == "Acme"


# -- search --------------------------------------------------------------------------------


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


# -- standalone -----------------------------------------------------------------------------


def test_a_syncd_fixture_seeds_one_company_per_hubspot_id() -> None:
    seeds = load_seed(SHIPPED_FIXTURE)
    ids = [s["id"] for s in seeds]
    assert len(ids) == len(set(ids))
    fixture = json.loads(SHIPPED_FIXTURE.read_text(encoding="utf-8"))
    assert set(ids) == {r["hs_object_id"] for rows in fixture["crm"].values() for r in rows}
    roles = {s["properties"].get("afas_roles") for s in seeds}
    assert roles <= {"customer", "supplier", "customer;supplier"}


async def test_serve_runs_standalone_seeded_and_with_a_token(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["--port", str(port), "--seed", str(SHIPPED_FIXTURE), "--token", "t0ken"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "syncd.sim.hubspot", *args, env=env, cwd=tmp_path
    )
    try:
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer t0ken"}) as http:
            for _ in range(100):
                try:
                    async with http.get(f"{url}{COMPANIES}?limit=100") as response:
                        body = await response.json()
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("the simulator did not start")
            assert len(body["results"]) == len(load_seed(SHIPPED_FIXTURE))
            async with http.get(f"{url}/_sim/config") as response:
                assert (await response.json())["ten_second_limit"] == 100
        async with (
            aiohttp.ClientSession(headers=AUTH) as other,
            other.get(f"{url}{COMPANIES}") as response,
        ):
            assert response.status == 401
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=10)
