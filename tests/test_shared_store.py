"""The daemon's connections share one state store: many lanes' cycles write through
it at once, on SQLite and PostgreSQL, and each still keeps to its own records."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import event

from syncd.engine.cycle import Connection, CycleReport, run_cycle
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import EntityMapping, load_mappings
from syncd.policy import SyncRules
from syncd.records import Side
from syncd.sim.companies import companies
from syncd.state.database import POOL
from syncd.state.store import StateStore
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS

ENTITY = "customer"
CONNECTIONS = 24  # more lanes at once than the engine's pool holds connections (5 + 10)
COMPANIES = 30


@dataclass
class World:
    """One connection's two sides, each with the same companies."""

    conn: Connection
    afas: MemoryGateway
    crm: MemoryGateway
    afas_ids: list[str]

    async def cycle(self) -> CycleReport:
        return await run_cycle(self.conn, ENTITY)

    def edit_afas(self, city: str) -> None:
        for record_id in self.afas_ids[::3]:
            self.afas.edit(ENTITY, record_id, {self.afas_city: city})

    def crm_cities(self) -> set[object]:
        return {row[self.crm_city] for row in self.crm.rows(ENTITY)}

    @property
    def mapping(self) -> EntityMapping:
        return self.conn.mappings[ENTITY]

    @property
    def afas_city(self) -> str:
        return self.mapping.native_name(Side.AFAS, "city")

    @property
    def crm_city(self) -> str:
        return self.mapping.native_name(Side.CRM, "city")


def world(name: str, store: StateStore, mappings: dict[str, EntityMapping]) -> World:
    mapping = mappings[ENTITY]
    role = {mapping.crm.options["role_property"]: mapping.crm.options["role_value"]}
    afas, crm = MemoryGateway(Side.AFAS, mappings), MemoryGateway(Side.CRM, mappings)
    afas_ids = []
    for company in companies(COMPANIES, seed=7):
        afas_ids.append(afas.put(ENTITY, mapping.to_native(Side.AFAS, company.fields)))
        crm.put(ENTITY, {**mapping.to_native(Side.CRM, company.fields), **role})
    gateways = {Side.AFAS: afas, Side.CRM: crm}
    return World(Connection(name, gateways, store, mappings, SyncRules()), afas, crm, afas_ids)


async def test_many_connections_cycle_at_once_through_one_store(store: StateStore) -> None:
    mappings = load_mappings(SHIPPED_MAPPINGS, [ENTITY])
    worlds = [world(f"c{n}", store, mappings) for n in range(CONNECTIONS)]
    opened: list[object] = []
    event.listen(store._db.engine.sync_engine, "connect", lambda *_: opened.append(1))

    first = await asyncio.wait_for(asyncio.gather(*(w.cycle() for w in worlds)), 120)
    assert all(report.clean for report in first)
    for w in worlds:
        assert await store.link_count(w.conn.name, ENTITY) == COMPANIES

    for n, w in enumerate(worlds):
        w.edit_afas(f"Stad {n}")
    edited = await asyncio.wait_for(asyncio.gather(*(w.cycle() for w in worlds)), 120)
    assert all(report.clean for report in edited)
    for n, w in enumerate(worlds):  # each connection wrote its own edits, no other's
        assert f"Stad {n}" in w.crm_cities()
        assert not {f"Stad {m}" for m in range(CONNECTIONS) if m != n} & w.crm_cities()
    # The pool keeps its database connections: none opened and closed again per cycle.
    assert 0 < len(opened) <= POOL["pool_size"]
