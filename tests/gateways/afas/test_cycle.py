"""Whole engine cycles with AFAS on the simulator: convergence, and a lost create."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from syncd.engine.cycle import Connection, CycleReport, run_cycle
from syncd.gateways.afas.gateway import AfasGateway
from syncd.gateways.fixture import load_fixture
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import KNOWN_ENTITIES, EntityMapping, load_mappings
from syncd.policy import SyncRules
from syncd.records import Side
from syncd.sim.afas import AfasSimulator, Fault
from syncd.state.store import StateStore, open_store
from tests.gateways.afas.helpers import gateway, served, simulator
from tests.gateways.contract.gateway_contract import SHIPPED_FIXTURE, SHIPPED_MAPPINGS


@dataclass
class World:
    crm: MemoryGateway
    afas: AfasGateway
    sim: AfasSimulator
    store: StateStore
    mappings: dict[str, EntityMapping]

    async def cycle(self, entity: str) -> CycleReport:
        conn = Connection(
            "test",
            {Side.CRM: self.crm, Side.AFAS: self.afas},
            self.store,
            self.mappings,
            SyncRules(),
        )
        return await run_cycle(conn, entity)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    mappings = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
    crm, _ = load_fixture(SHIPPED_FIXTURE, mappings)
    sim = simulator()
    sim.seed(json.loads(SHIPPED_FIXTURE.read_text(encoding="utf-8")))
    store = await open_store(f"sqlite:///{tmp_path}/state.db")
    async with served(sim) as url:
        afas = gateway(url, mappings, page_size=3)
        yield World(crm, afas, sim, store, mappings)
        await afas.aclose()
    await store.close()


def writes(report: CycleReport) -> int:
    return sum(n for key, n in report.counts.items() if key.startswith(("created", "updated")))


@pytest.mark.parametrize("entity", KNOWN_ENTITIES)
async def test_cycles_converge_with_no_duplicates(world: World, entity: str) -> None:
    if entity == "contact":  # contacts follow their companies: those go first
        await world.cycle("customer")
        await world.cycle("supplier")
    first = await world.cycle(entity)
    assert first.applied
    assert writes(first) > 0, first.counts
    assert first.counts["quarantined"] == 0, first.counts
    await world.cycle(entity)
    third = await world.cycle(entity)
    assert writes(third) == 0, third.counts
    afas_rows = world.sim.rows(entity)
    correlation = world.mappings[entity].afas.correlation
    keys = [row[correlation] for row in afas_rows if row[correlation]]
    assert len(keys) == len(set(keys))  # one AFAS record per CRM record


async def test_a_lost_create_is_found_not_repeated(world: World) -> None:
    await world.cycle("customer")
    before = len(world.sim.rows("customer"))
    world.crm.put(
        "customer",
        {"name": "Nieuwe Klant B.V.", "country": "Netherlands", "afas_roles": "customer"},
    )
    world.sim.add_fault(Fault("lost", method="POST", seconds=1.0))
    world.afas.client.limits = type(world.afas.client.limits)(write_timeout=0.3)
    report = await world.cycle("customer")
    assert report.counts["outcome_unknown"] == 1, report.counts
    await world.cycle("customer")
    await world.cycle("customer")
    rows = world.sim.rows("customer")
    assert len(rows) == before + 1
    assert sum(row["DebtorName"] == "Nieuwe Klant B.V." for row in rows) == 1


async def test_creates_in_doubt_cost_one_look_up_per_chunk_not_one_each(world: World) -> None:
    """After a crash or lost answers, every cycle looks the creates in doubt up until
    they are found or given up: a chunk of keys per GetConnector call (the gateway's
    page size here: 3), not a call each."""
    await world.cycle("customer")
    for n in range(12):
        world.crm.put(
            "customer",
            {"name": f"Nieuwe Klant {n} B.V.", "country": "Netherlands", "afas_roles": "customer"},
        )
    world.sim.add_fault(Fault("drop", method="POST", times=12))  # no create arrives
    assert (await world.cycle("customer")).counts["outcome_unknown"] == 12

    asked: list[str] = []
    get = world.afas.client.get

    async def counted(path: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        asked.extend(v for k, v in params if k == "filterfieldids" and "ExternalKey" in v)
        return await get(path, params)

    world.afas.client.get = counted  # type: ignore[method-assign]
    posted = _posts(world.sim)
    idle = await world.cycle("customer")
    assert len(asked) == math.ceil(12 / world.afas.page_size)  # 4, not 12
    assert idle.counts["creates_in_doubt"] == 12  # not found, and AFAS may still save them
    assert _posts(world.sim) == posted  # none sent again


def _posts(sim: AfasSimulator) -> int:
    return sum(n for key, n in sim.requests.items() if key.startswith("POST "))
