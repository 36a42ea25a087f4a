"""UpdateConnectors: inserts, organisation matching, addresses, updates, validation, deletes."""

from __future__ import annotations

from typing import Any

import pytest

from syncd.sim.afas import AfasSimulator
from tests.sim.afas.api import DEBTOR, call


async def test_post_creates_with_autonumbering_and_answers_the_keys(
    http: Any, sim: AfasSimulator
) -> None:
    status, doc, _ = await call(http, "POST", "connectors/KnSalesRelationOrg", body=DEBTOR)
    assert status == 201
    assert doc == {"results": {"KnSalesRelationOrg": {"DbId": "10001", "BcCo": "100001"}}}
    [row] = sim.rows("customer")
    assert (row["DebtorName"], row["HouseNumber"], row["CountryId"]) == ("Jansen", 105, "NL")


async def test_matchoga_1_reuses_the_organisation_with_that_kvk(
    http: Any, sim: AfasSimulator
) -> None:
    await call(http, "POST", "connectors/KnSalesRelationOrg", body=DEBTOR)
    creditor = {
        "KnPurchaseRelationOrg": {
            "Element": {
                "Fields": {"CuId": "EUR"},
                "Objects": {
                    "KnOrganisation": {"Element": {"Fields": {"MatchOga": "1", "CcNr": "93056589"}}}
                },
            }
        }
    }
    status, doc, _ = await call(http, "POST", "connectors/KnPurchaseRelationOrg", body=creditor)
    assert status == 201
    assert doc["results"]["KnPurchaseRelationOrg"] == {"CrId": "70001", "BcCo": "100001"}
    assert sim.rows("supplier")[0]["CreditorName"] == "Jansen"


async def test_a_relation_added_to_an_organisation_dates_its_new_address(
    http: Any, sim: AfasSimulator
) -> None:
    await call(http, "POST", "connectors/KnSalesRelationOrg", body=DEBTOR)
    address = {"KnBasicAddressAdr": {"Element": {"Fields": {"CoId": "NL", "Rs": "Leusden"}}}}
    org = {"MatchOga": "0", "BcCo": "100001"}
    creditor = {
        "KnPurchaseRelationOrg": {
            "Element": {
                "Fields": {"CuId": "EUR"},
                "Objects": {"KnOrganisation": {"Element": {"Fields": org, "Objects": address}}},
            }
        }
    }
    status, doc, _ = await call(http, "POST", "connectors/KnPurchaseRelationOrg", body=creditor)
    assert status == 500
    assert "BeginDate" in doc["externalMessage"]
    address["KnBasicAddressAdr"]["Element"]["Fields"]["BeginDate"] = "2025-03-01"
    status, doc, _ = await call(http, "POST", "connectors/KnPurchaseRelationOrg", body=creditor)
    assert status == 201
    assert doc["results"]["KnPurchaseRelationOrg"] == {"CrId": "70001", "BcCo": "100001"}
    assert sim.rows("supplier")[0]["City"] == "Leusden"


def debtor_with(**changes: object) -> dict[str, Any]:
    import copy

    body = copy.deepcopy(DEBTOR)
    element = body["KnSalesRelationOrg"]["Element"]
    org = element["Objects"][0]["KnOrganisation"]["Element"]  # type: ignore[index]
    for path, value in changes.items():
        where, _, name = path.rpartition("__")
        target = {
            "": element,
            "org": org,
            "adr": org["Objects"][0]["KnBasicAddressAdr"]["Element"],
        }[where]
        if value is None:
            target["Fields"].pop(name, None)
        else:
            target["Fields"][name] = value
    return body


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"org__Unknown": "x"}, "Field 'Unknown' is unknown in 'KnOrganisation'"),
        ({"org__XpRe": "x" * 41}, "too long"),
        ({"org__SeNm": "ZOEKNAAM-TE-LANG"}, "too long"),
        ({"CuId": None}, "Field 'CuId'"),
        ({"adr__CoId": None}, "CoId"),
        ({"adr__CoId": "BE"}, "does not exist"),
        ({"adr__HmNr": "one hundred"}, "not valid"),
        ({"org__MatchOga": "9"}, "MatchOga 9"),
        ({"org__MatchOga": "1", "org__CcNr": None}, "CcNr"),
    ],
)
async def test_validation_errors_are_afas_style_500s_and_change_nothing(
    http: Any, sim: AfasSimulator, changes: dict[str, object], message: str
) -> None:
    status, doc, _ = await call(
        http, "POST", "connectors/KnSalesRelationOrg", body=debtor_with(**changes)
    )
    assert status == 500, doc
    assert message in doc["externalMessage"]
    assert set(doc) == {"externalMessage", "errorNumber", "profitLogReference"}
    assert sim.rows("customer") == []


async def test_put_updates_blocks_and_needs_a_begin_date_for_an_address(
    http: Any, sim: AfasSimulator
) -> None:
    await call(http, "POST", "connectors/KnSalesRelationOrg", body=DEBTOR)
    address = {"KnBasicAddressAdr": {"Element": {"Fields": {"Rs": "Leusden"}}}}
    body = {
        "KnSalesRelationOrg": {
            "Element": {
                "@DbId": "10001",
                "Fields": {"Bl": True},
                "Objects": {
                    "KnOrganisation": {"Element": {"Fields": {"MatchOga": "9"}, "Objects": address}}
                },
            }
        }
    }
    status, doc, _ = await call(http, "PUT", "connectors/KnSalesRelationOrg", body=body)
    assert status == 500
    assert "BeginDate" in doc["externalMessage"]
    address["KnBasicAddressAdr"]["Element"]["Fields"]["BeginDate"] = "2025-03-01"
    block = {"KnSalesRelationOrg": {"Element": {"@DbId": "10001", "Fields": {"BlTl": "1"}}}}
    assert (await call(http, "PUT", "connectors/KnSalesRelationOrg", body=body))[0] == 201
    assert (await call(http, "PUT", "connectors/KnSalesRelationOrg", body=block))[0] == 201
    [row] = sim.rows("customer")
    assert (row["City"], row["Blocked"]) == ("Leusden", True)


async def test_debtors_cannot_be_deleted_but_creditors_can(http: Any, sim: AfasSimulator) -> None:
    sim.data.seed("supplier", {"CreditorName": "Houthandel"})
    sim.data.seed("customer", {"DebtorName": "Jansen"})
    status, doc, _ = await call(
        http, "DELETE", "connectors/KnSalesRelationOrg/KnSalesRelationOrg/@DbId/10001"
    )
    assert status == 500
    assert "not supported" in doc["externalMessage"]
    path = "connectors/KnPurchaseRelationOrg/KnPurchaseRelationOrg/@CrId/70001"
    assert (await call(http, "DELETE", path))[::2] == (200, "")
    assert sim.rows("supplier") == []
