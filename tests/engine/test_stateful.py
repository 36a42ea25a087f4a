"""The engine's guarantees, under random edits on both sides, crashes and lost responses.

A hypothesis state machine plays users on both sides: creating companies (on one side,
or the same company on both, found by its KvK number or linked in the match review),
editing fields, deleting. Between rounds of edits it runs
a sync phase in which faults are injected — a crash (an exception that is not syncd's)
before or after any gateway write or at any state-store commit, and responses lost after
the write landed — restarting the "process" after each crash. Then it lets the engine
run without faults and checks. The CRM side's changes come from a search index that lags
behind writes, as HubSpot's does: until it catches up (a rule of its own), it shows each
record as it was, with its earlier values and modification time. The checks:

* convergence: the cycle after the first fault-free cycle writes nothing, and so does a
  full sweep after it (which is also echo suppression: our own writes come back equal
  to the base);
* safety and maximality: every field holds what an independent model of the rules says
  it must, from the values users left on both sides (no edit lost except by the
  configured conflict rule; every non-conflicting edit propagated; a pair's first link
  settles each field by its first_link rule);
* no duplicates: every company exists at most once per side, and every active record is
  linked to exactly one record on the other side.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TypeVar

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import initialize, invariant, precondition, rule

from syncd.engine.cycle import Connection, CycleReport, run_cycle
from syncd.engine.review import apply_match_plan
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import EntityMapping, load_mapping
from syncd.policy import ConflictRule, DeletePolicy, FirstLink, Guards, SyncRules
from syncd.records import Side, Value
from syncd.state.store import StateStore
from tests.engine.stateful_faults import FAULTS, Crash, CrashingStore, arm
from tests.engine.stateful_machine import StoreMachine
from tests.engine.stateful_rules import ModelRecord, RulesModel, fill_created_id

T = TypeVar("T")
ENTITY = "customer"
FIELDS = ("name", "city", "phone")
VALUES = st.sampled_from(["alpha", "beta", "gamma", None])
MAPPING = Path(__file__).parent / "data" / "stateful_customer.toml"
NO_GUARDS = Guards(max_delete_share=1.0, max_blank_share=1.0, refuse_empty_side=False)
Company = ModelRecord


class SyncMachine(StoreMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mapping: EntityMapping = load_mapping(MAPPING)
        self.gateways = {
            side: MemoryGateway(
                side, {ENTITY: self.mapping}, page_size=3, search_lags=side is Side.CRM
            )
            for side in Side
        }
        self.companies: list[Company] = []
        self.next_kvk = 10_000_000
        self.sync_rules = SyncRules()
        self.first_link: dict[str, FirstLink] = {}

    # --- configuration ---------------------------------------------------------------

    @initialize(
        conflict=st.sampled_from(list(ConflictRule)),
        blank_overwrites=st.booleans(),
        deletes=st.sampled_from(list(DeletePolicy)),
        first_link=st.fixed_dictionaries(
            dict.fromkeys(FIELDS, st.sampled_from([None, *FirstLink]))
        ),
    )
    def configure(
        self,
        conflict: ConflictRule,
        blank_overwrites: bool,
        deletes: DeletePolicy,
        first_link: dict[str, FirstLink | None],
    ) -> None:
        self.sync_rules = SyncRules(
            conflict=conflict,
            blank_overwrites=blank_overwrites,
            deletes=deletes,
            guards=NO_GUARDS,
        )
        fields = tuple(
            dataclasses.replace(f, first_link=first_link.get(f.name)) for f in self.mapping.fields
        )
        self.mapping = dataclasses.replace(self.mapping, fields=fields)
        self.first_link = {
            name: rule or FirstLink.following(conflict) for name, rule in first_link.items()
        }

    # --- users ------------------------------------------------------------------------

    def _native(self, side: Side, values: dict[str, Value], kvk: str | None) -> dict[str, object]:
        return self.mapping.to_native(side, {**values, "kvk": kvk})

    def _kvk(self) -> str:
        self.next_kvk += 1
        return str(self.next_kvk)

    @rule(
        side=st.sampled_from(list(Side)),
        values=st.fixed_dictionaries(dict.fromkeys(FIELDS, VALUES)),
        with_kvk=st.booleans(),
    )
    def create(self, side: Side, values: dict[str, Value], with_kvk: bool) -> None:
        """A company entered on one side; without a KvK number no match key can find it."""
        kvk = self._kvk() if with_kvk else None
        record_id = self.gateways[side].put(ENTITY, self._native(side, values, kvk))
        ids: dict[Side, str | None] = {side: record_id, side.other: None}
        self.companies.append(Company(ids, {side: dict(values), side.other: {}}))

    @rule(
        crm=st.fixed_dictionaries(dict.fromkeys(FIELDS, VALUES)),
        afas=st.fixed_dictionaries(dict.fromkeys(FIELDS, VALUES)),
    )
    def create_on_both(self, crm: dict[str, Value], afas: dict[str, Value]) -> None:
        """The same company entered in both systems: it must be linked, not duplicated."""
        kvk = self._kvk()
        values = {Side.CRM: dict(crm), Side.AFAS: dict(afas)}
        ids: dict[Side, str | None] = {
            side: self.gateways[side].put(ENTITY, self._native(side, values[side], kvk))
            for side in Side
        }
        self.companies.append(Company(ids, values))

    @rule(
        crm=st.fixed_dictionaries(dict.fromkeys(FIELDS, VALUES)),
        afas=st.fixed_dictionaries(dict.fromkeys(FIELDS, VALUES)),
    )
    def link_in_review(self, crm: dict[str, Value], afas: dict[str, Value]) -> None:
        """The same company entered in both systems without a KvK number, linked by a
        person in the match review (syncd match --apply): no base until its first cycle,
        which settles it by first_link as a first sync's match is."""
        values = {Side.CRM: dict(crm), Side.AFAS: dict(afas)}
        crm_id, afas_id = (
            self.gateways[side].put(ENTITY, self._native(side, values[side], None))
            for side in (Side.CRM, Side.AFAS)
        )
        self.run(apply_match_plan(self._connection(self.store), ENTITY, [(crm_id, afas_id)]))
        self.companies.append(Company({Side.CRM: crm_id, Side.AFAS: afas_id}, values))

    def _editable(self) -> list[tuple[int, Side]]:
        return [(i, side) for i, c in enumerate(self.companies) for side in Side if c.present(side)]

    @precondition(lambda self: bool(self._editable()))
    @rule(data=st.data(), name=st.sampled_from(FIELDS), value=VALUES)
    def edit(self, data: st.DataObject, name: str, value: Value) -> None:
        index, side = data.draw(st.sampled_from(self._editable()))
        company = self.companies[index]
        record_id = company.ids[side]
        assert record_id is not None
        self.gateways[side].edit(ENTITY, record_id, self.mapping.to_native(side, {name: value}))
        company.values[side][name] = value

    @precondition(lambda self: any(c.base is not None and not c.tombstone for c in self.companies))
    @rule(data=st.data(), side=st.sampled_from(list(Side)))
    def delete(self, data: st.DataObject, side: Side) -> None:
        linked = [c for c in self.companies if c.base is not None and not c.tombstone]
        company = data.draw(st.sampled_from(linked))
        if not company.present(side):
            return
        record_id = company.ids[side]
        assert record_id is not None
        self.gateways[side].remove(ENTITY, record_id)
        company.deleted.add(side)

    @rule()
    def search_catches_up(self) -> None:
        """The CRM's search index shows every record as it is now."""
        self.gateways[Side.CRM].catch_up_search()

    # --- the daemon -------------------------------------------------------------------

    def _connection(self, store: StateStore | CrashingStore) -> Connection:
        return Connection(
            name="test",
            gateways=self.gateways,
            store=store,  # type: ignore[arg-type]
            mappings={ENTITY: self.mapping},
            rules=self.sync_rules,
        )

    def _cycle(self, store: StateStore | CrashingStore, *, full: bool) -> CycleReport | None:
        try:
            return self.run(run_cycle(self._connection(store), ENTITY, full=full))
        except Crash:
            return None  # the process died; the next cycle is a restart on the same state

    @rule(faults=st.lists(FAULTS, max_size=3), full_first=st.booleans())
    def sync(self, faults: list[tuple[str, Side, str, int]], full_first: bool) -> None:
        for kind, side, operation, n in faults:
            arm(self.gateways[side], kind, operation)
            crash_at = n if kind == "crash_commit" else None
            self._cycle(CrashingStore(self.store, crash_at), full=full_first)
            for gateway in self.gateways.values():
                gateway.clear_faults()
        first = self._cycle(self.store, full=True)
        second = self._cycle(self.store, full=False)
        third = self._cycle(self.store, full=True)
        assert first is not None
        assert second is not None
        assert third is not None
        assert second.plan.writes == 0, f"echo not suppressed: {second.plan.actions}"
        assert third.plan.writes == 0, f"no fixed point: {third.plan.actions}"
        self._expect()
        self._check_sides()

    # --- the model of the rules ------------------------------------------------------

    def _expect(self) -> None:
        """Advance the model: what every company must look like after the sync phase."""
        model = RulesModel(self.sync_rules, self.first_link, FIELDS)
        for company in self.companies:
            model.expect(company, lambda c, name: self._actual(Side.CRM, c).get(name))

    # --- comparing the model with the systems -----------------------------------------

    def _actual(self, side: Side, company: Company) -> dict[str, Value]:
        record_id = company.ids[side]
        assert record_id is not None
        return self.mapping.to_canonical(side, self.gateways[side].row(ENTITY, record_id))

    def _check_sides(self) -> None:
        links = self.run(self.store.get_links("test", ENTITY))
        active_links = {(k.crm_id, k.afas_id) for k in links if k.detached_at is None}
        for company in self.companies:
            fill_created_id(company.ids, active_links)
            for side in Side:
                if company.stored(side):
                    active = self.gateways[side].is_active(ENTITY, company.ids[side] or "")
                    assert active == company.present(side), f"{side} {company.ids[side]} active"
                    actual = {k: v for k, v in self._actual(side, company).items() if k in FIELDS}
                    expected = {k: company.values[side].get(k) for k in FIELDS}
                    assert actual == expected, f"{side} {company.ids[side]}: {actual} != {expected}"
        self._check_no_duplicates(active_links)

    def _check_no_duplicates(self, links: set[tuple[str, str]]) -> None:
        for side in Side:
            index = 0 if side is Side.CRM else 1
            ids = [pair[index] for pair in links]
            assert len(ids) == len(set(ids)), f"a {side} record is linked twice"
            rows = self.gateways[side].rows(ENTITY)
            assert len(rows) == sum(1 for c in self.companies if c.stored(side)), (
                f"{side} holds {len(rows)} records, the model expects fewer: a duplicate"
            )

    @invariant()
    def model_ids_are_unique(self) -> None:
        for side in Side:
            ids = [c.ids[side] for c in self.companies if c.ids[side] is not None]
            assert len(ids) == len(set(ids))


# SYNCD_STATEFUL_EXAMPLES runs a longer campaign than CI's.
SyncMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("SYNCD_STATEFUL_EXAMPLES", "60")),
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSync = pytest.mark.slow(SyncMachine.TestCase)
