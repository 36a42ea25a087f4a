"""A sync with the existing-portal example mapping against both simulators: the role from
a single select, HubSpot's one-line address, several AFAS "inactive" flags."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from syncd.engine.cycle import CycleReport
from syncd.mapping import load_mappings
from syncd.policy import Guards, SyncRules
from syncd.records import Side
from syncd.sim.afas import AfasSimulator, SimOptions
from syncd.state.store import open_store
from tests.gateways.afas.helpers import TOKEN, gateway, served
from tests.gateways.hubspot.harness import harness_for
from tests.two_simulators import TwoSimulators

EXAMPLE = Path(__file__).resolve().parent.parent / "mappings" / "examples" / "existing-portal"


class World(TwoSimulators):
    def company(self, name: str) -> dict[str, str]:
        [found] = [c for c in self.hs.sim.portal.live() if c.properties.get("name") == name]
        return found.properties

    def relation(self, entity: str, name_field: str, name: str) -> dict[str, object]:
        [row] = [r for r in self.sim.rows(entity) if r[name_field] == name]
        return row


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    mappings = load_mappings(EXAMPLE, ["customer", "supplier"])
    store = await open_store(f"sqlite:///{tmp_path}/state.db")
    sim = AfasSimulator(options=SimOptions(token=TOKEN))  # real time, as HubSpot's
    try:
        async with served(sim) as url, harness_for(mappings, page_size=50) as hs:
            afas = gateway(url, mappings, page_size=50)
            await hs.hub.start()
            rules = SyncRules(guards=Guards(min_records_for_share=1000))
            yield World(hs, afas, sim, store, mappings, rules)
            await afas.aclose()
    finally:
        await store.close()


def address(row: dict[str, object]) -> tuple[object, object, object]:
    return row["Street"], row["HouseNumber"], row["HouseNumberAddition"]


def writes(report: CycleReport) -> int:
    return sum(n for key, n in report.counts.items() if key.startswith(("created", "updated")))


async def test_an_existing_portal_syncs_with_its_own_properties(world: World) -> None:
    nl = {"country": "Netherlands"}
    for name, relation_role, line, kvk in (
        ("Kerk B.V.", "customer", "Kerkstraat 12-A", "11111111"),
        ("Haags B.V.", "both", "Laan van Meerdervoort 1001 B", "22222222"),
        ("Bis B.V.", "supplier", "Straat 3 bis", "33333333"),
        ("Vaag B.V.", "customer", "Kerkstraat", "44444444"),
    ):
        row = {"name": name, "relation_role": relation_role, "address": line, "kvk_number": kvk}
        world.hs.sim.seed({**row, **nl})
    world.hs.sim.seed({"name": "Prospect B.V.", "type": "PROSPECT", **nl})  # no role
    debtor = {"CountryId": "NL", "Street": "1e Helmersstraat", "HouseNumber": 5}
    world.sim.data.seed("customer", {"DebtorName": "Helmers B.V.", **debtor})
    world.sim.data.seed("customer", {"DebtorName": "Geblokkeerd B.V.", "BlockedForDelivery": True})
    # a creditor of the customer Kerk B.V.'s organisation: the company becomes both
    world.sim.data.seed("supplier", {"CreditorName": "Kerk B.V.", "CocNumber": "11111111"})

    # Profit shows whole seconds, rounded: a relation seeded now may show a time up to half a
    # second ahead, and a record is not created elsewhere before its time has passed
    await asyncio.sleep(1)
    # a record changed while the other side was being listed waits a cycle: two rounds
    for _ in range(2):
        await world.cycle("customer")
        await world.cycle("supplier")

    kerk = world.relation("customer", "DebtorName", "Kerk B.V.")
    assert address(kerk) == ("Kerkstraat", 12, "A")
    haags = world.relation("supplier", "CreditorName", "Haags B.V.")
    assert address(haags) == ("Laan van Meerdervoort", 1001, "B")
    bis = world.relation("supplier", "CreditorName", "Bis B.V.")
    assert address(bis) == ("Straat", 3, "bis")
    debtors = {r["DebtorName"] for r in world.sim.rows("customer")}
    assert debtors == {"Kerk B.V.", "Haags B.V.", "Helmers B.V.", "Geblokkeerd B.V."}
    # an address syncd cannot split is quarantined with the reason, not guessed
    [vaag] = await world.store.quarantined("test", "customer")
    assert (vaag.side, vaag.field) == (Side.CRM, "address")
    assert "has no house number after the street" in vaag.reason
    helmers = world.company("Helmers B.V.")
    assert (helmers["address"], helmers["relation_role"]) == ("1e Helmersstraat 5", "customer")
    assert world.company("Kerk B.V.")["relation_role"] == "both"
    names = {c.properties["name"] for c in world.hs.sim.portal.live()}
    assert "Geblokkeerd B.V." not in names  # blocked for delivery: inactive

    again = [await world.cycle(entity) for entity in ("customer", "supplier")]
    assert [writes(r) for r in again] == [0, 0], [r.counts for r in again]
