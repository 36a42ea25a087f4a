"""Contacts: served as companies are, kept apart from them, modified in
``lastmodifieddate``, and unique by e-mail (HubSpot's 409 naming the existing contact)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from syncd.sim.hubspot import HubSpotSimulator, SimConfig
from syncd.sim.hubspot.kinds import CONTACTS as CONTACTS_KIND
from tests.sim.hubspot.api import AUTH, COMPANIES, CONTACTS, call


def conflict_with(contact_id: str) -> dict[str, Any]:
    """HubSpot's 409 body for a taken e-mail, less its random correlation id."""
    return {
        "status": "error",
        "message": f"Contact already exists. Existing ID: {contact_id}",
        "category": "CONFLICT",
    }


def without_correlation(body: dict[str, Any]) -> dict[str, Any]:
    assert body["correlationId"]
    return {k: v for k, v in body.items() if k != "correlationId"}


async def contacts_search(http: aiohttp.ClientSession, **body: Any) -> Any:
    status, answer = await call(http, "POST", f"{CONTACTS}/search", body)
    assert status == 200, answer
    return answer


async def test_contacts_are_listed_read_updated_and_archived_apart_from_companies(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    sim.seed({"name": "Acme"})
    body = {"properties": {"firstname": "Jan", "lastname": "de Vries", "email": "jan@acme.nl"}}
    status, created = await call(http, "POST", CONTACTS, body)
    assert status == 201
    assert set(created["properties"]) >= {"hs_object_id", "createdate", "lastmodifieddate"}
    assert "hs_lastmodifieddate" not in created["properties"]
    for n in range(2):
        await call(http, "POST", CONTACTS, {"properties": {"email": f"p{n}@acme.nl"}})
    status, page = await call(http, "GET", CONTACTS, limit="2")
    assert [r["properties"]["email"] for r in page["results"]] == ["jan@acme.nl", "p0@acme.nl"]
    assert set(page["results"][0]["properties"]) == {
        "firstname",
        "lastname",
        "email",
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
    }
    after = page["paging"]["next"]["after"]
    _, rest = await call(http, "GET", CONTACTS, limit="2", after=after)
    assert [r["properties"]["email"] for r in rest["results"]] == ["p1@acme.nl"]
    assert "paging" not in rest
    contact = created["id"]
    patch = {"properties": {"jobtitle": "Inkoper", "afas_contact_id": "C-100"}}
    _, patched = await call(http, "PATCH", f"{CONTACTS}/{contact}", patch)
    assert patched["properties"]["lastmodifieddate"] > created["properties"]["lastmodifieddate"]
    _, by_afas = await call(http, "GET", f"{CONTACTS}/C-100", idProperty="afas_contact_id")
    assert by_afas["id"] == contact
    assert (await call(http, "DELETE", f"{CONTACTS}/{contact}"))[0] == 204
    assert (await call(http, "GET", f"{CONTACTS}/{contact}"))[0] == 404
    _, archived = await call(http, "GET", f"{CONTACTS}/{contact}", archived="true")
    assert archived["archived"] is True
    _, companies = await call(http, "GET", COMPANIES)
    assert [c["properties"]["name"] for c in companies["results"]] == ["Acme"]
    assert sim.counts["contacts GET list"] == 2


async def test_a_taken_email_is_a_409_naming_the_existing_contact(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    existing = sim.seed_contact({"email": "jan@acme.nl"})
    other = sim.seed_contact({"email": "piet@acme.nl"})
    status, answer = await call(http, "POST", CONTACTS, {"properties": {"email": "JAN@acme.nl"}})
    assert status == 409
    assert without_correlation(answer) == conflict_with(existing)
    patch = {"properties": {"email": "jan@acme.nl"}}
    status, answer = await call(http, "PATCH", f"{CONTACTS}/{other}", patch)
    assert status == 409
    assert without_correlation(answer) == conflict_with(existing)
    # writing a contact's own e-mail again is no conflict
    assert (await call(http, "PATCH", f"{CONTACTS}/{existing}", patch))[0] == 200
    assert sim.contact(other).properties["email"] == "piet@acme.nl"
    # an e-mail given up is free again
    await call(http, "PATCH", f"{CONTACTS}/{existing}", {"properties": {"email": "j@acme.nl"}})
    status, _ = await call(http, "POST", CONTACTS, {"properties": {"email": "jan@acme.nl"}})
    assert status == 201


async def test_a_batch_create_with_a_taken_email_fails_whole_with_the_409(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    existing = sim.seed_contact({"email": "jan@acme.nl"})
    inputs = [
        {"properties": {"email": "new@acme.nl"}, "objectWriteTraceId": "1"},
        {"properties": {"email": "jan@acme.nl"}, "objectWriteTraceId": "2"},
    ]
    status, answer = await call(http, "POST", f"{CONTACTS}/batch/create", {"inputs": inputs})
    assert status == 409
    assert without_correlation(answer) == conflict_with(existing)
    assert [c.id for c in sim.contacts.live()] == [existing]  # nothing created
    update = {"inputs": [{"id": existing, "properties": {"email": "x@acme.nl"}}]}
    other = sim.seed_contact({"email": "piet@acme.nl"})
    update["inputs"].append({"id": other, "properties": {"email": "x@acme.nl"}})
    status, answer = await call(http, "POST", f"{CONTACTS}/batch/update", update)
    assert status == 207
    assert [r["id"] for r in answer["results"]] == [existing]
    assert answer["errors"][0]["category"] == "CONFLICT"
    assert answer["errors"][0]["context"] == {"ids": [other]}


async def test_an_archived_contacts_email_is_free_but_its_restore_then_is_refused(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    old = sim.seed_contact({"email": "jan@acme.nl"}, archived=True)
    status, created = await call(http, "POST", CONTACTS, {"properties": {"email": "jan@acme.nl"}})
    assert status == 201
    status, answer = await call(http, "POST", f"/_sim/contacts/{old}/restore")
    assert status == 409
    assert answer["message"] == f"Contact already exists. Existing ID: {created['id']}"


async def test_contacts_batch_read_upsert_by_email_and_the_hundred_input_cap(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    jan = sim.seed_contact({"email": "jan@acme.nl"})
    read = {"inputs": [{"id": jan}, {"id": "404"}], "properties": ["email"]}
    status, answer = await call(http, "POST", f"{CONTACTS}/batch/read", read)
    assert status == 207
    assert answer["errors"][0]["message"].startswith("Could not get some CONTACT objects")
    upsert = {
        "inputs": [
            {"id": "jan@acme.nl", "idProperty": "email", "properties": {"firstname": "Jan"}},
            {"id": "kees@acme.nl", "idProperty": "email", "properties": {}},
        ]
    }
    status, answer = await call(http, "POST", f"{CONTACTS}/batch/upsert", upsert)
    assert status == 200
    assert [(r["id"] == jan, r["new"]) for r in answer["results"]] == [(True, False), (False, True)]
    too_many: dict[str, Any] = {"inputs": [{"properties": {}}] * 101}
    assert (await call(http, "POST", f"{CONTACTS}/batch/create", too_many))[0] == 400


async def test_contact_properties_hold_email_and_the_unique_afas_contact_id(
    http: aiohttp.ClientSession,
) -> None:
    for path in ("/crm/v3/properties/contacts", "/crm/properties/2026-03/contacts"):
        status, answer = await call(http, "GET", path)
        assert status == 200
        by_name = {p["name"]: p for p in answer["results"]}
        assert by_name["afas_contact_id"]["hasUniqueValue"] is True
        assert by_name["lastmodifieddate"]["modificationMetadata"]["readOnlyValue"] is True
        assert {"email", "firstname", "lastname", "phone", "mobilephone", "jobtitle"} <= set(
            by_name
        )
        assert "name" not in by_name  # a company property


async def test_contacts_search_honours_lastmodifieddate_not_hs_lastmodifieddate(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    first = sim.seed_contact({"email": "a@acme.nl", "firstname": "Anna"})
    second = sim.seed_contact({"email": "b@acme.nl", "firstname": "Bram"})
    since = sim.contact(second).properties["lastmodifieddate"]
    window = {
        "filterGroups": [
            {"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": since}]}
        ],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
    }
    answer = await contacts_search(http, **window)
    assert [r["id"] for r in answer["results"]] == [second]
    assert answer["results"][0]["updatedAt"] == since
    assert set(answer["results"][0]["properties"]) == {
        "firstname",
        "lastname",
        "email",
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
    }
    wrong = {
        "filterGroups": [
            {"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "0"}]}
        ]
    }
    assert (await contacts_search(http, **wrong))["total"] == 0
    assert [r["id"] for r in (await contacts_search(http, query="anna"))["results"]] == [first]
    assert (await contacts_search(http, limit=200))["total"] == 2
    assert (await call(http, "POST", f"{CONTACTS}/search", {"limit": 201}))[0] == 400
    assert sim.counts["contacts POST search"] == 5  # the refused one counts too


async def test_contacts_search_sees_writes_only_after_the_lag() -> None:
    sim = HubSpotSimulator(config=SimConfig(search_lag=0.2))
    await sim.start()
    try:
        async with aiohttp.ClientSession(base_url=sim.url, headers=AUTH) as lagging:
            body = {"properties": {"email": "new@acme.nl"}}
            created = (await call(lagging, "POST", CONTACTS, body))[1]
            assert (await contacts_search(lagging))["total"] == 0
            await asyncio.sleep(0.25)
            found = (await contacts_search(lagging))["results"]
            assert [r["id"] for r in found] == [created["id"]]
    finally:
        await sim.close()


async def test_the_control_api_seeds_edits_associates_archives_and_resets_contacts(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    acme = sim.seed({"name": "Acme"})
    seed = {"contacts": [{"properties": {"email": "jan@acme.nl"}, "modified": "2024-01-02"}]}
    status, answer = await call(http, "POST", "/_sim/contacts", seed)
    assert status == 201
    jan = answer["ids"][0]
    _, stored = await call(http, "GET", f"/_sim/contacts/{jan}")
    assert stored["properties"]["lastmodifieddate"] == "2024-01-02T00:00:00.000Z"
    edit = {"properties": {"jobtitle": "Inkoper"}}
    assert (await call(http, "PATCH", f"/_sim/contacts/{jan}", edit))[0] == 204
    assert sim.contact(jan).properties["jobtitle"] == "Inkoper"
    link = {"contact": jan, "company": acme, "primary": True}
    assert (await call(http, "POST", "/_sim/associations", link))[0] == 204
    assert [(a.id, a.primary) for a in sim.associations.of(CONTACTS_KIND, jan)] == [(acme, True)]
    assert (await call(http, "POST", f"/_sim/contacts/{jan}/archive"))[0] == 204
    assert (await call(http, "GET", f"{CONTACTS}/{jan}"))[0] == 404
    assert (await call(http, "POST", "/_sim/reset"))[0] == 204
    assert sim.contacts.companies == {}
    assert "email" in sim.contacts.properties  # a reset keeps the contact properties
