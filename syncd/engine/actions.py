"""The plan's vocabulary: what the planner decides and the applier carries out.

Every action is plain, frozen data. The planner (:mod:`syncd.engine.plan`) makes them,
the guards (:mod:`syncd.engine.guards`) count some of them, and the applier
(:mod:`syncd.engine.apply`) turns them into journalled writes and store changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from syncd.engine.reconcile import FieldDecision
from syncd.events import EventName
from syncd.records import Record, Side, Value
from syncd.state.rows import Link


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

    @property
    def target_id(self) -> str:
        return self.crm_id if self.target is Side.CRM else self.afas_id


@dataclass(frozen=True)
class Repoint:
    """A record was merged into another (HubSpot): the link follows the survivor."""

    link: Link
    side: Side
    new_id: str


@dataclass(frozen=True)
class MergedRecord:
    """What a read found: ``link``'s record on ``side`` now lives on as ``survivor``."""

    link: Link
    side: Side
    survivor: str
    survivor_linked: bool  # the survivor already has a link of its own


@dataclass(frozen=True)
class OpenConflict:
    """Both sides changed ``field`` differently and no rule decides: a person will."""

    pair: tuple[str, str]
    field: str
    base: Value
    crm: Value
    afas: Value


@dataclass(frozen=True)
class CloseConflicts:
    """The open conflicts of ``fields`` are settled: both sides agree or a rule decided."""

    link: Link
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Quarantine:
    """Hold a record that cannot be synced (unreadable, clashing) until it is retried."""

    side: Side
    record_id: str
    reason: str
    field: str | None = None
    fields: Mapping[str, Value] = dataclasses.field(default_factory=dict)  # what could be read


@dataclass(frozen=True)
class Note:
    """Something the operator should see that needs no write (ambiguous match, held)."""

    side: Side
    record_id: str
    event: EventName
    reason: str
    candidates: tuple[str, ...] = ()
    name: str | None = None  # the record's (its mapping's record_name), for the status log


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
    """A guard that refuses the plan, and why."""

    guard: str
    message: str
    count: int  # records the plan would affect: an operator's confirmation covers this many
    # The first few of them, as (crm id, afas id): for the operator to look at.
    pairs: tuple[tuple[str, str], ...] = ()


@dataclass
class Plan:
    """One entity's actions for a cycle, what the operator should see, and what waits."""

    entity: str
    actions: list[Action] = dataclasses.field(default_factory=list)
    notes: list[Note] = dataclasses.field(default_factory=list)
    findings: list[GuardFinding] = dataclasses.field(default_factory=list)
    deferred: list[tuple[Side, Record]] = dataclasses.field(default_factory=list)  # created later
    # Of those, per sibling entity: how many wait for its create first (siblings.py).
    waiting_for_sibling: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def writes(self) -> int:
        """How many calls to a side applying this plan makes."""
        return sum(1 for a in self.actions if isinstance(a, Update | Create) or _deactivates(a))


def _deactivates(action: Action) -> bool:
    return isinstance(action, Detach) and action.deactivate
