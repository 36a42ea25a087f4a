"""What a cycle spends: requests, counted by both simulators, and state-store commits."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncd.engine.actions import CloseConflicts, PairState, Plan, Update
from syncd.engine.cycle import Connection, CycleReport, run_cycle
from syncd.engine.match import MatchInput, unmatched
from syncd.engine.plan import PlanInput, make_plan
from syncd.gateways.base import Gateway
from syncd.mapping import EntityMapping, load_mappings
from syncd.policy import SyncRules
from syncd.records import Record, Side, Value
from syncd.sim.afas import AfasSimulator, SimClock, SimOptions
from syncd.sim.companies import companies
from syncd.sim.hubspot import HubSpotSimulator, SimConfig, running
from syncd.state.database import connect, upgrade
from syncd.state.rows import Link
from syncd.state.store import StateStore, Transaction
from tests.gateways.afas.helpers import TOKEN, gateway, served
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS
from tests.gateways.hubspot.harness import gateway_for, native

ENTITY = "customer"


@dataclass
class Both:
    afas: AfasSimulator
    hubspot: HubSpotSimulator
    conn: Connection

    async def cycle(self) -> CycleReport:
        return await run_cycle(self.conn, ENTITY)

    def requests(self) -> tuple[Counter[str], Counter[str]]:
        return Counter(self.afas.requests), Counter(self.hubspot.counts)


class CountingStore(StateStore):
    """The real store, counting the transactions opened through it."""

    transactions = 0

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        self.transactions += 1
        return super().transaction()


def seed(
    afas: AfasSimulator, hubspot: HubSpotSimulator, mapping: EntityMapping, n: int, alone: int
) -> None:
    """``n`` companies on both sides, ``alone`` more only in AFAS and as many only in HubSpot."""
    role = {mapping.crm.options["role_property"]: mapping.crm.options["role_value"]}
    for index, company in enumerate(companies(n + 2 * alone, seed=n)):
        if index < n + alone:
            afas.seed({ENTITY: [mapping.to_native(Side.AFAS, company.fields)]})
        if index < n or index >= n + alone:
            values = {k: v for k, v in native(mapping, company.fields).items() if v}
            hubspot.seed({**values, **role})


@pytest.fixture
def mappings() -> dict[str, EntityMapping]:
    return load_mappings(SHIPPED_MAPPINGS, [ENTITY])


async def both_sides(
    tmp_path: Path, mappings: dict[str, EntityMapping], n: int, alone: int = 2
) -> AsyncIterator[Both]:
    # AFAS dates from an hour ago on, a second per write: no record is ever too new
    # to be created on the other side (a create waits until a twin could be seen)
    clock = SimClock(start=datetime.now(UTC) - timedelta(hours=1), step=timedelta(seconds=1))
    afas_sim = AfasSimulator(options=SimOptions(token=TOKEN), clock=clock)
    hub_sim = HubSpotSimulator(config=SimConfig())
    seed(afas_sim, hub_sim, mappings[ENTITY], n, alone)
    db = await connect(f"sqlite:///{tmp_path}/state-{n}.db")
    await upgrade(db)
    store = CountingStore(db)
    async with served(afas_sim) as afas_url, running(hub_sim) as hub_url:
        afas = gateway(afas_url, mappings, page_size=50)
        hub = gateway_for(hub_url, mappings)
        gateways: dict[Side, Gateway] = {Side.AFAS: afas, Side.CRM: hub}
        # No overlap: the pulls bring only the newest records again (those at the cursor),
        # as a real overlap brings the last minutes' records: one side's, not the other's.
        conn = Connection("test", gateways, store, mappings, SyncRules(), overlap=timedelta(0))
        yield Both(afas_sim, hub_sim, conn)
        await afas.aclose()
        await hub.aclose()
    await store.close()


@pytest.fixture
async def both(tmp_path: Path, mappings: dict[str, EntityMapping]) -> AsyncIterator[Both]:
    async for world in both_sides(tmp_path, mappings, 12):
        yield world


async def settle(both: Both) -> Counter[str]:
    """Cycles until one writes nothing (a record changed a moment ago waits a cycle
    before it is created); the counts of them all."""
    total: Counter[str] = Counter()
    for _ in range(4):
        report = await both.cycle()
        total.update(report.counts)
        wrote = any(k.startswith(("created", "updated")) for k in report.counts)
        if not wrote and not report.plan.deferred:
            return total
    raise AssertionError(f"no quiet cycle: {total}")


async def test_an_idle_cycle_sends_one_read_per_side_and_writes_nothing(both: Both) -> None:
    done = await settle(both)
    assert done["linked"] == 12
    assert done["created_afas"] == done["created_crm"] == 2
    afas_before, hubspot_before = both.requests()
    # The pulls bring the newest records again; they hold the base, so their partners
    # on the other side are not read.
    idle = await both.cycle()
    afas_after, hubspot_after = both.requests()
    assert not any(k.startswith(("created", "updated")) for k in idle.counts)
    assert afas_after - afas_before == Counter(
        {"GET /ProfitRestServices/connectors/syncd_debtors": 1}
    )
    assert hubspot_after - hubspot_before == Counter({"POST search": 1})


async def test_a_changed_record_still_gets_its_partner_read_and_written(both: Both) -> None:
    await settle(both)
    crm_id = next(iter(both.hubspot.portal.companies))
    both.hubspot.edit(crm_id, {"city": "Giethoorn"})
    report = await both.cycle()
    assert report.counts["updated_afas"] == 1
    rows = [r for r in both.afas.rows(ENTITY) if r.get("City") == "Giethoorn"]
    assert len(rows) == 1


async def test_first_run_commits_do_not_grow_with_the_number_of_links(
    tmp_path: Path, mappings: dict[str, EntityMapping]
) -> None:
    commits = {}
    for n in (5, 40):
        # matched pairs only: a create may wait a cycle (see settle), which would
        # change the count for a reason that has nothing to do with links
        async for world in both_sides(tmp_path, mappings, n, alone=0):
            store = world.conn.store
            assert isinstance(store, CountingStore)
            report = await world.cycle()
            assert report.counts["linked"] == n
            commits[n] = store.transactions
    assert commits[5] == commits[40]


# --- the pure parts: what is skipped, and what is not ------------------------------------


def linked(mapping: EntityMapping, crm: dict[str, Value], afas: dict[str, Value]) -> PairState:
    base = {f.name: crm.get(f.name) for f in mapping.fields}
    base.pop("payment_terms")  # set on create only: a matched pair has no base for it
    link = Link("test", ENTITY, "1", "10001", base=base, id=7)
    return PairState(link, Record("1", crm), Record("10001", afas))


def plan_for(mapping: EntityMapping, pair: PairState, conflicts: dict[int, frozenset[str]]) -> Plan:
    return make_plan(PlanInput(ENTITY, mapping, SyncRules(), [pair], [], conflicts, link_count=1))


def test_a_pair_at_its_base_plans_nothing_whatever_its_create_only_fields_hold(
    mappings: dict[str, EntityMapping],
) -> None:
    fields = dict(next(companies(1, seed=4)).fields)
    pair = linked(mappings[ENTITY], fields, {**fields, "payment_terms": "30"})
    assert plan_for(mappings[ENTITY], pair, {}).actions == []
    edited = linked(mappings[ENTITY], fields, {**fields, "city": "Giethoorn"})
    [update] = plan_for(mappings[ENTITY], edited, {}).actions
    assert isinstance(update, Update)
    assert update.fields == {"city": "Giethoorn"}


def test_a_pair_at_its_base_with_an_open_conflict_has_it_closed(
    mappings: dict[str, EntityMapping],
) -> None:
    fields = dict(next(companies(1, seed=4)).fields)
    pair = linked(mappings[ENTITY], fields, fields)
    [close] = plan_for(mappings[ENTITY], pair, {7: frozenset({"phone"})}).actions
    assert isinstance(close, CloseConflicts)
    assert close.fields == ("phone",)


def test_only_records_without_a_partner_are_looked_up_for_adoption() -> None:
    twin = {"name": "Bakkerij Noord", "kvk": "12345678"}
    crm = [Record("1", twin), Record("2", {"name": "Alleen Hier", "kvk": "87654321"})]
    afas = [Record("10001", twin)]
    found = unmatched(
        MatchInput(
            {Side.CRM: crm, Side.AFAS: afas},
            {Side.CRM: crm, Side.AFAS: afas},
            {Side.CRM: frozenset(), Side.AFAS: frozenset()},
            [["kvk"]],
        )
    )
    assert found == {Side.CRM: [crm[1]], Side.AFAS: []}
