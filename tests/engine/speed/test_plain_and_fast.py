"""The plain and the fast path take the same decisions and reach the same end state.

Hypothesis generates worlds (companies on one side or on both, edits on both sides,
deletes, a search index that lags) and plays them, cycle by cycle, twice: once with
:data:`~syncd.engine.speed.plain.PLAIN` (the straight pipeline) and once with
:data:`~syncd.engine.speed.fast.FAST` (pages applied as they come, a first sync decided
while it lists). Both must count the same per cycle and leave both sides and the state
store holding the same.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import cast

import hypothesis.strategies as st
from hypothesis import given, settings

from syncd.engine.actions import Create as CreateAction
from syncd.engine.cycle import Connection, CycleReport, run_cycle
from syncd.engine.speed.fast import FAST
from syncd.engine.speed.plain import PLAIN
from syncd.engine.speed.quiet import QuietLanes
from syncd.engine.speed.seam import SpeedStrategy
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import load_mapping
from syncd.policy import ConflictRule, DeletePolicy, Guards, SyncRules
from syncd.records import Side, Value
from syncd.state.store import StateStore, open_store
from syncd.status.activity import STANDING
from tests.engine.test_cycle import Clock

ENTITY = "customer"
MAPPING = load_mapping(Path(__file__).resolve().parents[1] / "data" / "stateful_customer.toml")
FIELDS = ("name", "city", "phone")
VALUES = st.sampled_from(["alpha", "beta", "gamma", None])
NO_GUARDS = Guards(max_delete_share=1.0, max_blank_share=1.0, refuse_empty_side=False)
COMPANY = st.fixed_dictionaries(dict.fromkeys(FIELDS, VALUES))
SIDES = st.sampled_from(list(Side))


@dataclass(frozen=True)
class Create:
    side: Side
    values: dict[str, Value]
    with_kvk: bool  # without a KvK number no match key can find it


@dataclass(frozen=True)
class OnBoth:
    """The same company entered in both systems: linked by its KvK number."""

    crm: dict[str, Value]
    afas: dict[str, Value]


@dataclass(frozen=True)
class Edit:
    company: int  # by its place in the order of creation
    side: Side
    name: str
    value: Value


@dataclass(frozen=True)
class Delete:
    company: int
    side: Side


@dataclass(frozen=True)
class CatchUp:
    """The CRM's search index shows every record as it is now."""


Operation = Create | OnBoth | Edit | Delete | CatchUp
NEW = st.one_of(
    st.builds(Create, SIDES, COMPANY, st.booleans()), st.builds(OnBoth, COMPANY, COMPANY)
)
EDIT = st.builds(Edit, st.integers(0, 20), SIDES, st.sampled_from(FIELDS), VALUES)
OPERATION = st.one_of(
    NEW, EDIT, EDIT, st.builds(Delete, st.integers(0, 20), SIDES), st.builds(CatchUp)
)
ROUND = st.tuples(st.lists(OPERATION, max_size=6), st.booleans())  # edits, then a (full) cycle
Round = tuple[list[Operation], bool]


@dataclass
class World:
    """Two memory sides and a state store, played through one speed strategy."""

    speed: SpeedStrategy
    store: StateStore
    rules: SyncRules
    gateways: dict[Side, MemoryGateway] = field(init=False)
    companies: list[dict[Side, str | None]] = field(default_factory=list)
    next_kvk: int = 10_000_000
    # The fast path's quiet polls remember the lane between cycles, as the daemon's do.
    quiet: QuietLanes = field(default_factory=QuietLanes)
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        self.gateways = {
            side: MemoryGateway(side, {ENTITY: MAPPING}, page_size=2, search_lags=side is Side.CRM)
            for side in Side
        }

    @property
    def conn(self) -> Connection:
        return Connection(
            "test",
            self.gateways,
            self.store,
            {ENTITY: MAPPING},
            self.rules,
            now=self.clock,
            speed=self.speed,
            quiet=self.quiet,
        )

    def _put(self, side: Side, values: dict[str, Value], kvk: str | None) -> str:
        native = MAPPING.to_native(side, {**values, "kvk": kvk})
        return self.gateways[side].put(ENTITY, native)

    def _kvk(self) -> str:
        self.next_kvk += 1
        return str(self.next_kvk)

    def act(self, operation: Operation) -> None:
        match operation:
            case Create(side, values, with_kvk):
                made = self._put(side, values, self._kvk() if with_kvk else None)
                self.companies.append({side: made, side.other: None})
            case OnBoth(crm, afas):
                kvk = self._kvk()
                ids: dict[Side, str | None] = {Side.CRM: self._put(Side.CRM, crm, kvk)}
                ids[Side.AFAS] = self._put(Side.AFAS, afas, kvk)
                self.companies.append(ids)
            case Edit(company, side, name, value):
                if (record_id := self._present(company, side)) is not None:
                    native = MAPPING.to_native(side, {name: value})
                    self.gateways[side].edit(ENTITY, record_id, native)
            case Delete(company, side):
                if (record_id := self._present(company, side)) is not None:
                    self.gateways[side].remove(ENTITY, record_id)
            case CatchUp():
                self.gateways[Side.CRM].catch_up_search()

    def _present(self, company: int, side: Side) -> str | None:
        """The company's record on ``side``, if it has one that was not deleted."""
        if not self.companies:
            return None
        record_id = self.companies[company % len(self.companies)][side]
        return record_id if record_id in self.held(side) else None

    async def cycle(self, *, full: bool) -> CycleReport:
        # Past the overlap window after the last cycle's changes: an idle lane's next
        # poll can be quiet.
        self.clock.now += timedelta(minutes=6)
        report = await run_cycle(self.conn, ENTITY, full=full)
        await self._learn_partners()
        return report

    async def _learn_partners(self) -> None:
        """The records syncd created for the companies, found through their links."""
        for ids in self.companies:
            for side in Side:
                record_id = ids[side]
                if record_id is not None and ids[side.other] is None:
                    found = await self.store.links_by_ids("test", ENTITY, side, [record_id])
                    if record_id in found:
                        ids[side.other] = found[record_id].id_on(side.other)

    def held(self, side: Side) -> dict[str, list[tuple[str, Value]]]:
        """``side``'s records by id: their mapped fields, canonical."""
        key = MAPPING.side(side).id
        return {
            str(row[key]): sorted(MAPPING.to_canonical(side, row).items())
            for row in self.gateways[side].rows(ENTITY)
        }

    async def state(self) -> tuple[list[str], ...]:
        """Both sides and the state store, by what they hold (not by ids syncd made)."""
        held = {side: self.held(side) for side in Side}
        rows = {
            side: sorted(
                repr((fields, self.gateways[side].is_active(ENTITY, record_id)))
                for record_id, fields in held[side].items()
            )
            for side in Side
        }
        links = sorted(
            repr(
                (
                    held[Side.CRM].get(link.crm_id),
                    held[Side.AFAS].get(link.afas_id),
                    sorted(link.base.items()),
                    link.detached_at is None,
                )
            )
            for link in await self.store.get_links("test", ENTITY)
        )
        conflicts = sorted(
            repr((c.field, c.base, c.crm, c.afas))
            for c in await self.store.conflicts("test", ENTITY)
        )
        return rows[Side.CRM], rows[Side.AFAS], links, conflicts


def decisions(report: CycleReport) -> tuple[object, ...]:
    """What a cycle decided: its counts, and its plan's actions by kind. A first sync's
    creates made while listing are applied beside the plan, so they show in the counts.
    What stands (open conflicts) a quiet poll does not count again: left out."""
    kinds = Counter(
        type(a).__name__ for a in report.plan.actions if not isinstance(a, CreateAction)
    )
    counts = sorted((k, n) for k, n in report.counts.items() if k not in STANDING)
    if report.quiet:
        return (QUIET,)
    return counts, sorted(kinds.items()), report.applied


QUIET = "quiet"  # a quiet poll: nothing listed but records the cursors stand on


def same_decisions(plain: tuple[object, ...], fast: tuple[object, ...]) -> bool:
    """A quiet poll decides nothing; a whole cycle in its place may plan again the pair
    its cursor stands on, which it decided before (a conflict stays open): no writes."""
    if fast == (QUIET,):
        counts, kinds, applied = plain
        replanned = cast(list[tuple[str, int]], kinds)
        return not counts and applied is True and all(k == "OpenConflict" for k, _ in replanned)
    return plain == fast


async def play(
    speed: SpeedStrategy, rules: SyncRules, first: list[Operation], rounds: list[Round]
) -> tuple[list[tuple[object, ...]], object]:
    """The companies of ``first`` synced for the first time, then ``rounds`` of user
    actions each followed by a cycle, and the last incremental cycles (quiet, where
    the strategy polls quietly)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(f"sqlite:///{Path(tmp) / 'state.db'}")
        try:
            world = World(speed, store, rules)
            trace: list[tuple[object, ...]] = []
            for operations, full in [(first, False), *rounds, *[([], False)] * 3]:
                for operation in operations:
                    world.act(operation)
                trace.append(decisions(await world.cycle(full=full)))
            return trace, await world.state()
        finally:
            await store.close()


@settings(max_examples=30, deadline=None)
@given(
    first=st.lists(NEW, min_size=1, max_size=6),
    rounds=st.lists(ROUND, min_size=1, max_size=3),
    conflict=st.sampled_from(list(ConflictRule)),
    deletes=st.sampled_from(list(DeletePolicy)),
)
def test_the_plain_and_the_fast_path_decide_the_same(
    first: list[Operation], rounds: list[Round], conflict: ConflictRule, deletes: DeletePolicy
) -> None:
    rules = SyncRules(conflict=conflict, deletes=deletes, guards=NO_GUARDS)
    (plain, plain_state) = asyncio.run(play(PLAIN, rules, first, rounds))
    (fast, fast_state) = asyncio.run(play(FAST, rules, first, rounds))
    assert plain_state == fast_state
    assert len(plain) == len(fast)
    assert all(map(same_decisions, plain, fast)), (plain, fast)
