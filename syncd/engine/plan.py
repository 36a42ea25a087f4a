"""From what was read to the list of actions to take: pure.

``make_plan`` is a function of (links with their bases, both sides' current records,
match decisions, rules). It does no I/O; ``syncd plan`` is this module printed. What it
returns is made of :mod:`syncd.engine.actions`, and :mod:`syncd.engine.guards` judges it.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from syncd.engine.actions import (
    Adopt,
    AdvanceBase,
    CloseConflicts,
    Create,
    Detach,
    LinkPair,
    MergedRecord,
    Note,
    OpenConflict,
    PairState,
    Plan,
    Quarantine,
    Repoint,
    Update,
)
from syncd.engine.guards import check_guards
from syncd.engine.match import MatchDecision, MatchKind
from syncd.engine.reconcile import (
    MISSING,
    FieldDecision,
    FieldRule,
    Outcome,
    base_of,
    reconcile_field,
)
from syncd.events import EventName
from syncd.mapping import EntityMapping
from syncd.policy import DeletePolicy, Direction, SyncRules
from syncd.records import Fields, Record, Side, Value
from syncd.state.rows import Link

ONE_RECORD = "a company's roles are one record on each side"


@dataclass(frozen=True)
class PlanInput:
    """Everything one entity's plan is decided from, read before planning."""

    entity: str
    mapping: EntityMapping
    rules: SyncRules
    pairs: Sequence[PairState]
    matches: Sequence[MatchDecision]
    open_conflicts: Mapping[int, frozenset[str]]  # link id -> fields with an open conflict
    link_count: int  # active links of this entity before the cycle
    listed: Mapping[Side, int] | None = None  # full sweep: records each side listed
    quarantine: Sequence[Quarantine] = ()  # rows that could not be read this cycle
    awaiting_review: bool = False  # review_first is on and no match plan was applied yet
    # Per link, recent writes that the side stored otherwise than written, oldest first.
    recent_writes: Mapping[int, Sequence[tuple[str, Side]]] = dataclasses.field(
        default_factory=dict
    )
    # Per target side: records changed after this wait before they are created there.
    create_cutoff: Mapping[Side, datetime] = dataclasses.field(default_factory=dict)
    merged: Sequence[MergedRecord] = ()  # linked records merged into another this cycle
    # Records whose create waits for a sibling entity's first, by (side, id) (siblings.py).
    sibling_first: Mapping[tuple[Side, str], str] = dataclasses.field(default_factory=dict)
    # AFAS records whose organisation a sibling entity links: the CRM record they are.
    sibling_linked: Mapping[str, str] = dataclasses.field(default_factory=dict)


def make_plan(inputs: PlanInput) -> Plan:
    """Linked pairs reconciled, unlinked records matched or created, then guarded."""
    plan = Plan(inputs.entity, actions=list(inputs.quarantine))
    plan.actions.extend(_follow_merge(m) for m in inputs.merged)
    rules = field_rules(inputs.mapping, inputs.rules)
    for state in inputs.pairs:
        if state.crm is None or state.afas is None:
            plan.actions.append(_detach_gone(state, inputs))
        else:
            _reconcile_linked(plan, state.link, state.crm, state.afas, rules, inputs)
    for decision in inputs.matches:
        _plan_match(plan, decision, rules, inputs)
    plan.findings.extend(check_guards(plan, inputs))
    return plan


def field_rules(mapping: EntityMapping, rules: SyncRules) -> dict[str, FieldRule]:
    """Fold the global rules into each field's own settings."""
    return {
        f.name: FieldRule(
            direction=f.direction,
            conflict=f.conflict or rules.conflict,
            blank_overwrites=(
                rules.blank_overwrites if f.blank_overwrites is None else f.blank_overwrites
            ),
            first_link=f.first_link,
        )
        for f in mapping.fields
    }


# --- linked pairs ---------------------------------------------------------------------


def newer_side(crm: Record, afas: Record, tie: Side) -> Side:
    """The side modified last (for ``newest_wins``); ``tie`` when that cannot tell."""
    if crm.modified is None or afas.modified is None or crm.modified == afas.modified:
        return tie
    return Side.CRM if crm.modified > afas.modified else Side.AFAS


def reconcile_pair(
    base: Mapping[str, Value],
    crm: Record,
    afas: Record,
    rules: Mapping[str, FieldRule],
    tie: Side,
) -> list[FieldDecision]:
    """One decision per mapped field, three-way against ``base``."""
    newer = newer_side(crm, afas, tie)
    return [
        reconcile_field(
            name, rule, base_of(base, name), crm.fields.get(name), afas.fields.get(name), newer
        )
        for name, rule in rules.items()
    ]


def _reconcile_linked(
    plan: Plan,
    link: Link,
    crm: Record,
    afas: Record,
    rules: Mapping[str, FieldRule],
    inputs: PlanInput,
) -> None:
    """A pair whose both records were read: its updates, base, conflicts to open or close."""
    open_fields = inputs.open_conflicts.get(link.id or 0, frozenset())
    if not open_fields and is_at_base(link.base, crm, afas, rules):
        return  # the common case of a big sweep: every field unchanged, nothing to do
    pair = (crm.id, afas.id)
    decisions = reconcile_pair(link.base, crm, afas, rules, inputs.rules.newest_tie)
    history = inputs.recent_writes.get(link.id or 0, ())
    name = inputs.mapping.display_name(crm.fields)
    decisions = [_unless_flip_flop(plan, pair, d, history, crm, afas, name) for d in decisions]
    # A pair linked without a base (kept in the match review, adopted through its other
    # role) or a field new to the mapping: protected as a first sync's new link is.
    without_base = [d for d in decisions if d.field not in link.base]
    seed = _seed_base(without_base, crm, afas)
    _append_decisions(plan, pair, crm, afas, decisions, link.base, seed)
    settled = tuple(sorted(d.field for d in decisions if d.outcome is not Outcome.CONFLICT))
    closing = tuple(f for f in settled if f in open_fields)
    if closing:
        plan.actions.append(CloseConflicts(link, closing))


def is_at_base(
    base: Mapping[str, Value], crm: Record, afas: Record, rules: Mapping[str, FieldRule]
) -> bool:
    """Both sides hold the base in every field: reconciling would only say "unchanged"
    (a field set on create only is never reconciled, whatever it holds)."""
    crm_fields, afas_fields = crm.fields, afas.fields
    return all(
        rule.direction is Direction.ON_CREATE
        or (name in base and base[name] == crm_fields.get(name) == afas_fields.get(name))
        for name, rule in rules.items()
    )


def full_agreement(
    record: Record, partner: Record, rules: Mapping[str, FieldRule]
) -> dict[str, Value] | None:
    """What a new pair's records agree on, if they agree in every field reconciled:
    :func:`reconcile_pair` would find each of those AGREED (a field set on create only
    is HELD, and not part of the base). None if a field differs.

    The values are ``partner``'s own (equal to ``record``'s): a first sync's partner is
    of the side it listed whole and holds, the record of the side it lets go page by
    page, so a big first sync's bases share the held strings instead of keeping a copy
    of the other side's."""
    values, others = partner.fields, record.fields
    agreed: dict[str, Value] = {}
    for name, rule in rules.items():
        if rule.direction is not Direction.ON_CREATE:
            value = values.get(name)
            if value != others.get(name):
                return None
            agreed[name] = value
    return agreed


FLIP_FLOP_WRITES = 2
"""Altered writes of one field to alternating sides, in a row, that make a flip-flop."""


def is_flip_flopping(history: Sequence[tuple[str, Side]], field: str, target: Side) -> bool:
    """Each side stored the field otherwise than written, in turn; this write goes on.

    Two systems that normalise a value differently keep "correcting" each other: each
    write is stored altered, and the alteration shows up as a change to propagate back.
    Rather than write forever, the field is held and shown to a person. ``history``
    holds only altered writes, so users editing both sides in turn never count.
    """
    sides = [side for name, side in history if name == field][-FLIP_FLOP_WRITES:]
    if len(sides) < FLIP_FLOP_WRITES:
        return False
    sequence = [*sides, target]
    return all(a is not b for a, b in itertools.pairwise(sequence))


def _unless_flip_flop(
    plan: Plan,
    pair: tuple[str, str],
    decision: FieldDecision,
    history: Sequence[tuple[str, Side]],
    crm: Record,
    afas: Record,
    name: str | None,
) -> FieldDecision:
    if decision.target is None or not is_flip_flopping(history, decision.field, decision.target):
        return decision
    plan.notes.append(
        Note(
            decision.target,
            pair[0] if decision.target is Side.CRM else pair[1],
            EventName.FIELD_FLIP_FLOP,
            f"{decision.field} was stored otherwise than written by both sides in turn: "
            f"crm {crm.fields.get(decision.field)!r}, afas "
            f"{afas.fields.get(decision.field)!r}; held until a person resolves it "
            "(check the normalisers of this field in the mapping)",
            name=name,
        )
    )
    return FieldDecision(decision.field, Outcome.CONFLICT, reason="flip-flop: held")


def _append_decisions(
    plan: Plan,
    pair: tuple[str, str],
    crm: Record,
    afas: Record,
    decisions: Sequence[FieldDecision],
    base: Mapping[str, Value],
    seed: Mapping[str, Value] | None = None,
) -> None:
    """Turn a pair's field decisions into its updates, base advance and conflicts."""
    records = {Side.CRM: crm, Side.AFAS: afas}
    for target in Side:
        mine = tuple(d for d in decisions if d.target is target)
        if mine:
            before = {d.field: records[target].fields.get(d.field) for d in mine}
            fields = {d.field: d.value for d in mine}
            plan.actions.append(Update(pair, target, fields, mine, before))
    agreed = {
        **(seed or {}),
        **{d.field: d.value for d in decisions if d.outcome is Outcome.AGREED},
    }
    if agreed:
        plan.actions.append(AdvanceBase(pair, Fields(agreed)))
    for d in decisions:
        if d.outcome is Outcome.CONFLICT:
            plan.actions.append(
                OpenConflict(
                    pair,
                    d.field,
                    _value_or_none(base_of(base, d.field)),
                    crm.fields.get(d.field),
                    afas.fields.get(d.field),
                )
            )


def _seed_base(decisions: Sequence[FieldDecision], crm: Record, afas: Record) -> dict[str, Value]:
    """The base a new pair starts with in each field its link writes: the value being
    overwritten, as if the winning side had changed it. Until the write is confirmed
    the field then reconciles as any other: written again if it never landed, and a
    conflict if a user edits the overwritten side meanwhile (never a first link again)."""
    records = {Side.CRM: crm, Side.AFAS: afas}
    return {
        d.field: records[d.target].fields.get(d.field) for d in decisions if d.target is not None
    }


def _value_or_none(value: object) -> Value:
    return None if value is MISSING else value  # type: ignore[return-value]


# --- merged and deleted records -------------------------------------------------------


def _follow_merge(merged: MergedRecord) -> Repoint | Detach:
    """A linked record merged away: the link follows the survivor, if it is free."""
    if not merged.survivor_linked:
        return Repoint(merged.link, merged.side, merged.survivor)
    # Two linked records became one: which partner to keep is for a person to say.
    reason = (
        f"merged into {merged.side} record {merged.survivor}, which is linked already; "
        "nothing deactivated: review the two partners"
    )
    return Detach(merged.link, merged.side, deactivate=False, reason=reason)


def _detach_gone(state: PairState, inputs: PlanInput) -> Detach:
    """A pair with a record gone: unlink it, and deactivate the other only if the delete
    policy says so and nobody edited it since the base."""
    gone = Side.CRM if state.crm is None else Side.AFAS
    survivor = state.on(gone.other)
    if survivor is None:
        return Detach(state.link, gone, deactivate=False, reason="gone on both sides")
    if inputs.rules.deletes is DeletePolicy.IGNORE:
        return Detach(state.link, gone, deactivate=False, reason=f"gone in {gone}; deletes: ignore")
    edited = [
        name
        for name in survivor.fields
        if name in state.link.base and survivor.fields[name] != state.link.base[name]
    ]
    if edited:
        # Deleting one side must never destroy edits made on the other since the base.
        return Detach(
            state.link,
            gone,
            deactivate=False,
            reason=f"gone in {gone}, but {gone.other} changed {', '.join(sorted(edited))}",
        )
    return Detach(state.link, gone, deactivate=True, reason=f"gone in {gone}; deletes: block")


# --- unlinked records -----------------------------------------------------------------


def _plan_match(
    plan: Plan, decision: MatchDecision, rules: Mapping[str, FieldRule], inputs: PlanInput
) -> None:
    if decision.kind is MatchKind.LINK and decision.partner is not None:
        _plan_link(plan, decision, decision.partner, rules, inputs)
    elif decision.kind is MatchKind.CREATE:
        _plan_unmatched(plan, decision, rules, inputs)
    elif decision.kind is MatchKind.CLASH:
        plan.actions.append(Quarantine(decision.side, decision.record.id, decision.reason))
    else:
        plan.notes.append(
            Note(
                decision.side,
                decision.record.id,
                EventName.MATCH_AMBIGUOUS,
                decision.reason,
                decision.candidates,
                inputs.mapping.display_name(decision.record.fields),
            )
        )


def _plan_link(
    plan: Plan,
    decision: MatchDecision,
    partner: Record,
    rules: Mapping[str, FieldRule],
    inputs: PlanInput,
) -> None:
    """A match found: link the two (or adopt one through its other role)."""
    crm, afas = _crm_first(decision.side, decision.record, partner)
    keys = inputs.rules.write_correlation_keys
    if decision.adopt:
        target = decision.side.other
        plan.actions.append(
            Adopt(crm.id, afas.id, target, decision.reason, keys, crm.correlation, afas.correlation)
        )
        return
    plan.actions.append(LinkPair.of(crm, afas, decision.reason, write_keys=keys))
    agreed = full_agreement(decision.record, partner, rules)
    if agreed is not None:  # most pairs a first sync finds: nothing to reconcile
        plan.actions.append(AdvanceBase((crm.id, afas.id), Fields(agreed)))
        return
    decisions = reconcile_pair({}, crm, afas, rules, inputs.rules.newest_tie)
    seed = _seed_base(decisions, crm, afas)
    _append_decisions(plan, (crm.id, afas.id), crm, afas, decisions, {}, seed)


def _plan_unmatched(
    plan: Plan, decision: MatchDecision, rules: Mapping[str, FieldRule], inputs: PlanInput
) -> None:
    """A record with no partner: create it on the other side, unless something waits."""
    if inputs.awaiting_review:
        plan.notes.append(
            Note(
                decision.side,
                decision.record.id,
                EventName.CREATE_SKIPPED,
                "waiting for the match review: syncd match --plan, then --apply",
                name=inputs.mapping.display_name(decision.record.fields),
            )
        )
    elif _waits_for_sibling(decision, inputs):
        sibling = inputs.sibling_first[(decision.side, decision.record.id)]
        plan.deferred.append((decision.side, decision.record))
        plan.waiting_for_sibling[sibling] = plan.waiting_for_sibling.get(sibling, 0) + 1
        why = f"waits for its {sibling} first: {ONE_RECORD}"
        name = inputs.mapping.display_name(decision.record.fields)
        plan.notes.append(
            Note(decision.side, decision.record.id, EventName.CREATE_SKIPPED, why, name=name)
        )
    elif company := _linked_company(decision, inputs):
        afas, keys = decision.record, inputs.rules.write_correlation_keys
        why = "its organisation is linked to this company in another role"
        plan.actions.append(Adopt(company, afas.id, Side.CRM, why, keys, None, afas.correlation))
    elif _too_fresh(decision, inputs):
        plan.deferred.append((decision.side, decision.record))
    else:
        name = inputs.mapping.display_name(decision.record.fields)
        _plan_create(plan, decision, rules, inputs.rules, name)


def _waits_for_sibling(decision: MatchDecision, inputs: PlanInput) -> bool:
    return (decision.side, decision.record.id) in inputs.sibling_first


def _linked_company(decision: MatchDecision, inputs: PlanInput) -> str | None:
    """The CRM record an AFAS record to create is already, through its organisation."""
    return inputs.sibling_linked.get(decision.record.id) if decision.side is Side.AFAS else None


def _too_fresh(decision: MatchDecision, inputs: PlanInput) -> bool:
    cutoff = inputs.create_cutoff.get(decision.side.other)
    modified = decision.record.modified
    return cutoff is not None and modified is not None and modified > cutoff


def _crm_first(side: Side, record: Record, partner: Record) -> tuple[Record, Record]:
    return (record, partner) if side is Side.CRM else (partner, record)


def _plan_create(
    plan: Plan,
    decision: MatchDecision,
    rules: Mapping[str, FieldRule],
    sync: SyncRules,
    name: str | None,
) -> None:
    """Create the record on the other side with every field its direction lets through,
    unless creates there are off."""
    target = decision.side.other
    allowed = sync.create_in_afas if target is Side.AFAS else sync.create_in_crm
    if not allowed:
        plan.notes.append(
            Note(
                decision.side,
                decision.record.id,
                EventName.CREATE_SKIPPED,
                f"creates in {target} are off",
                name=name,
            )
        )
        return
    fields = {
        name: decision.record.fields.get(name)
        for name, rule in rules.items()
        if rule.direction.source() in (None, decision.side)
    }
    base = Fields({**dict.fromkeys(rules), **fields})
    plan.actions.append(Create(target, decision.record, fields, base))
