"""From what was read to the list of actions to take: pure, and checked by the guards.

``make_plan`` is a function of (links with their bases, both sides' current records,
match decisions, rules). It does no I/O; ``syncd plan`` is this module printed.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import field as dataclass_field
from datetime import datetime

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
from syncd.records import Fields, Record, Side, Value, is_blank
from syncd.state.rows import Link

# --- what the plan is made of -------------------------------------------------------


@dataclass(frozen=True, slots=True)  # slots: a full sweep has one per link
class PairState:
    """A linked pair as read this cycle; a side is None when its record is gone."""

    link: Link
    crm: Record | None
    afas: Record | None

    def on(self, side: Side) -> Record | None:
        return self.crm if side is Side.CRM else self.afas


@dataclass(frozen=True, slots=True)
class Update:
    """Write ``fields`` to one side of a pair, then advance the base of those fields."""

    pair: tuple[str, str]  # (crm_id, afas_id)
    target: Side
    fields: dict[str, Value]
    decisions: tuple[FieldDecision, ...]
    before: dict[str, Value]  # the target's values before the write, for the status log

    @property
    def target_id(self) -> str:
        return self.pair[0] if self.target is Side.CRM else self.pair[1]


@dataclass(frozen=True, slots=True)
class AdvanceBase:
    """Both sides already agree on ``fields``: only the base moves, nothing is written.

    ``fields`` is compact (:class:`~syncd.records.Fields`): a first sync has one per
    matched pair, and it becomes the new link's base as it is.
    """

    pair: tuple[str, str]
    fields: Mapping[str, Value]


@dataclass(frozen=True, slots=True)
class LinkPair:
    """Link two existing records (found by a match); the base starts with what they
    agree on (the :class:`AdvanceBase` of the same pair).

    Ids, not records: a first sync plans one per record, and the listings can go once
    the plan is made (slots, for the same reason).
    """

    crm_id: str
    afas_id: str
    reason: str
    write_keys: bool = False  # write each one's id into the other's correlation key
    # Each record's correlation key as listed: one that names the partner already is
    # not written again.
    crm_correlation: str | None = None
    afas_correlation: str | None = None

    @classmethod
    def of(cls, crm: Record, afas: Record, reason: str, *, write_keys: bool = False) -> LinkPair:
        return cls(crm.id, afas.id, reason, write_keys, crm.correlation, afas.correlation)

    @property
    def pair(self) -> tuple[str, str]:
        return (self.crm_id, self.afas_id)


@dataclass(frozen=True, slots=True)
class Create:
    """Create ``source`` on the other side, carrying its id as the correlation key."""

    target: Side
    source: Record
    fields: dict[str, Value]  # what is written
    # The base the new pair starts with: blank where nothing is written. Compact
    # (:class:`~syncd.records.Fields`): it becomes the new link's base as it is.
    base: Mapping[str, Value]


@dataclass(frozen=True)
class Detach:
    """A side's record is gone: keep the link as a tombstone, maybe deactivate the other."""

    link: Link
    gone: Side
    deactivate: bool
    reason: str


@dataclass(frozen=True)
class Adopt:
    """Link two records, giving the one on ``target`` this entity too: it held only the
    other one (a HubSpot company that was a customer, now a supplier as well)."""

    crm_id: str
    afas_id: str
    target: Side
    reason: str
    write_keys: bool = False  # as LinkPair's: a link through the other role is a link
    crm_correlation: str | None = None
    afas_correlation: str | None = None

    @property
    def pair(self) -> tuple[str, str]:
        return (self.crm_id, self.afas_id)


@dataclass(frozen=True)
class Repoint:
    """A record was merged into another (HubSpot): the link follows the survivor."""

    link: Link
    side: Side
    new_id: str


@dataclass(frozen=True)
class Merged:
    """What a read found: ``link``'s record on ``side`` now lives on as ``survivor``."""

    link: Link
    side: Side
    survivor: str
    survivor_linked: bool  # the survivor already has a link of its own


@dataclass(frozen=True)
class OpenConflict:
    pair: tuple[str, str]
    field: str
    base: Value
    crm: Value
    afas: Value


@dataclass(frozen=True)
class CloseConflicts:
    link: Link
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Quarantine:
    side: Side
    record_id: str
    reason: str
    field: str | None = None
    fields: Mapping[str, Value] = dataclass_field(default_factory=dict)  # what could be read


@dataclass(frozen=True)
class Note:
    """Something the operator should see that needs no write (ambiguous match, held)."""

    side: Side
    record_id: str
    event: EventName
    reason: str
    candidates: tuple[str, ...] = ()


Action = (
    Update
    | AdvanceBase
    | LinkPair
    | Adopt
    | Repoint
    | Create
    | Detach
    | OpenConflict
    | CloseConflicts
    | Quarantine
)


@dataclass(frozen=True)
class GuardFinding:
    guard: str
    message: str
    count: int  # records the plan would affect: an operator's confirmation covers this many


@dataclass
class Plan:
    entity: str
    actions: list[Action] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    findings: list[GuardFinding] = field(default_factory=list)
    deferred: list[tuple[Side, Record]] = field(default_factory=list)  # created later
    # Of those, per sibling entity: how many wait for its create first (siblings.py).
    waiting_for_sibling: dict[str, int] = field(default_factory=dict)

    @property
    def writes(self) -> int:
        """How many calls to a side applying this plan makes."""
        return sum(1 for a in self.actions if isinstance(a, Update | Create) or _deactivates(a))


def _deactivates(action: Action) -> bool:
    return isinstance(action, Detach) and action.deactivate


# --- inputs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInput:
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
    recent_writes: Mapping[int, Sequence[tuple[str, Side]]] = dataclass_field(default_factory=dict)
    # Per target side: records changed after this wait before they are created there.
    create_cutoff: Mapping[Side, datetime] = dataclass_field(default_factory=dict)
    merged: Sequence[Merged] = ()  # linked records merged into another this cycle
    # Records whose create waits for a sibling entity's first, by (side, id) (siblings.py).
    sibling_first: Mapping[tuple[Side, str], str] = dataclass_field(default_factory=dict)
    # AFAS records whose organisation a sibling entity links: the CRM record they are.
    sibling_linked: Mapping[str, str] = dataclass_field(default_factory=dict)


FLIP_FLOP_WRITES = 2
"""Altered writes of one field to alternating sides, in a row, that make a flip-flop."""


def flip_flopping(history: Sequence[tuple[str, Side]], field: str, target: Side) -> bool:
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


def make_plan(data: PlanInput) -> Plan:
    plan = Plan(data.entity, actions=list(data.quarantine))
    plan.actions.extend(_follow_merge(m) for m in data.merged)
    rules = field_rules(data.mapping, data.rules)
    for state in data.pairs:
        if state.crm is None or state.afas is None:
            plan.actions.append(_detach(state, data))
        else:
            _reconcile_pair(plan, state.link, state.crm, state.afas, rules, data)
    for decision in data.matches:
        _plan_match(plan, decision, rules, data)
    plan.findings.extend(check_guards(plan, data))
    return plan


# --- linked pairs ---------------------------------------------------------------------


def newer_side(crm: Record, afas: Record, tie: Side) -> Side:
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
    newer = newer_side(crm, afas, tie)
    return [
        reconcile_field(
            name, rule, base_of(base, name), crm.fields.get(name), afas.fields.get(name), newer
        )
        for name, rule in rules.items()
    ]


def _reconcile_pair(
    plan: Plan,
    link: Link,
    crm: Record,
    afas: Record,
    rules: Mapping[str, FieldRule],
    data: PlanInput,
) -> None:
    open_fields = data.open_conflicts.get(link.id or 0, frozenset())
    if not open_fields and at_base(link.base, crm, afas, rules):
        return  # the common case of a big sweep: every field unchanged, nothing to do
    pair = (crm.id, afas.id)
    decisions = reconcile_pair(link.base, crm, afas, rules, data.rules.newest_tie)
    history = data.recent_writes.get(link.id or 0, ())
    decisions = [_unless_flip_flop(plan, pair, d, history, crm, afas) for d in decisions]
    # A pair linked without a base (kept in the match review, adopted through its other
    # role) or a field new to the mapping: protected as a first sync's new link is.
    unseeded = [d for d in decisions if d.field not in link.base]
    seeded = _seeded_base(unseeded, crm, afas)
    _append_decisions(plan, pair, crm, afas, decisions, link.base, seeded)
    settled = tuple(sorted(d.field for d in decisions if d.outcome is not Outcome.CONFLICT))
    closing = tuple(f for f in settled if f in open_fields)
    if closing:
        plan.actions.append(CloseConflicts(link, closing))


def at_base(
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


def agreed_whole(
    record: Record, partner: Record, rules: Mapping[str, FieldRule]
) -> dict[str, Value] | None:
    """What a new pair's records agree on, if they agree in every field reconciled:
    :func:`reconcile_pair` would find each of those AGREED (a field set on create only
    is HELD, and not part of the base). None if a field differs.

    The values are ``partner``'s own (equal to ``record``'s): a first sync's partner is
    of the side it listed whole and holds, the record of the side it lets go page by
    page, so the base of 100,000 pairs shares the held strings instead of keeping a
    copy of the other side's."""
    values, others = partner.fields, record.fields
    agreed: dict[str, Value] = {}
    for name, rule in rules.items():
        if rule.direction is not Direction.ON_CREATE:
            value = values.get(name)
            if value != others.get(name):
                return None
            agreed[name] = value
    return agreed


def _unless_flip_flop(
    plan: Plan,
    pair: tuple[str, str],
    decision: FieldDecision,
    history: Sequence[tuple[str, Side]],
    crm: Record,
    afas: Record,
) -> FieldDecision:
    if decision.target is None or not flip_flopping(history, decision.field, decision.target):
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
    seeded: Mapping[str, Value] | None = None,
) -> None:
    records = {Side.CRM: crm, Side.AFAS: afas}
    for target in Side:
        mine = tuple(d for d in decisions if d.target is target)
        if mine:
            before = {d.field: records[target].fields.get(d.field) for d in mine}
            fields = {d.field: d.value for d in mine}
            plan.actions.append(Update(pair, target, fields, mine, before))
    agreed = {
        **(seeded or {}),
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
                    _plain(base_of(base, d.field)),
                    crm.fields.get(d.field),
                    afas.fields.get(d.field),
                )
            )


def _plain(value: object) -> Value:
    return None if value is MISSING else value  # type: ignore[return-value]


def _follow_merge(merged: Merged) -> Repoint | Detach:
    if not merged.survivor_linked:
        return Repoint(merged.link, merged.side, merged.survivor)
    # Two linked records became one: which partner to keep is for a person to say.
    reason = (
        f"merged into {merged.side} record {merged.survivor}, which is linked already; "
        "nothing deactivated: review the two partners"
    )
    return Detach(merged.link, merged.side, deactivate=False, reason=reason)


def _detach(state: PairState, data: PlanInput) -> Detach:
    gone = Side.CRM if state.crm is None else Side.AFAS
    survivor = state.on(gone.other)
    if survivor is None:
        return Detach(state.link, gone, deactivate=False, reason="gone on both sides")
    if data.rules.deletes is DeletePolicy.IGNORE:
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
    plan: Plan, decision: MatchDecision, rules: Mapping[str, FieldRule], data: PlanInput
) -> None:
    if decision.kind is MatchKind.LINK and decision.partner is not None and decision.adopt:
        crm, afas = _ordered(decision.side, decision.record, decision.partner)
        keys, why = data.rules.write_correlation_keys, decision.reason
        target = decision.side.other
        adopt = Adopt(crm.id, afas.id, target, why, keys, crm.correlation, afas.correlation)
        plan.actions.append(adopt)
    elif decision.kind is MatchKind.LINK and decision.partner is not None:
        crm, afas = _ordered(decision.side, decision.record, decision.partner)
        keys = data.rules.write_correlation_keys
        plan.actions.append(LinkPair.of(crm, afas, decision.reason, write_keys=keys))
        agreed = agreed_whole(decision.record, decision.partner, rules)
        if agreed is not None:  # most pairs a first sync finds: nothing to reconcile
            plan.actions.append(AdvanceBase((crm.id, afas.id), Fields(agreed)))
            return
        decisions = reconcile_pair({}, crm, afas, rules, data.rules.newest_tie)
        seeded = _seeded_base(decisions, crm, afas)
        _append_decisions(plan, (crm.id, afas.id), crm, afas, decisions, {}, seeded)
    elif decision.kind is MatchKind.CREATE and data.awaiting_review:
        plan.notes.append(
            Note(
                decision.side,
                decision.record.id,
                EventName.CREATE_SKIPPED,
                "waiting for the match review: syncd match --plan, then --apply",
            )
        )
    elif decision.kind is MatchKind.CREATE and _second_role(decision, data):
        sibling = data.sibling_first[(decision.side, decision.record.id)]
        plan.deferred.append((decision.side, decision.record))
        plan.waiting_for_sibling[sibling] = plan.waiting_for_sibling.get(sibling, 0) + 1
        why = f"waits for its {sibling} first: {ONE_RECORD}"
        plan.notes.append(Note(decision.side, decision.record.id, EventName.CREATE_SKIPPED, why))
    elif decision.kind is MatchKind.CREATE and (company := _linked_company(decision, data)):
        afas, keys = decision.record, data.rules.write_correlation_keys
        why = "its organisation is linked to this company in another role"
        plan.actions.append(Adopt(company, afas.id, Side.CRM, why, keys, None, afas.correlation))
    elif decision.kind is MatchKind.CREATE and _too_fresh(decision, data):
        plan.deferred.append((decision.side, decision.record))
    elif decision.kind is MatchKind.CREATE:
        _plan_create(plan, decision, rules, data.rules)
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
            )
        )


def _seeded_base(decisions: Sequence[FieldDecision], crm: Record, afas: Record) -> dict[str, Value]:
    """The base a new pair starts with in each field its link writes: the value being
    overwritten, as if the winning side had changed it. Until the write is confirmed
    the field then reconciles as any other: written again if it never landed, and a
    conflict if a user edits the overwritten side meanwhile (never a first link again)."""
    records = {Side.CRM: crm, Side.AFAS: afas}
    return {
        d.field: records[d.target].fields.get(d.field) for d in decisions if d.target is not None
    }


ONE_RECORD = "a company's roles are one record on each side"


def _second_role(decision: MatchDecision, data: PlanInput) -> bool:
    return (decision.side, decision.record.id) in data.sibling_first


def _linked_company(decision: MatchDecision, data: PlanInput) -> str | None:
    """The CRM record an AFAS record to create is already, through its organisation."""
    return data.sibling_linked.get(decision.record.id) if decision.side is Side.AFAS else None


def _too_fresh(decision: MatchDecision, data: PlanInput) -> bool:
    cutoff = data.create_cutoff.get(decision.side.other)
    modified = decision.record.modified
    return cutoff is not None and modified is not None and modified > cutoff


def _ordered(side: Side, record: Record, partner: Record) -> tuple[Record, Record]:
    return (record, partner) if side is Side.CRM else (partner, record)


def _plan_create(
    plan: Plan, decision: MatchDecision, rules: Mapping[str, FieldRule], sync: SyncRules
) -> None:
    target = decision.side.other
    allowed = sync.create_in_afas if target is Side.AFAS else sync.create_in_crm
    if not allowed:
        plan.notes.append(
            Note(
                decision.side,
                decision.record.id,
                EventName.CREATE_SKIPPED,
                f"creates in {target} are off",
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


# --- guards ---------------------------------------------------------------------------


def check_guards(plan: Plan, data: PlanInput) -> list[GuardFinding]:
    """Findings that must stop the plan before anything is written."""
    guards = data.rules.guards
    findings: list[GuardFinding] = []
    if data.listed is not None and guards.refuse_empty_side and data.link_count > 0:
        for side, count in data.listed.items():
            if count == 0:
                findings.append(
                    GuardFinding(
                        "empty_side",
                        f"{side} listed no {data.entity} records, but {data.link_count} are "
                        "linked: a broken connector looks exactly like this",
                        data.link_count,
                    )
                )
    if data.link_count < guards.min_records_for_share:
        return findings
    gone = sum(1 for a in plan.actions if isinstance(a, Detach))
    if gone / data.link_count > guards.max_delete_share:
        findings.append(
            GuardFinding(
                "delete_share",
                f"{gone} of {data.link_count} linked {data.entity} records are gone on one "
                f"side (limit {guards.max_delete_share:.0%})",
                gone,
            )
        )
    blanked = sum(1 for a in plan.actions if isinstance(a, Update) and _blanks(a))
    if blanked / data.link_count > guards.max_blank_share:
        findings.append(
            GuardFinding(
                "blank_share",
                f"{blanked} of {data.link_count} linked {data.entity} records would have a "
                f"filled field blanked (limit {guards.max_blank_share:.0%})",
                blanked,
            )
        )
    return findings


def guarded(action: Action) -> bool:
    """An action a guard counts (a record gone, a filled field blanked): it waits for
    the guards' judgement of the whole cycle's plan."""
    return isinstance(action, Detach) or (isinstance(action, Update) and _blanks(action))


def _blanks(update: Update) -> bool:
    return any(
        is_blank(value) and not is_blank(update.before.get(name))
        for name, value in update.fields.items()
    )
