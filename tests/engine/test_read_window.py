"""How far back an incremental pull reads: the overlap before the newest change seen,
narrowing (up to that change itself) as syncd's own clock shows the side's has moved on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncd.engine.cycle import Connection, run_cycle
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import load_mappings
from syncd.policy import SyncRules
from syncd.records import Page, Side
from syncd.sim.companies import companies
from syncd.state.store import StateStore

MAPPINGS = load_mappings(Path(__file__).resolve().parents[2] / "mappings", ["customer"])
ENTITY = "customer"
OVERLAP = timedelta(minutes=5)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves; syncd's and the CRM's run apart (different origins)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class Watched(MemoryGateway):
    """A memory side that keeps where each incremental pull started and what it brought."""

    def __init__(self, side: Side, clock: Clock) -> None:
        super().__init__(side, MAPPINGS, clock=clock)
        self.pulls: list[tuple[datetime | None, int]] = []

    async def changed_since(self, entity: str, since: datetime | None) -> AsyncIterator[Page]:
        brought = 0
        async for page in super().changed_since(entity, since):
            brought += len(page.records)
            yield page
        self.pulls.append((since, brought))


async def test_a_quiet_side_is_not_read_again_for_a_burst_long_past(store: StateStore) -> None:
    ours = Clock(START)
    theirs = Clock(START - timedelta(hours=3))  # the CRM's clock is three hours behind
    crm, afas = Watched(Side.CRM, theirs), Watched(Side.AFAS, ours)
    gateways = {Side.CRM: crm, Side.AFAS: afas}
    conn = Connection("window", gateways, store, MAPPINGS, SyncRules(), OVERLAP, ours)
    native = MAPPINGS[ENTITY].to_native
    ids = [crm.put(ENTITY, native(Side.CRM, dict(c.fields))) for c in companies(8, seed=4)]

    def tick(minutes: float) -> None:
        ours.at += timedelta(minutes=minutes)
        theirs.at += timedelta(minutes=minutes)

    await run_cycle(conn, ENTITY)  # the first sync lists all
    for _ in range(2):
        tick(30)
        await run_cycle(conn, ENTITY)
    assert crm.pulls[-1][1] == 1  # quiet: only the newest record, not the overlap's

    for n, crm_id in enumerate(ids[:5]):  # a burst of edits, a second apart
        tick(1 / 60)
        crm.edit(ENTITY, crm_id, {"city": f"Zwolle {n}"})
    newest = theirs.at
    tick(1)
    assert (await run_cycle(conn, ENTITY)).counts["updated_afas"] == 5

    tick(1)  # a minute on, the burst is within the overlap: read again
    await run_cycle(conn, ENTITY)
    assert crm.pulls[-1] == (newest - OVERLAP, 5)

    tick(1)  # one saved now under a time two minutes before the newest is still read
    late = {
        **native(Side.CRM, {"name": "Late BV"}),
        "hs_lastmodifieddate": newest - timedelta(minutes=2),
    }
    crm.put(ENTITY, late)
    report = await run_cycle(conn, ENTITY)
    assert crm.pulls[-1] == (newest - OVERLAP + timedelta(minutes=1), 6)
    assert report.counts["created_afas"] == 1

    for _ in range(2):  # quiet from here: the window closes, up to the newest change
        tick(5)
        await run_cycle(conn, ENTITY)
    assert crm.pulls[-1] == (newest, 1)
