"""Per-field three-way reconciliation against the base (Unison's model, per field).

Pure: no I/O, no clock. Given the base and both sides' current canonical values of one
field, decide what to write where. Values, not timestamps, decide what changed; the
record modification times only break a conflict under ``newest_wins``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from syncd.policy import ConflictRule, Direction, FirstLink
from syncd.records import Side, Value, is_blank


class Outcome(StrEnum):
    UNCHANGED = "unchanged"  # both sides equal the base
    AGREED = "agreed"  # both changed to the same value: advance the base only
    PROPAGATE = "propagate"  # changed on one side: write it to the other
    RESOLVED = "resolved"  # changed on both sides, settled by a rule: write the winner
    CONFLICT = "conflict"  # changed on both sides, rule `manual`: left for a person
    HELD = "held"  # a change that the rules keep from propagating


@dataclass(frozen=True)
class FieldRule:
    """The rules that apply to one field, with global defaults already folded in."""

    direction: Direction = Direction.BOTH
    conflict: ConflictRule = ConflictRule.MANUAL
    blank_overwrites: bool = False
    first_link: FirstLink | None = None  # None: as ``conflict`` says

    @property
    def at_first_link(self) -> FirstLink:
        return self.first_link or FirstLink.following(self.conflict)


@dataclass(frozen=True)
class FieldDecision:
    field: str
    outcome: Outcome
    value: Value = None  # the value both sides hold after the write (or agree on)
    target: Side | None = None  # where ``value`` must be written, if anywhere
    reason: str = ""

    @property
    def advances_base(self) -> bool:
        return self.outcome in (Outcome.AGREED, Outcome.PROPAGATE, Outcome.RESOLVED)


class _Missing:
    """No base yet: a newly linked pair, or a field added to the mapping."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def base_of(base: Mapping[str, Value], field: str) -> Value | _Missing:
    return base.get(field, MISSING)


def reconcile_field(
    field: str,
    rule: FieldRule,
    base: Value | _Missing,
    crm: Value,
    afas: Value,
    newer: Side,
) -> FieldDecision:
    """Decide one field of one linked pair. ``newer`` is the side modified last."""
    if rule.direction is Direction.ON_CREATE:
        return FieldDecision(field, Outcome.HELD, reason="set on create only")
    changed = {Side.CRM: base is MISSING or crm != base, Side.AFAS: base is MISSING or afas != base}
    if not changed[Side.CRM] and not changed[Side.AFAS]:
        return FieldDecision(field, Outcome.UNCHANGED, value=crm)
    if crm == afas:
        return FieldDecision(field, Outcome.AGREED, value=crm, reason="both sides agree")
    values = {Side.CRM: crm, Side.AFAS: afas}
    owner = rule.direction.source()
    if owner is not None:
        return _one_way(field, rule, owner, values, changed)
    if base is MISSING:
        return _first_link(field, rule, values, newer)
    if changed[Side.CRM] and changed[Side.AFAS]:
        return _conflict(field, rule, values, newer)
    source = Side.CRM if changed[Side.CRM] else Side.AFAS
    return _propagate(field, rule, source, values, reason=f"changed in {source}")


def _one_way(
    field: str,
    rule: FieldRule,
    owner: Side,
    values: Mapping[Side, Value],
    changed: Mapping[Side, bool],
) -> FieldDecision:
    if not changed[owner]:
        # The target edited a field it does not own: leave it until the owner changes.
        return FieldDecision(field, Outcome.HELD, reason=f"owned by {owner}")
    return _propagate(field, rule, owner, values, reason=f"changed in {owner}, which owns it")


def _propagate(
    field: str, rule: FieldRule, source: Side, values: Mapping[Side, Value], reason: str
) -> FieldDecision:
    value, target = values[source], source.other
    if is_blank(value) and not is_blank(values[target]) and not rule.blank_overwrites:
        return FieldDecision(field, Outcome.HELD, reason="a blank never overwrites a value")
    return FieldDecision(field, Outcome.PROPAGATE, value=value, target=target, reason=reason)


def _conflict(
    field: str, rule: FieldRule, values: Mapping[Side, Value], newer: Side
) -> FieldDecision:
    blanks = [side for side in Side if is_blank(values[side])]
    if len(blanks) == 1 and not rule.blank_overwrites:
        winner = blanks[0].other
        reason = "changed on both sides; a blank never overwrites a value"
    elif rule.conflict is ConflictRule.MANUAL:
        return FieldDecision(field, Outcome.CONFLICT, reason="changed on both sides")
    else:
        winner = _winner(rule.conflict, newer)
        reason = f"changed on both sides; {rule.conflict}"
    return FieldDecision(
        field, Outcome.RESOLVED, value=values[winner], target=winner.other, reason=reason
    )


def _first_link(
    field: str, rule: FieldRule, values: Mapping[Side, Value], newer: Side
) -> FieldDecision:
    """No base yet (a pair linked just now, or a field new to the mapping) and the sides
    differ: nobody changed anything that could be followed, so the field's first-link
    rule says which side's value seeds the base."""
    blanks = [side for side in Side if is_blank(values[side])]
    choice = rule.at_first_link
    if len(blanks) == 1:  # whatever blank_overwrites says: nobody cleared anything yet
        winner = blanks[0].other
        reason = "first link: the filled value; a blank never replaces one"
    elif choice is FirstLink.MANUAL:
        return FieldDecision(field, Outcome.CONFLICT, reason="differs at first link")
    elif choice is FirstLink.NEWEST:
        winner = newer
        reason = f"first link, first_link = newest: the {winner} value, modified last"
    else:
        winner = Side(choice.value)
        reason = f"first link, first_link = {choice}: the {winner} value"
    return FieldDecision(
        field, Outcome.RESOLVED, value=values[winner], target=winner.other, reason=reason
    )


def _winner(rule: ConflictRule, newer: Side) -> Side:
    if rule is ConflictRule.CRM_WINS:
        return Side.CRM
    if rule is ConflictRule.AFAS_WINS:
        return Side.AFAS
    return newer
