"""The pure planning step: pairs, deletes, creates, conflicts and the safety guards."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any, TypeVar

import pytest

from syncd.engine.actions import (
    Adopt,
    AdvanceBase,
    CloseConflicts,
    Create,
    Detach,
    LinkPair,
    OpenConflict,
    PairState,
    Plan,
    Update,
)
from syncd.engine.match import MatchDecision, MatchKind
from syncd.engine.plan import PlanInput, field_rules, full_agreement, make_plan, reconcile_pair
from syncd.engine.reconcile import Outcome
from syncd.mapping import EntityMapping, load_mapping
from syncd.policy import ConflictRule, DeletePolicy, Direction, Guards, SyncRules
from syncd.records import Fields, Record, Side, Value
from syncd.state.rows import Link

CRM, AFAS = Side.CRM, Side.AFAS
MAPPING = load_mapping(Path(__file__).parent / "data" / "stateful_customer.toml")
BASE: dict[str, Value] = {"kvk": "12345678", "name": "Acme", "city": "Utrecht", "phone": None}


def with_directions(**directions: Direction) -> EntityMapping:
    fields = tuple(
        dataclasses.replace(f, direction=directions.get(f.name, f.direction))
        for f in MAPPING.fields
    )
    return dataclasses.replace(MAPPING, fields=fields)


def link(n: int, base: dict[str, Value] | None = None) -> Link:
    return Link("c", "customer", f"{n}", f"A{n}", base=dict(BASE if base is None else base), id=n)


def pair(n: int, crm: dict[str, Value] | None, afas: dict[str, Value] | None) -> PairState:
    def record(side: Side, values: dict[str, Value] | None) -> Record | None:
        return None if values is None else Record(link(n).id_on(side), {**BASE, **values})

    return PairState(link(n), record(CRM, crm), record(AFAS, afas))


def plan_for(
    pairs: list[PairState],
    *,
    rules: SyncRules | None = None,
    mapping: EntityMapping = MAPPING,
    matches: list[MatchDecision] | None = None,
    open_conflicts: dict[int, frozenset[str]] | None = None,
    link_count: int | None = None,
    listed: dict[Side, int] | None = None,
) -> Plan:
    return make_plan(
        PlanInput(
            entity="customer",
            mapping=mapping,
            rules=rules or SyncRules(guards=Guards(min_records_for_share=1000)),
            pairs=pairs,
            matches=matches or [],
            open_conflicts=open_conflicts or {},
            link_count=len(pairs) if link_count is None else link_count,
            listed=listed,
        )
    )


A = TypeVar("A")


def of(plan: Plan, kind: type[A]) -> list[A]:
    return [a for a in plan.actions if isinstance(a, kind)]


def test_unchanged_pair_plans_nothing() -> None:
    plan = plan_for([pair(1, {}, {})])
    assert plan.actions == []
    assert plan.writes == 0


def test_partial_update_writes_only_the_changed_field() -> None:
    plan = plan_for([pair(1, {"name": "Acme B.V."}, {"city": "Zeist"})])
    updates = {u.target: u for u in of(plan, Update)}
    assert updates[AFAS].fields == {"name": "Acme B.V."}
    assert updates[CRM].fields == {"city": "Zeist"}
    assert updates[AFAS].before == {"name": "Acme"}


def test_equal_changes_only_advance_the_base() -> None:
    plan = plan_for([pair(1, {"name": "New"}, {"name": "New"})])
    assert plan.writes == 0
    assert of(plan, AdvanceBase) == [AdvanceBase(("1", "A1"), {"name": "New"})]


def test_manual_conflict_is_opened_and_nothing_written() -> None:
    plan = plan_for([pair(1, {"name": "X"}, {"name": "Y"})])
    assert plan.writes == 0
    assert of(plan, OpenConflict) == [OpenConflict(("1", "A1"), "name", "Acme", "X", "Y")]


def test_open_conflict_closes_once_the_sides_agree() -> None:
    plan = plan_for(
        [pair(1, {"name": "Z"}, {"name": "Z"})], open_conflicts={1: frozenset({"name"})}
    )
    closes = of(plan, CloseConflicts)
    assert len(closes) == 1
    assert closes[0].fields == ("name",)


def test_conflict_rule_writes_the_winner() -> None:
    rules = SyncRules(conflict=ConflictRule.AFAS_WINS, guards=Guards(min_records_for_share=1000))
    plan = plan_for([pair(1, {"name": "X"}, {"name": "Y"})], rules=rules)
    (update,) = of(plan, Update)
    assert update.target is CRM
    assert update.fields == {"name": "Y"}


def test_newest_wins_uses_record_times() -> None:
    from datetime import UTC, datetime

    rules = SyncRules(conflict=ConflictRule.NEWEST_WINS, guards=Guards(min_records_for_share=1000))
    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    state = PairState(
        link(1),
        Record("1", {**BASE, "name": "X"}, modified=late),
        Record("A1", {**BASE, "name": "Y"}, modified=early),
    )
    (update,) = of(plan_for([state], rules=rules), Update)
    assert update.fields == {"name": "X"}


@pytest.mark.parametrize(
    ("deletes", "survivor_edit", "deactivate"),
    [
        (DeletePolicy.IGNORE, {}, False),
        (DeletePolicy.BLOCK, {}, True),
        (DeletePolicy.BLOCK, {"city": "Zeist"}, False),
    ],
)
def test_deletes_follow_the_policy_and_never_destroy_edits(
    deletes: DeletePolicy, survivor_edit: dict[str, Value], deactivate: bool
) -> None:
    rules = SyncRules(deletes=deletes, guards=Guards(min_records_for_share=1000))
    plan = plan_for([pair(1, None, survivor_edit)], rules=rules)
    (detach,) = of(plan, Detach)
    assert detach.gone is CRM
    assert detach.deactivate is deactivate


def test_one_way_fields_are_not_created_from_the_wrong_side() -> None:
    mapping = with_directions(phone=Direction.TO_CRM, city=Direction.ON_CREATE)
    source = Record("1", {**BASE, "phone": "+31201234567"})
    decision = MatchDecision(MatchKind.CREATE, CRM, source)
    (create,) = of(plan_for([], mapping=mapping, matches=[decision]), Create)
    assert create.target is AFAS
    assert "phone" not in create.fields
    assert create.fields["city"] == "Utrecht"


def test_creates_can_be_switched_off_per_side() -> None:
    rules = SyncRules(create_in_afas=False)
    decision = MatchDecision(MatchKind.CREATE, CRM, Record("1", BASE))
    plan = plan_for([], rules=rules, matches=[decision])
    assert of(plan, Create) == []
    assert [n.event for n in plan.notes] == ["create_skipped"]


def supplier_plan(matches: list[MatchDecision], **siblings: Any) -> Plan:
    """The plan of ``matches`` of suppliers, with what their sibling customers say."""
    data = PlanInput("supplier", MAPPING, SyncRules(), [], matches, {}, 0, **siblings)
    return make_plan(data)


def test_a_second_role_waits_for_its_first_in_afas_and_says_so() -> None:
    first, second = Record("1", BASE), Record("2", BASE)
    decisions = [MatchDecision(MatchKind.CREATE, CRM, r) for r in (first, second)]
    plan = supplier_plan(decisions, sibling_first={(CRM, "1"): "customer"})
    assert [c.source.id for c in of(plan, Create)] == ["2"]
    assert plan.deferred == [(CRM, first)]  # pulled again until it goes
    [note] = plan.notes
    assert (note.record_id, note.event) == ("1", "create_skipped")
    assert "customer" in note.reason


def test_a_relation_whose_organisation_is_linked_adopts_that_company() -> None:
    creditor = Record("A7", BASE)
    decision = MatchDecision(MatchKind.CREATE, AFAS, creditor)
    plan = supplier_plan([decision], sibling_linked={"A7": "9"})
    [adopt] = plan.actions
    assert isinstance(adopt, Adopt)
    assert (adopt.crm_id, adopt.afas_id, adopt.target) == ("9", "A7", CRM)


def test_a_link_through_the_other_role_writes_its_keys_when_links_do() -> None:
    crm, afas = Record("1", BASE, correlation="C7"), Record("A1", BASE)
    decision = MatchDecision(MatchKind.LINK, AFAS, afas, crm, "kvk", adopt=True)
    rules = SyncRules(write_correlation_keys=True)
    [adopt] = of(plan_for([], rules=rules, matches=[decision]), Adopt)
    assert (adopt.crm_id, adopt.afas_id, adopt.target) == ("1", "A1", CRM)
    assert adopt.write_keys
    assert (adopt.crm_correlation, adopt.afas_correlation) == ("C7", None)


def test_a_matched_pair_is_linked_and_reconciled_without_a_base() -> None:
    crm = Record("1", {**BASE, "phone": "+31201234567"})
    afas = Record("A1", {**BASE, "phone": None, "city": "Zeist"})
    plan = plan_for([], matches=[MatchDecision(MatchKind.LINK, CRM, crm, afas, "kvk")])
    assert isinstance(plan.actions[0], LinkPair)
    updates = {u.target: u.fields for u in of(plan, Update)}
    assert updates == {AFAS: {"phone": "+31201234567"}}  # the blank is filled
    assert [c.field for c in of(plan, OpenConflict)] == ["city"]


def test_a_link_carries_ids_and_correlation_keys_not_the_records() -> None:
    # The listings can go once the plan is made: nothing in it holds a matched record.
    crm = Record("1", BASE, correlation="A1")
    afas = Record("A1", {**BASE, "city": "Zeist"})
    rules = SyncRules(write_correlation_keys=True)
    plan = plan_for(
        [], rules=rules, matches=[MatchDecision(MatchKind.LINK, AFAS, afas, crm, "kvk")]
    )
    [link] = of(plan, LinkPair)
    assert link == LinkPair("1", "A1", "kvk", True, crm_correlation="A1", afas_correlation=None)
    [agreed] = of(plan, AdvanceBase)
    assert agreed.pair == ("1", "A1")
    assert agreed.fields["kvk"] == "12345678"
    assert agreed.fields["name"] == "Acme"
    assert "city" not in agreed.fields  # in conflict: no base yet
    assert isinstance(agreed.fields, Fields)  # compact: the new link's base as it is


@pytest.mark.parametrize("on_create", [(), ("city",), ("kvk", "phone")])
def test_a_new_pair_that_agrees_everywhere_plans_what_reconciling_would(
    on_create: tuple[str, ...],
) -> None:
    # The shortcut a first sync takes for most pairs: the base reconciling each field
    # would give, when every field reconciled is AGREED; None as soon as one is not.
    mapping = with_directions(**{name: Direction.ON_CREATE for name in on_create})
    rules = field_rules(mapping, SyncRules())
    values: list[Value] = ["Acme", "Zeist", None, ""]
    for name, crm_value, afas_value in itertools.product(BASE, values, values):
        crm = Record("1", {**BASE, name: crm_value})
        afas = Record("A1", {**BASE, name: afas_value})
        decisions = reconcile_pair({}, crm, afas, rules, CRM)
        reconciled = [d for d in decisions if d.field not in on_create]
        agreed = {d.field: d.value for d in reconciled if d.outcome is Outcome.AGREED}
        every = len(agreed) == len(reconciled)
        assert full_agreement(crm, afas, rules) == (agreed if every else None)
        assert full_agreement(afas, crm, rules) == (agreed if every else None)
        if every:
            match = MatchDecision(MatchKind.LINK, CRM, crm, afas, "kvk")
            plan = plan_for([], mapping=mapping, matches=[match])
            assert plan.actions[1:] == [AdvanceBase(("1", "A1"), Fields(agreed))]


def test_an_agreed_base_holds_the_partners_values_not_copies_of_the_records() -> None:
    # A first sync holds the side it listed whole (the partners), not the other side's
    # pages: 100,000 bases holding the page records' strings would be a second copy.
    long_name = "Aannemersbedrijf " + "Van der Berg " * 5  # too long to be shared
    crm = Record("1", {**BASE, "name": "".join(long_name)})
    afas = Record("A1", {**BASE, "name": "".join(long_name)})
    assert crm.fields["name"] is not afas.fields["name"]
    plan = plan_for([], matches=[MatchDecision(MatchKind.LINK, CRM, crm, afas, "kvk")])
    [agreed] = of(plan, AdvanceBase)
    assert agreed.fields["name"] is afas.fields["name"]


GUARDED = SyncRules(
    deletes=DeletePolicy.BLOCK,
    guards=Guards(max_delete_share=0.1, max_blank_share=0.1, min_records_for_share=10),
)


def test_mass_delete_trips_the_guard() -> None:
    pairs = [pair(n, None, {}) for n in range(3)]
    plan = plan_for(pairs, rules=GUARDED, link_count=20)
    assert [f.guard for f in plan.findings] == ["delete_share"]


def test_a_few_deletes_pass() -> None:
    plan = plan_for([pair(1, None, {})], rules=GUARDED, link_count=20)
    assert plan.findings == []


def test_blanking_many_records_trips_the_guard() -> None:
    rules = dataclasses.replace(GUARDED, blank_overwrites=True)
    pairs = [pair(n, {"city": None}, {}) for n in range(3)]
    plan = plan_for(pairs, rules=rules, link_count=20)
    assert [f.guard for f in plan.findings] == ["blank_share"]


def test_a_side_that_lists_nothing_trips_the_guard() -> None:
    plan = plan_for([], rules=GUARDED, link_count=5, listed={CRM: 5, AFAS: 0})
    assert [f.guard for f in plan.findings] == ["empty_side"]
    assert "afas listed no customer records" in plan.findings[0].message


def test_shares_are_not_judged_on_few_links() -> None:
    pairs = [pair(n, None, {}) for n in range(3)]
    assert plan_for(pairs, rules=GUARDED, link_count=5).findings == []
