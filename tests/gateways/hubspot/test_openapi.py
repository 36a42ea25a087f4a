"""The simulator and the gateway speak HubSpot's API as its official OpenAPI files describe it.

Every request the gateway sends and every answer the simulator gives in a busy scenario
(list, read, search, batch read/create/update/upsert/archive, merge, 207s, 404s, 400s,
429s) is checked with openapi-core against HubSpot's files in ``tests/data/hubspot/``: the
v3 file for ``/crm/v3/...`` and the 2026-03 file for the dated paths.

Two known gaps between HubSpot's files and HubSpot itself are bridged, and only those:

* the files type search ``sorts`` as a list of strings, while HubSpot's guides (and every
  client that sorts, ours included) send ``{"propertyName", "direction"}`` objects. The
  simulator accepts both; before validation a sort object is written as its name;
* the files type every property value as a string, while HubSpot answers a requested
  property that is not set with ``null`` (the simulator does too, unless its
  ``unset_as_null`` setting is off). The scenario runs both ways: with nulls (bridged by
  leaving them out before validation) and without (checked as it is).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

from syncd.mapping import KNOWN_ENTITIES, EntityMapping, load_mappings
from syncd.sim.hubspot import Exchange, Fault, HubSpotSimulator, SimConfig
from tests.gateways.contract import collect
from tests.gateways.contract.gateway_contract import ROOT, SHIPPED_MAPPINGS
from tests.gateways.hubspot.harness import HubSpotHarness, gateway_for, harness_for

SPECS = ROOT / "tests" / "data" / "hubspot"
HOST = "https://api.hubapi.com"

# openapi-core checks no OAuth2 scheme (HubSpot's files declare one beside the private app
# token) and says so on every request; the token itself is not what these tests check.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Unsupported scheme type:UserWarning:openapi_core.security.providers"
)


@pytest.fixture(scope="module")
def specs() -> dict[str, OpenAPI]:
    return {
        "v3": OpenAPI.from_file_path(str(SPECS / "companies-v3.json")),
        "2026-03": OpenAPI.from_file_path(str(SPECS / "companies-2026-03.json")),
    }


@pytest.fixture
def mappings() -> dict[str, EntityMapping]:
    return load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)


def bridged(body: Any) -> Any:
    """The one known deviation: sort objects written as the spec's strings."""
    if isinstance(body, dict) and isinstance(body.get("sorts"), list):
        sorts = [s["propertyName"] if isinstance(s, dict) else s for s in body["sorts"]]
        return {**body, "sorts": sorts}
    return body


def without_nulls(body: Any) -> Any:
    """The other known deviation: unset properties shown as null."""
    if not isinstance(body, dict):
        return body
    objects = [body, *[o for o in body.get("results", []) if isinstance(o, dict)]]
    if any(None in (o.get("properties") or {}).values() for o in objects):
        body = json.loads(json.dumps(body))
        for obj in [body, *body.get("results", [])]:
            if isinstance(obj, dict) and isinstance(obj.get("properties"), dict):
                obj["properties"] = {k: v for k, v in obj["properties"].items() if v is not None}
    return body


def check(exchange: Exchange, specs: dict[str, OpenAPI]) -> None:
    api = specs["v3"] if exchange.path.startswith("/crm/v3/") else specs["2026-03"]
    data = json.dumps(bridged(exchange.body)).encode() if exchange.body is not None else None
    request = MockRequest(
        HOST,
        exchange.method.lower(),
        exchange.path,
        args=dict(exchange.query),
        headers={"Authorization": "Bearer pat-test"},
        data=data,
    )
    api.validate_request(request)
    answer = without_nulls(exchange.response)
    body = json.dumps(answer).encode() if answer is not None else b""
    if exchange.status == 204:  # no content: the spec's 204 has no media type to check
        assert answer is None
        return
    if exchange.status >= 400:  # the spec's Error is served as */*, which openapi-core
        check_error(answer)  # does not parse: check it against the schema directly
        return
    response = MockResponse(body, status_code=exchange.status)
    api.validate_response(request, response)


def check_error(body: Any) -> None:
    spec = json.loads((SPECS / "companies-v3.json").read_text(encoding="utf-8"))
    schema = resolved({"$ref": "#/components/schemas/Error"}, spec)
    OAS30Validator(schema).validate(body)


def resolved(node: Any, spec: dict[str, Any]) -> Any:
    """``node`` with every local $ref replaced by what it points at."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in str(node["$ref"]).removeprefix("#/").split("/"):
                target = target[part]
            return resolved(target, spec)
        return {k: resolved(v, spec) for k, v in node.items()}
    if isinstance(node, list):
        return [resolved(v, spec) for v in node]
    return node


async def busy_scenario(h: HubSpotHarness) -> None:
    """A little of everything the gateway does, and some of what goes wrong."""
    hub, sim = h.hub, h.sim
    seeded = await h.seed("customer", {"name": "Seeded B.V.", "city": "Utrecht"})
    created = await hub.create("customer", {"name": "Acme B.V.", "country": "NL"}, "10001")
    await hub.update("customer", created.id, {"city": "Delft"})
    await hub.create_batch("customer", [({"name": "One"}, "10002"), ({"name": "Two"}, "10001")])
    await hub.update_batch("customer", [(seeded, {"city": "Gouda"}, None), ("42", {}, None)])
    await hub.upsert_batch("customer", [("10001", {"phone": "+31302314455"}), ("10009", {})])
    await collect(hub.changed_since("customer", None))
    await collect(hub.list_all("customer"))
    await hub.read("customer", [seeded, created.id, "9999999999"])
    await hub.find_by_correlation("customer", ["10001", "10404"])
    await hub.find_by_values("customer", "name", ["Acme B.V."])
    sim.merge(created.id, seeded)
    await hub.merged_into("customer", [seeded])
    await hub.deactivate("customer", created.id)
    await hub.read("customer", [created.id])
    sim.fail(Fault(method="POST", path="batch/read", status=429))  # the real 429 body
    await hub.read("customer", [seeded])
    with pytest.raises(Exception, match="404"):
        await hub.update("customer", "9999999999", {"city": "X"})


@pytest.mark.parametrize("unset_as_null", [True, False])
async def test_every_exchange_of_the_v3_paths_matches_the_spec(
    mappings: dict[str, EntityMapping], specs: dict[str, OpenAPI], unset_as_null: bool
) -> None:
    config = SimConfig(unset_as_null=unset_as_null)
    async with harness_for(mappings, record=True, config=config) as h:
        await busy_scenario(h)
        exchanges = [e for e in h.sim.exchanges if "/properties/" not in e.path]
    statuses = {e.status for e in exchanges}
    assert {200, 201, 204, 207, 404, 429} <= statuses
    for exchange in exchanges:
        check(exchange, specs)


async def test_every_exchange_of_the_dated_paths_matches_the_spec(
    mappings: dict[str, EntityMapping], specs: dict[str, OpenAPI]
) -> None:
    async with harness_for(mappings, record=True) as h:
        h.hub = gateway_for(h.sim.url, mappings, api_version="2026-03")
        try:
            await busy_scenario(h)
        finally:
            await h.hub.aclose()
        exchanges = [e for e in h.sim.exchanges if "/properties/" not in e.path]
    assert all(e.path.startswith("/crm/objects/2026-03/") for e in exchanges)
    for exchange in exchanges:
        check(exchange, specs)


async def test_error_bodies_match_the_spec(specs: dict[str, OpenAPI]) -> None:
    """400 (bad values, the 10,000 cap), 401 and 429 bodies, straight from the simulator."""
    import aiohttp

    sim = HubSpotSimulator(record=True, token="right")
    url = await sim.start()
    try:
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer right"}) as session:
            base = f"{url}/crm/v3/objects/companies"
            await session.post(
                base, json={"properties": {"afas_roles": "both"}, "associations": []}
            )
            search = {"filterGroups": [], "sorts": [], "properties": [], "limit": 10}
            await session.post(f"{base}/search", json={**search, "after": "10000"})
            sim.configure(search_per_second=2)  # the 400 above counts too
            for _ in range(2):
                await session.post(f"{base}/search", json={**search, "after": "0"})
            await session.get(base, headers={"Authorization": "Bearer wrong"})
    finally:
        await sim.close()
    assert [e.status for e in sim.exchanges] == [400, 400, 200, 429, 401]
    assert sim.exchanges[3].response["policyName"] == "SECONDLY"
    for exchange in sim.exchanges:
        check(exchange, specs)


def test_the_spec_files_are_in_the_repository_and_named_by_its_readme() -> None:
    """They are part of the repository, so a missing file fails the checks, never skips them."""
    readme = (SPECS / "README.md").read_text(encoding="utf-8")
    for name in (
        "companies-v3.json",
        "companies-2026-03.json",
        "contacts-v3.json",
        "contacts-2026-03.json",
        "associations-v4.json",
        "associations-2026-03.json",
    ):
        assert (SPECS / name).is_file()
        assert name in readme
