"""A pair's first link: each field that differs takes the value of the side its
``first_link`` rule names, instead of opening a conflict for a person.

The shipped mappings take finance and legal fields from AFAS and contact details from
the CRM; a blank never replaces a filled value; ``newest`` follows the records'
modification times; ``manual`` (or no rule under ``conflict = "manual"``) keeps a
conflict. Values equal after the field's normalisers are no difference at all.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncd.engine.actions import OpenConflict, Update
from syncd.engine.cycle import Connection, run_cycle
from syncd.engine.match import MatchDecision, MatchKind
from syncd.engine.matchplan import to_csv
from syncd.engine.plan import PlanInput, make_plan
from syncd.engine.reconcile import MISSING, FieldRule, Outcome, reconcile_field
from syncd.engine.review import apply_match_plan, match_plan
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import EntityMapping, load_mappings
from syncd.policy import ConflictRule, FirstLink, Guards, SyncRules
from syncd.records import Record, Side, Value
from syncd.sim.companies import companies
from syncd.state.store import StateStore

MAPPINGS = load_mappings(Path(__file__).resolve().parents[2] / "mappings", ["customer", "supplier"])
CRM, AFAS = Side.CRM, Side.AFAS
RULES = SyncRules(guards=Guards(min_records_for_share=100_000))  # conflict = manual
Fields = dict[str, Value]


def company(seed: int = 5) -> Fields:
    return dict(next(companies(1, seed=seed)).fields)


def drifted(fields: Fields) -> tuple[Fields, Fields]:
    """The same company after years apart: capitals in the CRM's name, an old phone
    number and another e-mail address in AFAS, no IBAN in the CRM."""
    crm = {**fields, "name": str(fields["name"]).upper(), "iban": None}
    afas = {**fields, "phone": "+31201111111", "email": "old@example.nl"}
    return crm, afas


def canonical(mapping: EntityMapping, side: Side, fields: Fields) -> Fields:
    """``fields`` as read back from ``side``."""
    return mapping.to_canonical(side, mapping.to_native(side, fields))


def with_first_link(mapping: EntityMapping, rule: FirstLink | None) -> EntityMapping:
    fields = tuple(dataclasses.replace(f, first_link=rule) for f in mapping.fields)
    return dataclasses.replace(mapping, fields=fields)


# --- one field -------------------------------------------------------------------------

FIRST = {
    "afas": (FieldRule(first_link=FirstLink.AFAS), CRM, Outcome.RESOLVED, "b", CRM),
    "crm": (FieldRule(first_link=FirstLink.CRM), AFAS, Outcome.RESOLVED, "a", AFAS),
    "newest, crm newer": (FieldRule(first_link=FirstLink.NEWEST), CRM, Outcome.RESOLVED, "a", AFAS),
    "newest, afas newer": (
        FieldRule(first_link=FirstLink.NEWEST),
        AFAS,
        Outcome.RESOLVED,
        "b",
        CRM,
    ),
    "manual": (FieldRule(first_link=FirstLink.MANUAL), CRM, Outcome.CONFLICT, None, None),
    # Without a first-link rule, the field's conflict rule decides, as before.
    "none, conflict manual": (FieldRule(), CRM, Outcome.CONFLICT, None, None),
    "none, conflict crm_wins": (
        FieldRule(conflict=ConflictRule.CRM_WINS),
        AFAS,
        Outcome.RESOLVED,
        "a",
        AFAS,
    ),
    # The conflict rule no longer decides a first link where first_link says otherwise.
    "afas over conflict crm_wins": (
        FieldRule(conflict=ConflictRule.CRM_WINS, first_link=FirstLink.AFAS),
        CRM,
        Outcome.RESOLVED,
        "b",
        CRM,
    ),
}


@pytest.mark.parametrize("case", FIRST.values(), ids=list(FIRST))
def test_a_field_without_base_takes_the_side_its_rule_names(
    case: tuple[FieldRule, Side, Outcome, Value, Side | None],
) -> None:
    rule, newer, outcome, value, target = case
    decision = reconcile_field("f", rule, MISSING, "a", "b", newer)
    assert (decision.outcome, decision.value, decision.target) == (outcome, value, target)


@pytest.mark.parametrize("blank_overwrites", [False, True])
@pytest.mark.parametrize("preferred", [FirstLink.AFAS, FirstLink.CRM, FirstLink.NEWEST])
def test_a_blank_on_the_preferred_side_never_replaces_a_filled_value(
    preferred: FirstLink, blank_overwrites: bool
) -> None:
    rule = FieldRule(first_link=preferred, blank_overwrites=blank_overwrites)
    filled_on = CRM if preferred is FirstLink.AFAS else AFAS
    values = {filled_on: "filled", filled_on.other: None}
    newer = filled_on.other  # for newest: the blank side was modified last
    decision = reconcile_field("f", rule, MISSING, values[CRM], values[AFAS], newer)
    assert (decision.outcome, decision.value, decision.target) == (
        Outcome.RESOLVED,
        "filled",
        filled_on.other,
    )


# --- the plan of a matched pair ----------------------------------------------------------


def pair_plan(
    crm: Fields,
    afas: Fields,
    mapping: EntityMapping,
    *,
    crm_modified: datetime | None = None,
    afas_modified: datetime | None = None,
) -> tuple[dict[str, tuple[Side, Value]], list[str]]:
    """What the plan of a newly matched pair writes (field -> (target, value)), and the
    fields it leaves in conflict."""
    records = {
        CRM: Record("c1", crm, modified=crm_modified),
        AFAS: Record("a1", afas, modified=afas_modified),
    }
    decision = MatchDecision(MatchKind.LINK, CRM, records[CRM], records[AFAS], "match on kvk")
    plan = make_plan(PlanInput("customer", mapping, RULES, [], [decision], {}, link_count=0))
    writes = {
        name: (a.target, value)
        for a in plan.actions
        if isinstance(a, Update)
        for name, value in a.fields.items()
    }
    return writes, [a.field for a in plan.actions if isinstance(a, OpenConflict)]


def test_the_shipped_mapping_settles_a_drifted_pair_without_a_conflict() -> None:
    fields = company()
    crm, afas = drifted(fields)
    mapping = MAPPINGS["customer"]
    writes, conflicts = pair_plan(
        canonical(mapping, CRM, crm), canonical(mapping, AFAS, afas), mapping
    )
    assert conflicts == []
    assert writes["name"] == (CRM, fields["name"])  # AFAS keeps the legal name
    assert writes["phone"] == (AFAS, fields["phone"])  # the CRM keeps contact details
    assert writes["email"] == (AFAS, fields["email"])
    assert writes["iban"] == (CRM, fields["iban"])  # blank in the CRM: AFAS's is kept


def test_newest_takes_the_record_modified_last() -> None:
    fields = company()
    crm, afas = drifted(fields)
    mapping = with_first_link(MAPPINGS["customer"], FirstLink.NEWEST)
    early, late = datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)
    crm, afas = canonical(mapping, CRM, crm), canonical(mapping, AFAS, afas)

    crm_newer, _ = pair_plan(crm, afas, mapping, crm_modified=late, afas_modified=early)
    afas_newer, _ = pair_plan(crm, afas, mapping, crm_modified=early, afas_modified=late)

    assert crm_newer["name"] == (AFAS, str(fields["name"]).upper())
    assert crm_newer["phone"] == (AFAS, fields["phone"])
    assert afas_newer["name"] == (CRM, fields["name"])
    assert afas_newer["phone"] == (CRM, "+31201111111")
    assert crm_newer["iban"] == afas_newer["iban"] == (CRM, fields["iban"])  # never blanked


@pytest.mark.parametrize("rule", [FirstLink.MANUAL, None])
def test_manual_keeps_a_conflict_for_a_person(rule: FirstLink | None) -> None:
    crm, afas = drifted(company())
    mapping = with_first_link(MAPPINGS["customer"], rule)
    writes, conflicts = pair_plan(
        canonical(mapping, CRM, crm), canonical(mapping, AFAS, afas), mapping
    )
    assert sorted(conflicts) == ["email", "name", "phone"]
    assert set(writes) == {"iban"}  # a blank is no conflict: the filled value is kept


# --- cycles ------------------------------------------------------------------------------


def world(rules: SyncRules = RULES) -> tuple[dict[Side, MemoryGateway], Fields, str, str]:
    gateways = {side: MemoryGateway(side, MAPPINGS, page_size=50) for side in Side}
    fields = company()
    crm, afas = drifted(fields)
    crm_id = gateways[CRM].put("customer", MAPPINGS["customer"].to_native(CRM, crm))
    afas_id = gateways[AFAS].put("customer", MAPPINGS["customer"].to_native(AFAS, afas))
    for n in range(1, 4):  # some companies that agree, around it
        other = company(seed=100 + n)
        for side in Side:
            gateways[side].put("customer", MAPPINGS["customer"].to_native(side, other))
    return gateways, fields, crm_id, afas_id


def values(gateway: MemoryGateway, record_id: str) -> Fields:
    return MAPPINGS["customer"].to_canonical(gateway.side, gateway.row("customer", record_id))


async def linked_by(
    path: str, store: StateStore
) -> tuple[Connection, dict[Side, MemoryGateway], Fields, str, str]:
    """The drifted world, its pairs kept in the match review if ``path`` says so (a
    first sync matches them itself)."""
    rules = dataclasses.replace(RULES, review_first=path == "match review")
    gateways, fields, crm_id, afas_id = world(rules)
    conn = Connection("t", gateways, store, MAPPINGS, rules)
    if path == "match review":
        plan = await match_plan(conn, "customer")
        await apply_match_plan(conn, "customer", [(p.crm.id, p.afas.id) for p in plan if p.keep])
    return conn, gateways, fields, crm_id, afas_id


@pytest.mark.parametrize("path", ["first sync", "match review"])
async def test_a_first_run_opens_no_conflict_for_drifted_pairs(
    store: StateStore, path: str
) -> None:
    """Both ways a pair is first linked: matched by a first sync (decided while listing),
    and kept in the match plan (linked without a base, reconciled by the next cycle)."""
    conn, gateways, fields, crm_id, afas_id = await linked_by(path, store)

    report = await run_cycle(conn, "customer")

    assert await store.conflicts("t") == []
    assert "conflicts" not in report.counts
    crm, afas = values(gateways[CRM], crm_id), values(gateways[AFAS], afas_id)
    assert crm == afas
    assert (crm["name"], crm["iban"]) == (fields["name"], fields["iban"])  # from AFAS
    assert (afas["phone"], afas["email"]) == (fields["phone"], fields["email"])  # from the CRM
    assert (await run_cycle(conn, "customer")).plan.writes == 0


async def test_after_the_first_link_edits_on_both_sides_are_a_conflict(store: StateStore) -> None:
    """The base of every field the first link settled is kept, whichever side was
    written: a later edit on both sides is a conflict under the conflict rule, never
    settled again by first_link."""
    gateways, _, crm_id, afas_id = world()
    conn = Connection("t", gateways, store, MAPPINGS, RULES)
    await run_cycle(conn, "customer")  # writes the name to the CRM, the phone to AFAS

    mapping = MAPPINGS["customer"]
    gateways[CRM].edit(
        "customer", crm_id, mapping.to_native(CRM, {"name": "Crm Naam", "phone": "0301111111"})
    )
    gateways[AFAS].edit(
        "customer", afas_id, mapping.to_native(AFAS, {"name": "Afas Naam", "phone": "0302222222"})
    )
    report = await run_cycle(conn, "customer")

    assert sorted(c.field for c in await store.conflicts("t")) == ["name", "phone"]
    assert report.plan.writes == 0


class Crash(Exception):
    """The process dies: not a syncd error."""


@pytest.mark.parametrize("path", ["first sync", "match review"])
async def test_a_first_link_write_that_never_landed_is_no_first_link_again(
    store: StateStore, path: str
) -> None:
    """The link starts with the overwritten value as its base: when the write does not
    land (the process died), a user's edit of that field meanwhile is a conflict next
    cycle, not overwritten by first_link again. A pair kept in the match review is
    linked without a base: its first cycle gives it the same one before writing."""
    conn, gateways, fields, _, afas_id = await linked_by(path, store)
    gateways[AFAS].fail_next("update", Crash("died before writing the phone to AFAS"))
    with pytest.raises(Crash):
        await run_cycle(conn, "customer")
    gateways[AFAS].clear_faults()
    mapping = MAPPINGS["customer"]
    gateways[AFAS].edit("customer", afas_id, mapping.to_native(AFAS, {"phone": "0303333333"}))

    await run_cycle(conn, "customer")

    assert [c.field for c in await store.conflicts("t")] == ["phone"]
    afas = values(gateways[AFAS], afas_id)
    assert (afas["phone"], afas["email"]) == ("+31303333333", fields["email"])


async def test_values_equal_after_normalising_are_no_difference(store: StateStore) -> None:
    """Even with every field's first link manual, a pair whose values differ only in
    what the field's normalisers remove opens nothing and writes nothing."""
    mappings = {"customer": with_first_link(MAPPINGS["customer"], FirstLink.MANUAL)}
    gateways = {side: MemoryGateway(side, mappings, page_size=50) for side in Side}
    fields = company()
    crm = mappings["customer"].to_native(CRM, fields)
    afas = mappings["customer"].to_native(AFAS, fields)
    crm.update(
        name=f"  {fields['name']} ".replace(" ", "  "),  # collapse_spaces
        phone="020-123 45 67",  # phone
        company_email=str(fields["email"]).upper(),  # email
        zip=str(fields["postcode"]).replace(" ", "").lower(),  # postcode
        iban=" ".join(str(fields["iban"])[i : i + 4] for i in range(0, 18, 4)),  # iban
        website=f" {fields['website']} ",  # trim
    )
    afas.update(Phone="+31 (0)20 1234567")
    gateways[CRM].put("customer", crm)
    gateways[AFAS].put("customer", afas)
    conn = Connection("t", gateways, store, mappings, RULES)

    report = await run_cycle(conn, "customer")

    assert report.counts["linked"] == 1
    assert await store.conflicts("t") == []
    assert report.plan.writes == 0


async def test_the_match_plan_says_whose_value_each_differing_field_takes(
    store: StateStore,
) -> None:
    gateways, _, crm_id, afas_id = world()
    conn = Connection("t", gateways, store, MAPPINGS, RULES)

    plan = await match_plan(conn, "customer")

    (drifted_pair,) = (p for p in plan if p.crm.id == crm_id)
    assert drifted_pair.afas.id == afas_id
    assert drifted_pair.takes == ("name=afas", "email=crm", "phone=crm", "iban=afas")
    assert all(p.takes == () for p in plan if p is not drifted_pair)
    header, *rows = to_csv(plan).splitlines()
    assert header.endswith(",first_link")
    assert any(row.endswith(",name=afas email=crm phone=crm iban=afas") for row in rows)
