"""Associations v4 between contacts and companies: HubSpot's type ids in both directions,
one primary company per contact, batch read/create/archive, the default association, and
what archiving, restoring and merging do to them."""

from __future__ import annotations

from typing import Any

import aiohttp

from syncd.sim.hubspot import Fault, HubSpotSimulator
from tests.sim.hubspot.api import ASSOCIATIONS, COMPANIES, CONTACTS, call

TO_COMPANIES = f"{ASSOCIATIONS}/contacts/companies/batch"
TO_CONTACTS = f"{ASSOCIATIONS}/companies/contacts/batch"


def types(type_id: int) -> list[dict[str, Any]]:
    return [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]


async def read(http: aiohttp.ClientSession, path: str, *ids: str) -> tuple[int, Any]:
    return await call(http, "POST", f"{path}/read", {"inputs": [{"id": i} for i in ids]})


def type_ids(answer: Any) -> dict[str, dict[str, list[int]]]:
    """from id -> to id -> type ids, as a batch read answered."""
    return {
        r["from"]["id"]: {
            t["toObjectId"]: [a["typeId"] for a in t["associationTypes"]] for t in r["to"]
        }
        for r in answer["results"]
    }


async def test_primary_and_unlabeled_types_read_from_either_side(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    acme, beta = sim.seed({"name": "Acme"}), sim.seed({"name": "Beta"})
    jan, lonely = sim.seed_contact({"email": "jan@acme.nl"}), sim.seed_contact({})
    inputs = [
        {"from": {"id": jan}, "to": {"id": acme}, "types": types(1)},
        {"from": {"id": jan}, "to": {"id": beta}, "types": types(279)},
    ]
    status, created = await call(http, "POST", f"{TO_COMPANIES}/create", {"inputs": inputs})
    assert status == 201
    assert created["results"][0]["fromObjectTypeId"] == "0-1"
    assert created["results"][0]["toObjectTypeId"] == "0-2"
    status, answer = await read(http, TO_COMPANIES, jan)
    assert status == 200
    assert type_ids(answer) == {jan: {acme: [1, 279], beta: [279]}}
    unlabeled = answer["results"][0]["to"][1]["associationTypes"][0]
    assert unlabeled == {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None}
    status, answer = await read(http, TO_CONTACTS, acme, beta)
    assert type_ids(answer) == {acme: {jan: [2, 280]}, beta: {jan: [280]}}
    status, answer = await read(http, TO_COMPANIES, lonely, "404")
    assert status == 207
    assert answer["results"] == []
    first = answer["errors"][0]
    assert first["category"] == "OBJECT_NOT_FOUND"
    assert first["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"
    assert first["message"] == f"No company is associated with contact {lonely}."
    assert sim.counts["associations POST batch/read"] == 3


async def test_a_new_primary_company_leaves_the_old_one_unlabeled(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    acme, beta = sim.seed({"name": "Acme"}), sim.seed({"name": "Beta"})
    jan = sim.seed_contact({"email": "jan@acme.nl"})
    sim.associate(jan, acme, primary=True)
    inputs = [{"from": {"id": beta}, "to": {"id": jan}, "types": types(2)}]  # company side
    status, created = await call(http, "POST", f"{TO_CONTACTS}/create", {"inputs": inputs})
    assert status == 201
    assert created["results"][0]["labels"] == ["Contact with Primary Company"]
    _, answer = await read(http, TO_COMPANIES, jan)
    assert type_ids(answer) == {jan: {acme: [279], beta: [1, 279]}}


async def test_create_refuses_types_of_the_other_direction_and_unknown_records(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    acme, jan = sim.seed({"name": "Acme"}), sim.seed_contact({})
    inputs = [
        {"from": {"id": jan}, "to": {"id": acme}, "types": types(280)},
        {"from": {"id": jan}, "to": {"id": "404"}, "types": types(279)},
        {"from": {"id": jan}, "to": {"id": acme}, "types": types(279)},
    ]
    status, answer = await call(http, "POST", f"{TO_COMPANIES}/create", {"inputs": inputs})
    assert status == 207
    assert len(answer["results"]) == 1
    assert [e["category"] for e in answer["errors"]] == ["VALIDATION_ERROR", "OBJECT_NOT_FOUND"]
    too_many = {"inputs": [{"id": jan}] * 1001}
    assert (await call(http, "POST", f"{TO_COMPANIES}/read", too_many))[0] == 400


async def test_archive_removes_and_the_default_association_is_unlabeled(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    acme, jan = sim.seed({"name": "Acme"}), sim.seed_contact({})
    path = f"/crm/v4/objects/contact/{jan}/associations/default/company/{acme}"
    status, answer = await call(http, "PUT", path)
    assert status == 200
    assert answer["results"][0]["associationSpec"] == types(279)[0]
    sim.associate(jan, acme, primary=True)
    archive = {"inputs": [{"from": {"id": jan}, "to": [{"id": acme}]}]}
    assert (await call(http, "POST", f"{TO_COMPANIES}/archive", archive))[0] == 204
    assert (await read(http, TO_COMPANIES, jan))[0] == 207  # none left, primary neither
    batch = {"inputs": [{"from": {"id": acme}, "to": {"id": jan}}]}
    status, answer = await call(http, "POST", f"{TO_CONTACTS}/associate/default", batch)
    assert answer["results"][0]["associationSpec"]["associationTypeId"] == 280
    assert type_ids((await read(http, TO_COMPANIES, jan))[1]) == {jan: {acme: [279]}}


async def test_archived_records_hide_their_associations_until_restored_and_merges_move_them(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    acme, beta = sim.seed({"name": "Acme"}), sim.seed({"name": "Beta"})
    jan = sim.seed_contact({})
    sim.associate(jan, acme, primary=True)
    sim.archive(acme)
    assert (await read(http, TO_COMPANIES, jan))[0] == 207
    sim.restore(acme)
    assert type_ids((await read(http, TO_COMPANIES, jan))[1]) == {jan: {acme: [1, 279]}}
    await call(http, "DELETE", f"{CONTACTS}/{jan}")
    assert (await read(http, TO_CONTACTS, acme))[0] == 207
    await call(http, "POST", f"/_sim/contacts/{jan}/restore")
    survivor = sim.merge(beta, acme)
    assert type_ids((await read(http, TO_COMPANIES, jan))[1]) == {jan: {survivor: [1, 279]}}
    assert type_ids((await read(http, TO_CONTACTS, survivor))[1]) == {survivor: {jan: [2, 280]}}


async def test_a_contact_created_with_associations_has_them(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    acme = sim.seed({"name": "Acme"})
    body = {
        "properties": {"email": "jan@acme.nl"},
        "associations": [{"to": {"id": acme}, "types": types(1)}],
    }
    status, created = await call(http, "POST", CONTACTS, body)
    assert status == 201
    jan = created["id"]
    assert type_ids((await read(http, TO_COMPANIES, jan))[1]) == {jan: {acme: [1, 279]}}
    body = {"properties": {"email": "piet@acme.nl"}, "associations": [{"to": {"id": "404"}}]}
    assert (await call(http, "POST", CONTACTS, body))[0] == 400
    assert [c.id for c in sim.contacts.live()] == [jan]  # the bad one created nothing
    wrong_way = {"properties": {}, "associations": [{"to": {"id": acme}, "types": types(280)}]}
    assert (await call(http, "POST", CONTACTS, wrong_way))[0] == 400
    assert [c.id for c in sim.contacts.live()] == [jan]
    _, companies = await call(http, "GET", COMPANIES)
    assert len(companies["results"]) == 1


async def test_faults_limits_and_the_request_log_reach_associations_and_contacts(
    sim: HubSpotSimulator, http: aiohttp.ClientSession
) -> None:
    jan = sim.seed_contact({})
    sim.fail(Fault(path="/crm/v4/associations", status=429))  # the ten-secondly 429
    status, answer = await read(http, TO_COMPANIES, jan)
    assert status == 429
    assert answer["policyName"] == "TEN_SECONDLY_ROLLING"
    sim.fail(Fault(method="POST", path="/contacts/search", status=502))
    assert (await call(http, "POST", f"{CONTACTS}/search", {}))[0] == 502
    logged = [entry["path"] for entry in sim.request_log.as_json()]
    assert logged == [f"{TO_COMPANIES}/read", f"{CONTACTS}/search"]
