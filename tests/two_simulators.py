"""Cycles of the real gateways against both simulators: HubSpot's on the CRM side, the AFAS
gateway against AFAS's."""

from __future__ import annotations

from dataclasses import dataclass

from syncd.engine.cycle import Connection, CycleReport, run_cycle
from syncd.gateways.afas.gateway import AfasGateway
from syncd.gateways.base import Gateway
from syncd.mapping import EntityMapping
from syncd.policy import SyncRules
from syncd.records import Side
from syncd.sim.afas import AfasSimulator
from syncd.state.store import StateStore
from tests.gateways.hubspot.harness import HubSpotHarness


@dataclass
class TwoSimulators:
    hs: HubSpotHarness
    afas: AfasGateway
    sim: AfasSimulator
    store: StateStore
    mappings: dict[str, EntityMapping]
    rules: SyncRules

    @property
    def conn(self) -> Connection:
        gateways: dict[Side, Gateway] = {Side.CRM: self.hs.hub, Side.AFAS: self.afas}
        return Connection("test", gateways, self.store, self.mappings, self.rules)

    async def cycle(self, entity: str) -> CycleReport:
        return await run_cycle(self.conn, entity)
