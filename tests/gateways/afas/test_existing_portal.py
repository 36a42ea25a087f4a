"""The AFAS gateway with the existing-portal example mapping, on the simulator: several
"inactive" flags, and the address split over street, house number and addition."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from syncd.gateways.afas.gateway import AfasGateway
from syncd.mapping import load_mappings
from syncd.sim.afas import AfasSimulator
from tests.gateways.afas.helpers import gateway, served, simulator

EXAMPLE = Path(__file__).resolve().parents[3] / "mappings" / "examples" / "existing-portal"
MAPPINGS = load_mappings(EXAMPLE, ["customer", "supplier"])


@pytest.fixture
async def afas() -> AsyncIterator[tuple[AfasGateway, AfasSimulator]]:
    sim = simulator()
    async with served(sim) as url:
        gw = gateway(url, MAPPINGS)
        yield gw, sim
        await gw.aclose()


def address(row: dict[str, object]) -> tuple[object, object, object]:
    return row["Street"], row["HouseNumber"], row["HouseNumberAddition"]


async def listed(gw: AfasGateway, entity: str) -> list[str]:
    return sorted([r.id async for page in gw.list_all(entity) for r in page.records])


async def test_a_relation_is_inactive_when_any_of_its_flags_says_so(
    afas: tuple[AfasGateway, AfasSimulator],
) -> None:
    gw, sim = afas
    active = sim.data.seed("customer", {"DebtorName": "Actief"})
    partly = sim.data.seed("customer", {"DebtorName": "Niet leveren", "BlockedForDelivery": True})
    wholly = sim.data.seed("customer", {"DebtorName": "Volledig", "Blocked": True})
    assert await listed(gw, "customer") == [active]
    page = await gw.read("customer", [active, partly, wholly])
    assert [r.id for r in page.records] == [active]
    creditor = sim.data.seed("supplier", {"CreditorName": "Tijdelijk", "TempBlocked": True})
    assert await listed(gw, "supplier") == []
    assert (await gw.read("supplier", [creditor])).records == []


async def test_a_relation_is_inactive_from_its_end_date_on(
    afas: tuple[AfasGateway, AfasSimulator],
) -> None:
    gw, sim = afas  # the gateway's today is 1 March 2025
    ended_today = sim.data.seed("customer", {"DebtorName": "Vandaag", "EndDate": date(2025, 3, 1)})
    ended = sim.data.seed("customer", {"DebtorName": "Gisteren", "EndDate": date(2025, 2, 28)})
    ending = sim.data.seed("customer", {"DebtorName": "Morgen", "EndDate": date(2025, 3, 2)})
    endless = sim.data.seed("customer", {"DebtorName": "Geen einde"})
    assert await listed(gw, "customer") == sorted([ending, endless])
    page = await gw.read("customer", [ended_today, ended, ending, endless])
    assert sorted(r.id for r in page.records) == sorted([ending, endless])


async def test_deactivating_sets_the_configured_flag_only(
    afas: tuple[AfasGateway, AfasSimulator],
) -> None:
    gw, sim = afas
    debtor = sim.data.seed("customer", {"DebtorName": "Weg"})
    await gw.deactivate("customer", debtor)
    [row] = sim.rows("customer")
    assert (row["Blocked"], row["BlockedForDelivery"]) == (True, None)
    assert await listed(gw, "customer") == []


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("BlockedForDelivery", "misschien", "'misschien' is not true or false"),
        ("EndDate", "binnenkort", "'binnenkort' is not a date"),
    ],
)
async def test_an_unreadable_flag_or_end_date_quarantines_the_relation_naming_the_field(
    afas: tuple[AfasGateway, AfasSimulator], field: str, value: str, said: str
) -> None:
    gw, sim = afas
    debtor = sim.data.seed("customer", {"DebtorName": "Raar"})
    row = {**sim.rows("customer")[0], field: value}
    [rejected] = gw._relations.convert("customer", [row]).rejected
    assert (rejected.id, rejected.field) == (debtor, field)
    assert said in rejected.message


async def test_the_address_line_is_written_as_street_number_and_addition(
    afas: tuple[AfasGateway, AfasSimulator],
) -> None:
    gw, sim = afas
    fields = {"name": "Haags", "country": "NL", "address": "Laan van Meerdervoort 1001 B"}
    created = await gw.create("customer", fields, "1")
    assert created.fields["address"] == "Laan van Meerdervoort 1001 B"
    [row] = sim.rows("customer")
    assert address(row) == ("Laan van Meerdervoort", 1001, "B")
    updated = await gw.update("customer", created.id, {"address": "Kerkstraat 12-3"})
    assert updated.fields["address"] == "Kerkstraat 12-3"
    [row] = sim.rows("customer")
    assert address(row) == ("Kerkstraat", 12, "3")
    cleared = await gw.update("customer", created.id, {"address": None})
    assert cleared.fields["address"] is None
