"""The simulator answers like ProfitRestServices (checked with plain HTTP requests)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from syncd.gateways.afas.client import token_header
from syncd.mapping import KNOWN_ENTITIES, load_mappings
from syncd.records import Side
from syncd.sim.afas import AfasSimulator
from tests.gateways.afas.helpers import TOKEN, served, simulator
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS

AUTH = {"Authorization": token_header(TOKEN)}
DEBTOR = {
    "KnSalesRelationOrg": {
        "Element": {
            "Fields": {"IsDb": True, "CuId": "EUR", "PaCd": "30", "VaDu": "1"},
            "Objects": [
                {
                    "KnOrganisation": {
                        "Element": {
                            "Fields": {
                                "PadAdr": True,
                                "AutoNum": True,
                                "MatchOga": "6",
                                "Nm": "Jansen",
                                "CcNr": "93056589",
                            },
                            "Objects": [
                                {
                                    "KnBasicAddressAdr": {
                                        "Element": {
                                            "Fields": {
                                                "CoId": "NL",
                                                "Ad": "Haarlemseweg",
                                                "HmNr": "105",
                                            }
                                        }
                                    }
                                }
                            ],
                        }
                    }
                }
            ],
        }
    }
}


@pytest.fixture
def sim() -> AfasSimulator:
    return simulator()


@pytest.fixture
async def http(sim: AfasSimulator) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    async with served(sim) as url, aiohttp.ClientSession() as session:
        yield session, url


async def call(
    http: tuple[aiohttp.ClientSession, str],
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: object = None,
    query: str = "",
) -> tuple[int, Any, str]:
    session, url = http
    full = f"{url}/{path}" + (f"?{query}" if query else "")
    async with session.request(
        method, full, headers=AUTH if headers is None else headers, json=body
    ) as response:
        text = await response.text()
        try:
            doc = await response.json(content_type=None) if text else None
        except ValueError:
            doc = None
        return response.status, doc, text


# -- authentication ----------------------------------------------------------------------


async def test_no_or_a_wrong_token_is_401_with_an_empty_body(http: Any) -> None:
    assert (await call(http, "GET", "metainfo", headers={}))[::2] == (401, "")
    wrong = {"Authorization": token_header("nope")}
    assert (await call(http, "GET", "metainfo", headers=wrong))[::2] == (401, "")


async def test_a_token_that_is_not_base64_is_a_500(http: Any) -> None:
    status, body, _ = await call(
        http, "GET", "metainfo", headers={"Authorization": "AfasToken <x>"}
    )
    assert status == 500
    assert body["errorNumber"] == -2147180999


async def test_standalone_any_well_formed_token_passes() -> None:
    sim = AfasSimulator()
    async with served(sim) as url, aiohttp.ClientSession() as session:
        headers = {"Authorization": token_header("anything")}
        async with session.get(f"{url}/metainfo", headers=headers) as response:
            assert response.status == 200
    assert base64.b64decode(token_header("x").split()[1]).startswith(b"<token><version>1")


# -- metainfo ------------------------------------------------------------------------------


async def test_paths_are_case_insensitive_and_metainfo_lists_the_connectors(http: Any) -> None:
    session, url = http
    lower = url.replace("ProfitRestServices", "profitrestservices")
    async with session.get(f"{lower}/MetaInfo", headers=AUTH) as response:
        doc = await response.json()
    assert {c["id"] for c in doc["getConnectors"]} == {"syncd_debtors", "syncd_creditors"}
    assert "KnSalesRelationOrg" in {c["id"] for c in doc["updateConnectors"]}
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


# -- GetConnectors ---------------------------------------------------------------------------


@pytest.fixture
def seeded(sim: AfasSimulator) -> list[str]:
    rows = [
        {"DebtorName": "Alpha BV", "City": "Utrecht", "HouseNumber": 1, "Email": None},
        {"DebtorName": "beta NV", "City": "Zeist", "HouseNumber": 20, "Email": "b@b.nl"},
        {"DebtorName": "Gamma", "City": "Utrecht", "HouseNumber": 3, "Email": "g@g.nl"},
    ]
    return [sim.data.seed("customer", row) for row in rows]


async def names(http: Any, query: str) -> list[str]:
    status, doc, text = await call(http, "GET", "connectors/syncd_debtors", query=query)
    assert status == 200, text
    return [row["DebtorName"] for row in doc["rows"]]


async def test_skip_and_take_defaults_are_echoed(http: Any, seeded: list[str]) -> None:
    _, doc, _ = await call(http, "GET", "connectors/syncd_debtors")
    assert (doc["skip"], doc["take"], len(doc["rows"])) == (0, 100, 3)


async def test_skip_minus_one_is_everything_and_take_minus_one_after_a_skip_fails(
    http: Any, seeded: list[str]
) -> None:
    assert len(await names(http, "skip=-1&take=1")) == 3
    status, doc, _ = await call(http, "GET", "connectors/syncd_debtors", query="skip=2&take=-1")
    assert status == 500
    assert doc["externalMessage"] == "An unexpected error has occurred."


async def test_rows_show_nulls_numbers_and_dates_with_the_fake_z(
    http: Any, seeded: list[str]
) -> None:
    _, doc, _ = await call(
        http, "GET", "connectors/syncd_debtors", query="orderbyfieldids=DebtorId"
    )
    row = doc["rows"][0]
    assert row["Email"] is None
    assert row["HouseNumber"] == 1
    assert row["Blocked"] is None or row["Blocked"] is False
    assert row["ModifiedDate"].endswith("Z")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filterfieldids=City&filtervalues=utrecht&operatortypes=1", ["Alpha BV", "Gamma"]),
        ("filterfieldids=HouseNumber&filtervalues=3&operatortypes=2", ["beta NV", "Gamma"]),
        ("filterfieldids=HouseNumber&filtervalues=3&operatortypes=3", ["Alpha BV", "Gamma"]),
        ("filterfieldids=HouseNumber&filtervalues=3&operatortypes=4", ["beta NV"]),
        ("filterfieldids=HouseNumber&filtervalues=3&operatortypes=5", ["Alpha BV"]),
        ("filterfieldids=DebtorName&filtervalues=ET&operatortypes=6", ["beta NV"]),
        ("filterfieldids=City&filtervalues=Utrecht&operatortypes=7", ["beta NV"]),
        ("filterfieldids=Email&filtervalues=&operatortypes=8", ["Alpha BV"]),
        ("filterfieldids=Email&filtervalues=%5Bis%20leeg%5D&operatortypes=9", ["beta NV", "Gamma"]),
        ("filterfieldids=DebtorName&filtervalues=al&operatortypes=10", ["Alpha BV"]),
        ("filterfieldids=DebtorName&filtervalues=a&operatortypes=11", []),
        ("filterfieldids=DebtorName&filtervalues=al&operatortypes=12", ["beta NV", "Gamma"]),
        ("filterfieldids=DebtorName&filtervalues=nv&operatortypes=13", ["beta NV"]),
        ("filterfieldids=DebtorName&filtervalues=nv&operatortypes=14", ["Alpha BV", "Gamma"]),
        ("filterfieldids=DebtorName&filtervalues=amm&operatortypes=15", ["Gamma"]),
        # (City = Utrecht AND HouseNumber > 1) OR City = Zeist
        (
            "filterfieldids=City%2CHouseNumber%3BCity&filtervalues=Utrecht%2C1%3BZeist"
            "&operatortypes=1%2C4%3B1",
            ["beta NV", "Gamma"],
        ),
    ],
)
async def test_the_fifteen_operators_and_groups(
    http: Any, seeded: list[str], query: str, expected: list[str]
) -> None:
    assert await names(http, f"{query}&orderbyfieldids=DebtorName") == expected


async def test_order_descending_and_filterjson(http: Any, seeded: list[str]) -> None:
    assert await names(http, "orderbyfieldids=-HouseNumber") == ["beta NV", "Gamma", "Alpha BV"]
    doc = (
        '{"Filters":{"Filter":[{"@FilterId":"f1","Field":[{"@FieldId":"City",'
        '"@OperatorType":"1","#text":"Zeist"}]}]}}'
    )
    from urllib.parse import quote

    assert await names(http, f"filterjson={quote(doc)}") == ["beta NV"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("filterfieldids=Nope&filtervalues=1&operatortypes=1", "Connector field 'Nope' not found"),
        ("orderbyfieldids=Nope", "Connector field 'Nope' not found"),
        (
            "filterfieldids=ModifiedDate&filtervalues=2025-01-01T00%3A00%3A00Z&operatortypes=2",
            "not a valid date",
        ),
        ("filterfieldids=City&filtervalues=a&operatortypes=99", "unexpected"),
    ],
)
async def test_bad_queries_are_500s(http: Any, query: str, message: str) -> None:
    status, doc, _ = await call(http, "GET", "connectors/syncd_debtors", query=query)
    assert status == 500
    assert message in doc["externalMessage"]
    assert len(doc["profitLogReference"]) == 32


async def test_a_query_longer_than_2049_characters_is_a_404(http: Any) -> None:
    value = "x" * 2100
    query = f"filterfieldids=City&filtervalues={value}&operatortypes=1"
    assert (await call(http, "GET", "connectors/syncd_debtors", query=query))[::2] == (404, "")
    short = f"filterfieldids=City&filtervalues={'x' * 1990}&operatortypes=1"
    assert (await call(http, "GET", "connectors/syncd_debtors", query=short))[0] == 200


async def test_an_unknown_connector_is_not_authorised(http: Any) -> None:
    status, doc, _ = await call(http, "GET", "connectors/Profit_Nothing")
    assert status == 500
    assert "not supported" in doc["externalMessage"]


# -- UpdateConnectors ---------------------------------------------------------------------------


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


# -- the control API -------------------------------------------------------------------------------


async def test_the_control_api_seeds_edits_injects_faults_and_counts(
    http: Any, sim: AfasSimulator
) -> None:
    seed = {
        "afas": {
            "customer": [
                {
                    "DebtorId": "10001",
                    "ModifiedDate": "2025-02-11T14:05:00+01:00",
                    "DebtorName": "Korenaar",
                }
            ]
        }
    }
    status, doc, _ = await call(http, "POST", "../_sim/seed", headers={}, body=seed)
    assert (status, doc) == (200, {"customer": ["10001"]})
    _, rows, _ = await call(http, "GET", "../_sim/rows/customer", headers={})
    assert rows[0]["ModifiedDate"] == "2025-02-11T14:05:00Z"
    edit = {"entity": "customer", "id": "10001", "fields": {"City": "Zeist"}}
    assert (await call(http, "POST", "../_sim/edit", headers={}, body=edit))[0] == 200
    _, rows, _ = await call(http, "GET", "../_sim/rows/customer", headers={})
    assert rows[0]["City"] == "Zeist"
    assert rows[0]["AddressModifiedDate"] > "2025-02-11T14:05:00Z"
    fault = {"kind": "unavailable", "method": "GET", "retry_after": 5}
    assert (await call(http, "POST", "../_sim/faults", headers={}, body=fault))[0] == 200
    status, doc, _ = await call(http, "GET", "connectors/syncd_debtors")
    assert (status, doc["retry_after"]) == (503, 5)
    assert (await call(http, "GET", "connectors/syncd_debtors"))[0] == 200
    _, stats, _ = await call(http, "GET", "../_sim/stats", headers={})
    assert sum(stats["requests"].values()) == 2
    assert (await call(http, "POST", "../_sim/reset", headers={}))[0] == 200
    assert sim.rows("customer") == []


async def test_a_control_request_it_cannot_use_is_a_400(http: Any) -> None:
    status, body, _ = await call(http, "POST", "../_sim/faults", headers={}, body={"kind": "nope"})
    assert status == 400
    assert "unknown fault" in body["error"]
    status, body, _ = await call(http, "POST", "../_sim/faults", headers={}, body={"colour": 1})
    assert status == 400
