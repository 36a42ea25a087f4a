"""The simulator's contacts and associations speak HubSpot's API as its official OpenAPI
files describe it (``tests/data/hubspot/``: contacts v3 and 2026-03, associations v4 and
2026-03), as :mod:`tests.gateways.hubspot.test_openapi` checks companies.

Besides the two gaps bridged there (sort objects, unset properties as null), two more
between the files and HubSpot are bridged, and only those:

* HubSpot's documentation says the unlabeled association type "will always [be] returned
  in responses with a label value of null", while the files type ``label`` as a string:
  a null label is left out before validation;
* the files type a batch error's ``subCategory`` as an object, while HubSpot answers an
  association read without associations with the string
  ``crm.associations.NO_ASSOCIATIONS_FOUND``: a string subCategory is left out before
  validation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

from syncd.sim.hubspot import Exchange, HubSpotSimulator, SimConfig
from tests.gateways.hubspot.test_openapi import HOST, SPECS, bridged, resolved, without_nulls

pytestmark = pytest.mark.filterwarnings(
    "ignore:Unsupported scheme type:UserWarning:openapi_core.security.providers"
)

FILES = {
    "contacts-v3": "contacts-v3.json",
    "contacts-2026-03": "contacts-2026-03.json",
    "associations-v4": "associations-v4.json",
    "associations-2026-03": "associations-2026-03.json",
}


@pytest.fixture(scope="module")
def specs() -> dict[str, OpenAPI]:
    return {key: OpenAPI.from_file_path(str(SPECS / name)) for key, name in FILES.items()}


def spec_for(path: str) -> str:
    """Which file describes ``path``."""
    if path.startswith("/crm/v4/"):
        return "associations-v4"
    if path.startswith("/crm/associations/") or "/associations/default/" in path:
        return "associations-2026-03"
    return "contacts-v3" if path.startswith("/crm/v3/") else "contacts-2026-03"


def without_association_gaps(body: Any) -> Any:
    """The two gaps of the associations files: null labels, string subCategories."""
    if not isinstance(body, dict):
        return body
    body = json.loads(json.dumps(body))
    for result in body.get("results") or []:
        for to in result.get("to") or [] if isinstance(result.get("to"), list) else []:
            for spec in to.get("associationTypes") or []:
                if spec.get("label") is None:
                    spec.pop("label", None)
    for error in body.get("errors") or []:
        if isinstance(error.get("subCategory"), str):
            del error["subCategory"]
    return body


def check(exchange: Exchange, specs: dict[str, OpenAPI]) -> None:
    key = spec_for(exchange.path)
    api = specs[key]
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
    answer = without_association_gaps(without_nulls(exchange.response))
    if exchange.status == 204:
        assert answer is None
        return
    if exchange.status >= 400:  # served as */* in the files: checked against the schema
        spec = json.loads((SPECS / FILES[key]).read_text(encoding="utf-8"))
        OAS30Validator(resolved({"$ref": "#/components/schemas/Error"}, spec)).validate(answer)
        return
    body = json.dumps(answer).encode() if answer is not None else b""
    api.validate_response(request, MockResponse(body, status_code=exchange.status))


Call = Callable[..., Coroutine[Any, Any, Any]]


async def busy_contacts_scenario(sim: HubSpotSimulator, call: Call, dated: bool) -> None:
    """Contacts and associations: what syncd will do, and some of what goes wrong."""
    objects = "/crm/objects/2026-03/contacts" if dated else "/crm/v3/objects/contacts"
    batch = (
        "/crm/associations/2026-03/contacts/companies/batch"
        if dated
        else "/crm/v4/associations/contacts/companies/batch"
    )
    acme, beta = sim.seed({"name": "Acme"}), sim.seed({"name": "Beta"})
    seeded = sim.seed_contact({"email": "seeded@acme.nl", "firstname": "Sanne"})
    spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}
    body = {
        "properties": {"email": "jan@acme.nl", "firstname": "Jan", "lastname": "de Vries"},
        "associations": [{"to": {"id": acme}, "types": [spec]}],
    }
    jan = (await call("POST", objects, body))["id"]
    taken = {"properties": {"email": "JAN@acme.nl"}, "associations": []}
    await call("POST", objects, taken)  # 409
    await call("GET", objects, params={"limit": "1", "properties": "email,phone"})
    await call("GET", f"{objects}/{jan}")
    await call("PATCH", f"{objects}/{jan}", {"properties": {"jobtitle": "Inkoper"}})
    await call("PATCH", f"{objects}/{jan}", {"properties": {"email": "seeded@acme.nl"}})  # 409
    await call("PATCH", f"{objects}/9999999999", {"properties": {"jobtitle": "x"}})  # 404
    window = {"propertyName": "lastmodifieddate", "operator": "GTE", "value": "0"}
    search = {
        "filterGroups": [{"filters": [window]}],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["email", "afas_contact_id"],
        "limit": 200,
        "after": "0",
    }
    await call("POST", f"{objects}/search", search)
    inputs = [{"properties": {"email": f"p{n}@acme.nl"}, "associations": []} for n in range(2)]
    created = await call("POST", f"{objects}/batch/create", {"inputs": inputs})
    await call("POST", f"{objects}/batch/create", {"inputs": inputs})  # 409: both taken
    read = {"inputs": [{"id": jan}, {"id": "404"}], "properties": ["email"]}
    await call("POST", f"{objects}/batch/read", {**read, "propertiesWithHistory": []})
    update = [{"id": seeded, "properties": {"email": "p0@acme.nl"}}]
    update.append({"id": jan, "properties": {"phone": "+31 30 231 44 55"}})
    await call("POST", f"{objects}/batch/update", {"inputs": update})  # 207
    upsert = [{"id": "C-1", "idProperty": "afas_contact_id", "properties": {"firstname": "Piet"}}]
    await call("POST", f"{objects}/batch/upsert", {"inputs": upsert})
    pair = {"from": {"id": jan}, "to": {"id": beta}, "types": [{**spec, "associationTypeId": 279}]}
    wrong = {**pair, "types": [{**spec, "associationTypeId": 280}]}
    await call("POST", f"{batch}/create", {"inputs": [pair]})
    await call("POST", f"{batch}/create", {"inputs": [pair, wrong]})  # 207
    await call("POST", f"{batch}/read", {"inputs": [{"id": jan}]})
    await call("POST", f"{batch}/read", {"inputs": [{"id": jan}, {"id": seeded}]})  # 207
    default = {"inputs": [{"from": {"id": seeded}, "to": {"id": acme}}]}
    await call("POST", f"{batch}/associate/default", default)
    prefix = "/crm/objects/2026-03" if dated else "/crm/v4/objects"
    await call("PUT", f"{prefix}/contact/{seeded}/associations/default/company/{beta}")
    archive = {"inputs": [{"from": {"id": jan}, "to": [{"id": beta}]}]}
    await call("POST", f"{batch}/archive", archive)
    await call("DELETE", f"{objects}/{created['results'][0]['id']}")
    archive = {"inputs": [{"id": created["results"][1]["id"]}]}
    await call("POST", f"{objects}/batch/archive", archive)


@pytest.mark.parametrize("dated", [False, True])
@pytest.mark.parametrize("unset_as_null", [True, False])
async def test_every_contacts_and_associations_exchange_matches_the_spec(
    specs: dict[str, OpenAPI], dated: bool, unset_as_null: bool
) -> None:
    sim = HubSpotSimulator(record=True, config=SimConfig(unset_as_null=unset_as_null))
    url = await sim.start()
    try:
        async with aiohttp.ClientSession(
            base_url=url, headers={"Authorization": "Bearer pat-test"}
        ) as session:

            async def call(method: str, path: str, body: Any = None, params: Any = None) -> Any:
                async with session.request(method, path, json=body, params=params) as answer:
                    text = await answer.text()
                    return json.loads(text) if text else None

            await busy_contacts_scenario(sim, call, dated)
    finally:
        await sim.close()
    statuses = {e.status for e in sim.exchanges}
    assert {200, 201, 204, 207, 404, 409} <= statuses
    assert len({spec_for(e.path) for e in sim.exchanges}) == 2
    for exchange in sim.exchanges:
        check(exchange, specs)
