"""Every per-field case of the three-way merge, as a table."""

from __future__ import annotations

import pytest

from syncd.engine.reconcile import MISSING, FieldRule, Outcome, reconcile_field
from syncd.policy import ConflictRule, Direction
from syncd.records import Side

CRM, AFAS = Side.CRM, Side.AFAS
BOTH = FieldRule()
MANUAL = FieldRule(conflict=ConflictRule.MANUAL)
CRM_WINS = FieldRule(conflict=ConflictRule.CRM_WINS)
AFAS_WINS = FieldRule(conflict=ConflictRule.AFAS_WINS)
NEWEST = FieldRule(conflict=ConflictRule.NEWEST_WINS)
BLANKS_OK = FieldRule(conflict=ConflictRule.CRM_WINS, blank_overwrites=True)
TO_AFAS = FieldRule(direction=Direction.TO_AFAS)
TO_CRM = FieldRule(direction=Direction.TO_CRM)
ON_CREATE = FieldRule(direction=Direction.ON_CREATE)

# rule, base, crm, afas, newer side -> outcome, value after, target of the write
CASES = {
    "unchanged": (BOTH, "a", "a", "a", CRM, Outcome.UNCHANGED, "a", None),
    "unchanged blank": (BOTH, None, None, None, CRM, Outcome.UNCHANGED, None, None),
    "changed in crm": (BOTH, "a", "b", "a", AFAS, Outcome.PROPAGATE, "b", AFAS),
    "changed in afas": (BOTH, "a", "a", "b", CRM, Outcome.PROPAGATE, "b", CRM),
    "filled in crm": (BOTH, None, "b", None, CRM, Outcome.PROPAGATE, "b", AFAS),
    "both same": (BOTH, "a", "b", "b", CRM, Outcome.AGREED, "b", None),
    "both cleared": (BOTH, "a", None, None, CRM, Outcome.AGREED, None, None),
    "conflict manual": (MANUAL, "a", "b", "c", CRM, Outcome.CONFLICT, None, None),
    "conflict crm_wins": (CRM_WINS, "a", "b", "c", AFAS, Outcome.RESOLVED, "b", AFAS),
    "conflict afas_wins": (AFAS_WINS, "a", "b", "c", CRM, Outcome.RESOLVED, "c", CRM),
    "conflict newest crm": (NEWEST, "a", "b", "c", CRM, Outcome.RESOLVED, "b", AFAS),
    "conflict newest afas": (NEWEST, "a", "b", "c", AFAS, Outcome.RESOLVED, "c", CRM),
    "cleared in crm, blanks held": (BOTH, "a", None, "a", CRM, Outcome.HELD, None, None),
    "cleared in afas, blanks held": (BOTH, "a", "a", None, CRM, Outcome.HELD, None, None),
    "cleared in crm, blanks allowed": (
        BLANKS_OK,
        "a",
        None,
        "a",
        CRM,
        Outcome.PROPAGATE,
        None,
        AFAS,
    ),
    "conflict blank vs value, manual": (MANUAL, "a", None, "c", CRM, Outcome.RESOLVED, "c", CRM),
    "conflict blank vs value, crm_wins": (
        CRM_WINS,
        "a",
        None,
        "c",
        CRM,
        Outcome.RESOLVED,
        "c",
        CRM,
    ),
    "conflict blank vs value, blanks allowed": (
        BLANKS_OK,
        "a",
        None,
        "c",
        AFAS,
        Outcome.RESOLVED,
        None,
        AFAS,
    ),
    "no base, equal": (BOTH, MISSING, "a", "a", CRM, Outcome.AGREED, "a", None),
    "no base, one blank": (MANUAL, MISSING, None, "a", CRM, Outcome.RESOLVED, "a", CRM),
    "no base, differ, manual": (MANUAL, MISSING, "a", "b", CRM, Outcome.CONFLICT, None, None),
    "no base, differ, afas_wins": (AFAS_WINS, MISSING, "a", "b", CRM, Outcome.RESOLVED, "b", CRM),
    "to_afas: owner changed": (TO_AFAS, "a", "b", "a", CRM, Outcome.PROPAGATE, "b", AFAS),
    "to_afas: target changed": (TO_AFAS, "a", "a", "b", CRM, Outcome.HELD, None, None),
    "to_afas: both changed, owner wins": (
        TO_AFAS,
        "a",
        "b",
        "c",
        AFAS,
        Outcome.PROPAGATE,
        "b",
        AFAS,
    ),
    "to_afas: owner cleared, blanks held": (TO_AFAS, "a", None, "a", CRM, Outcome.HELD, None, None),
    "to_crm: owner changed": (TO_CRM, "a", "a", "b", CRM, Outcome.PROPAGATE, "b", CRM),
    "to_crm: target changed": (TO_CRM, "a", "b", "a", CRM, Outcome.HELD, None, None),
    "on_create: changed later": (ON_CREATE, "a", "b", "c", CRM, Outcome.HELD, None, None),
    "on_create: unchanged": (ON_CREATE, "a", "a", "a", CRM, Outcome.HELD, None, None),
}


@pytest.mark.parametrize(
    ("rule", "base", "crm", "afas", "newer", "outcome", "value", "target"),
    CASES.values(),
    ids=CASES.keys(),
)
def test_field_case(
    rule: FieldRule,
    base: object,
    crm: str | None,
    afas: str | None,
    newer: Side,
    outcome: Outcome,
    value: str | None,
    target: Side | None,
) -> None:
    decision = reconcile_field("f", rule, base, crm, afas, newer)  # type: ignore[arg-type]
    assert decision.outcome is outcome, decision.reason
    assert decision.target is target
    if outcome is not Outcome.HELD and outcome is not Outcome.CONFLICT:
        assert decision.value == value


def test_only_writes_advance_the_base_and_agreements() -> None:
    held = reconcile_field("f", BOTH, "a", None, "a", CRM)
    conflict = reconcile_field("f", MANUAL, "a", "b", "c", CRM)
    agreed = reconcile_field("f", BOTH, "a", "b", "b", CRM)
    assert not held.advances_base
    assert not conflict.advances_base
    assert agreed.advances_base


def test_after_a_propagation_the_next_round_is_unchanged() -> None:
    """Echo suppression falls out of the model: our own write comes back equal to the base."""
    first = reconcile_field("f", BOTH, "a", "b", "a", CRM)
    assert first.outcome is Outcome.PROPAGATE
    echo = reconcile_field("f", BOTH, first.value, "b", first.value, AFAS)
    assert echo.outcome is Outcome.UNCHANGED
