"""A real gateway behind the tamper proxy on one side, the in-memory gateway on the other.

A world runs real cycles of the engine: the side under test (AFAS or HubSpot) is its
simulator seen through :mod:`tests.badinput.tamper`, so its answers can be spoiled on
the wire; the other side is a :class:`MemoryGateway` that shows what reached it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from syncd.clock import utc_now
from syncd.engine.cycle import Connection, CycleReport, run_cycle
from syncd.errors import GatewayError
from syncd.gateways.base import Gateway
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import KNOWN_ENTITIES, EntityMapping, load_mappings
from syncd.policy import Guards, SyncRules
from syncd.records import Cursor, Side, Value
from syncd.sim.hubspot import HubSpotSimulator
from syncd.state.rows import Quarantined
from syncd.state.store import StateStore, open_store
from tests.badinput.tamper import Spoil, TamperProxy, tamper_proxy
from tests.gateways.afas.helpers import TOKEN as AFAS_TOKEN
from tests.gateways.afas.helpers import gateway as afas_gateway
from tests.gateways.afas.helpers import served, simulator
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS
from tests.gateways.hubspot.harness import gateway_for

ENTITY = "customer"
HUBSPOT_TOKEN = "pat-test-token"
SECRETS = (AFAS_TOKEN, HUBSPOT_TOKEN)
CRM_LIST = r"/crm/v3/objects/companies"
AFAS_LIST = r"/ProfitRestServices/connectors/syncd_debtors"
AHEAD = timedelta(minutes=1)
LATER = timedelta(days=2)  # past the longest quarantine wait (a day)


@dataclass
class World:
    """One side under test (``side``) behind the proxy; the other side in memory."""

    side: Side
    gateway: Gateway
    memory: MemoryGateway
    proxy: TamperProxy
    store: StateStore
    mappings: Mapping[str, EntityMapping]
    seed_native: Callable[[dict[str, object]], str]
    list_path: str
    id_field: str  # where a listed row keeps its id: "DebtorId", or "id"

    def conn(self, now: Callable[[], datetime] = utc_now) -> Connection:
        gateways = {self.side: self.gateway, self.side.other: self.memory}
        rules = SyncRules(guards=Guards(min_records_for_share=1000))
        return Connection("test", gateways, self.store, self.mappings, rules, now=now)

    async def cycle(self, *, later: bool = False) -> CycleReport:
        """A cycle whose clock runs ahead of the simulators, so no record seeded just
        before it is held back as too fresh to create; ``later``: past any quarantine."""
        ahead = LATER if later else AHEAD
        return await run_cycle(self.conn(lambda: utc_now() + ahead), ENTITY)

    async def keep_running(self, cycles: int) -> list[CycleReport | GatewayError]:
        """Cycles as the daemon runs them: a failed one is noted and the next one runs."""
        results: list[CycleReport | GatewayError] = []
        for _ in range(cycles):
            try:
                results.append(await self.cycle())
            except GatewayError as error:
                results.append(error)
        return results

    def seed(self, name: str, correlation: str | None = None) -> str:
        """A record on the side under test, carrying ``correlation`` as its key if given."""
        values: dict[str, Value] = {"name": name, "country": "NL", "city": "Utrecht"}
        row = dict(self.mappings[ENTITY].to_native(self.side, values))
        if correlation is not None:
            row[self.mappings[ENTITY].side(self.side).correlation] = correlation
        return self.seed_native(row)

    def put_across(self, name: str, correlation: str | None = None) -> str:
        """A record on the other side (in memory), with ``correlation`` if given."""
        mapping, other = self.mappings[ENTITY], self.side.other
        values: dict[str, Value] = {"name": name, "country": "NL", "city": "Utrecht"}
        row = dict(mapping.to_native(other, values))
        if other is Side.CRM:
            row.update({mapping.crm.options["role_property"]: mapping.crm.options["role_value"]})
        if correlation is not None:
            row[mapping.side(other).correlation] = correlation
        return self.memory.put(ENTITY, row)

    async def links(self) -> set[tuple[str, str]]:
        """(crm id, afas id) of every live link."""
        found = await self.store.get_links("test", ENTITY)
        return {(link.crm_id, link.afas_id) for link in found if link.detached_at is None}

    def spoil_list(self, **rule: Any) -> None:
        """Spoil every answer listing the entity (retries included) until cleared."""
        method = "GET"
        self.proxy.spoil(Spoil(method, self.list_path, times=1000, **rule))

    def spoil_row(self, record_id: str, values: Mapping[str, object]) -> None:
        """In every listing, ``record_id``'s row carries ``values`` (the rest as stored)."""
        self.spoil_list(edit=lambda doc: self._with_values(doc, record_id, values))

    def _with_values(self, doc: Any, record_id: str, values: Mapping[str, object]) -> Any:
        for row in doc.get("rows") or doc.get("results") or []:
            if str(row.get(self.id_field)) == record_id:
                target = row if self.side is Side.AFAS else row.setdefault("properties", {})
                target.update(values)
        return doc

    def names_across(self) -> list[str]:
        """The names of the records that reached the other side."""
        field = self.mappings[ENTITY].field("name").native_name(self.side.other)
        return sorted(str(row.get(field)) for row in self.memory.rows(ENTITY))

    async def cursors(self) -> dict[Side, Cursor | None]:
        return {s: await self.store.get_cursor("test", ENTITY, s) for s in Side}

    async def quarantined(self) -> list[Quarantined]:
        return await self.store.quarantined("test", ENTITY)


@asynccontextmanager
async def afas_world(tmp_path: Path) -> AsyncIterator[World]:
    mappings = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
    sim = simulator()
    store = await open_store(f"sqlite:///{tmp_path}/state.db")
    try:
        async with served(sim) as url, tamper_proxy(url) as (proxy, through):
            afas = afas_gateway(through, mappings, page_size=50)
            try:
                yield World(
                    Side.AFAS,
                    afas,
                    MemoryGateway(Side.CRM, mappings),
                    proxy,
                    store,
                    mappings,
                    lambda row: sim.data.seed(ENTITY, row),
                    AFAS_LIST,
                    "DebtorId",
                )
            finally:
                await afas.aclose()
    finally:
        await store.close()


@asynccontextmanager
async def hubspot_world(tmp_path: Path) -> AsyncIterator[World]:
    mappings = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
    store = await open_store(f"sqlite:///{tmp_path}/state.db")
    sim = HubSpotSimulator()
    url = await sim.start()
    role = {"afas_roles": "customer"}

    def seed(values: dict[str, object]) -> str:
        return sim.seed({**{k: str(v) for k, v in values.items() if v}, **role})

    try:
        async with tamper_proxy(url) as (proxy, through):
            hub = gateway_for(through.rstrip("/"), mappings, page_size=50)
            try:
                yield World(
                    Side.CRM,
                    hub,
                    MemoryGateway(Side.AFAS, mappings),
                    proxy,
                    store,
                    mappings,
                    seed,
                    CRM_LIST,
                    "id",
                )
            finally:
                await hub.aclose()
    finally:
        await sim.close()
        await store.close()


WORLDS = {"afas": afas_world, "hubspot": hubspot_world}


def mentions_no_secret(text: str) -> bool:
    return not any(secret in text for secret in SECRETS)


def words(text: str) -> str:
    """``text`` with runs of whitespace as one space, for matching wrapped messages."""
    return re.sub(r"\s+", " ", text)
