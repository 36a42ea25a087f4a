"""The batch endpoints: whole failures, per-input errors, upserts, what an update answers."""

from __future__ import annotations

from typing import Any

import aiohttp

from syncd.sim.hubspot import HubSpotSimulator
from tests.sim.hubspot.api import COMPANIES, call


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
