"""The plan a tripped guard held back, as the operator reads it before confirming (pure).

Kept bounded: the first :data:`SHOWN` writes, each with its record's name, both ids
and its field changes, and the totals of every kind of write per side, so a mass
deactivation of thousands stays a small row. The state store keeps it as plain data
(:meth:`HeldPlan.as_data`), one per lane, replaced by the next trip.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from syncd.engine.actions import Action, Create, Detach, Plan, Update
from syncd.records import Value

SHOWN = 200  # writes kept for the operator to read; the totals count them all


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Value
    new: Value


@dataclass(frozen=True)
class PlannedWrite:
    """One write the plan would make (or, for ``unlink``, the link it would let go)."""

    kind: str  # create, update, deactivate, unlink
    side: str  # the side written; for unlink, the side the record is gone from
    crm_id: str | None
    afas_id: str | None
    name: str | None
    changes: tuple[FieldChange, ...] = ()
    why: str = ""

    @property
    def what(self) -> str:
        """``update afas``: the kind and the side, as the totals count it."""
        return f"{self.kind} {self.side}"


@dataclass(frozen=True)
class HeldPlan:
    at: datetime
    totals: Mapping[str, int]  # per "kind side" (see PlannedWrite.what), every write
    writes: tuple[PlannedWrite, ...]  # the first SHOWN of them

    @property
    def more(self) -> int:
        """Writes counted in the totals but not kept."""
        return sum(self.totals.values()) - len(self.writes)

    def as_data(self) -> dict[str, Any]:
        return {
            "totals": dict(self.totals),
            "writes": [
                {
                    "kind": w.kind,
                    "side": w.side,
                    "crm_id": w.crm_id,
                    "afas_id": w.afas_id,
                    "name": w.name,
                    "changes": [[c.field, c.old, c.new] for c in w.changes],
                    "why": w.why,
                }
                for w in self.writes
            ],
        }

    @classmethod
    def from_data(cls, at: datetime, data: Mapping[str, Any]) -> HeldPlan:
        totals = data.get("totals") or {}
        writes = tuple(
            PlannedWrite(
                str(w["kind"]),
                str(w["side"]),
                w.get("crm_id"),
                w.get("afas_id"),
                w.get("name"),
                tuple(FieldChange(str(f), old, new) for f, old, new in w.get("changes", [])),
                str(w.get("why", "")),
            )
            for w in data.get("writes") or []
        )
        return cls(at, {str(k): int(v) for k, v in totals.items()}, writes)


# What a record is called: a linked pair by its link (its CRM id), a record to create by
# its mapping's record_name of its fields.
LinkName = Callable[[str], str | None]
FieldsName = Callable[[Mapping[str, Value]], str | None]


def hold(plan: Plan, at: datetime, link_name: LinkName, fields_name: FieldsName) -> HeldPlan:
    """What ``plan`` would write, bounded."""
    totals = Counter(_what(a) for a in _written(plan))
    writes = tuple(_write(a, link_name, fields_name) for a in _written(plan)[:SHOWN])
    return HeldPlan(at, dict(sorted(totals.items())), writes)


def crm_ids(plan: Plan) -> list[str]:
    """The pairs the kept writes update, by CRM id: whose link names to look up."""
    return [a.pair[0] for a in _written(plan)[:SHOWN] if isinstance(a, Update)]


def _written(plan: Plan) -> list[Update | Create | Detach]:
    return [a for a in plan.actions if isinstance(a, Update | Create | Detach)]


def _what(action: Action) -> str:
    if isinstance(action, Update | Create):
        return f"{'update' if isinstance(action, Update) else 'create'} {action.target}"
    assert isinstance(action, Detach)
    if action.deactivate:
        return f"deactivate {action.gone.other}"
    return f"unlink {action.gone}"


def _write(action: Action, link_name: LinkName, fields_name: FieldsName) -> PlannedWrite:
    kind, side = _what(action).split(" ")
    if isinstance(action, Update):
        changes = tuple(
            FieldChange(f, action.before.get(f), value) for f, value in action.fields.items()
        )
        crm_id, afas_id = action.pair
        return PlannedWrite(kind, side, crm_id, afas_id, link_name(crm_id), changes)
    if isinstance(action, Create):
        source = action.source
        changes = tuple(FieldChange(f, None, v) for f, v in action.fields.items() if v)
        name = fields_name(source.fields)
        if side == "crm":  # written to the CRM: the source is AFAS's
            return PlannedWrite(kind, side, None, source.id, name, changes)
        return PlannedWrite(kind, side, source.id, None, name, changes)
    assert isinstance(action, Detach)
    link = action.link
    return PlannedWrite(kind, side, link.crm_id, link.afas_id, link.name, why=action.reason)
