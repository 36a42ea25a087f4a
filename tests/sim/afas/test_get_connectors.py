"""GetConnectors: paging, how rows are shown, filters, ordering, and the queries refused."""

from __future__ import annotations

from typing import Any

import pytest

from syncd.sim.afas import AfasSimulator
from tests.sim.afas.api import call


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
