"""/metainfo: the connectors, their fields, and the nested objects of an UpdateConnector."""

from __future__ import annotations

from typing import Any

from syncd.mapping import KNOWN_ENTITIES, load_mappings
from syncd.records import Side
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS
from tests.sim.afas.api import AUTH, call


async def test_paths_are_case_insensitive_and_metainfo_lists_the_connectors(http: Any) -> None:
    session, url = http
    lower = url.replace("ProfitRestServices", "profitrestservices")
    async with session.get(f"{lower}/MetaInfo", headers=AUTH) as response:
        doc = await response.json()
    assert {c["id"] for c in doc["getConnectors"]} == {
        "syncd_debtors",
        "syncd_creditors",
        "syncd_contacts",
    }
    updates = {c["id"] for c in doc["updateConnectors"]}
    assert {"KnSalesRelationOrg", "KnOrganisation", "KnContact", "KnPerson"} <= updates
    assert doc["info"]["envid"]


async def test_the_getconnectors_have_every_field_the_mappings_name(http: Any) -> None:
    for mapping in load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES).values():
        spec = mapping.afas
        status, doc, _ = await call(http, "GET", f"metainfo/get/{spec.options['get_connector']}")
        assert status == 200
        ids = {f["id"] for f in doc["fields"]}
        wanted = {f.native_name(Side.AFAS) for f in mapping.fields}
        wanted |= {spec.id, spec.modified, spec.correlation, *spec.inactive}
        assert wanted <= ids


async def test_metainfo_update_describes_nested_objects(http: Any) -> None:
    status, doc, _ = await call(http, "GET", "metainfo/update/KnSalesRelationOrg")
    assert status == 200
    org = doc["objects"][0]
    assert org["name"] == "KnOrganisation"
    xpre = next(f for f in org["fields"] if f["fieldId"] == "XpRe")
    assert xpre["length"] == 40
    country = next(f for f in org["objects"][0]["fields"] if f["fieldId"] == "CoId")
    assert {"id": "B", "description": "B"} in country["values"]


async def test_metainfo_describes_the_contact_connectors(http: Any) -> None:
    status, doc, _ = await call(http, "GET", "metainfo/get/syncd_contacts")
    assert status == 200
    ids = {f["id"] for f in doc["fields"]}
    assert {"ContactId", "OrganisationId", "PersonId", "Email", "Blocked"} <= ids
    assert {"ContactModifiedDate", "PersonModifiedDate", "ModifiedDate"} <= ids
    status, doc, _ = await call(http, "GET", "metainfo/update/KnOrganisation")
    contact = next(o for o in doc["objects"] if o["name"] == "KnContact")
    assert {"BcCoOga", "BcCoPer", "EmAd", "Bl"} <= {f["fieldId"] for f in contact["fields"]}
    assert contact["objects"][0]["name"] == "KnPerson"
