"""The companies API one company at a time: values as HubSpot keeps them, and listings."""

from __future__ import annotations

import aiohttp
import pytest

from syncd.sim.hubspot import HubSpotSimulator
from tests.sim.hubspot.api import COMPANIES, call


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
