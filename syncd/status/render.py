"""Plans and cycle reports as an operator reads them: text, or JSON for tools."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syncd.engine.actions import (
    Action,
    Adopt,
    AdvanceBase,
    CloseConflicts,
    Create,
    Detach,
    LinkPair,
    Note,
    OpenConflict,
    Plan,
    Quarantine,
    Repoint,
    Update,
)
from syncd.engine.plan import ONE_RECORD


def action_as_dict(action: Action | Note) -> dict[str, Any]:
    """One action as plain data (the ``--json`` form of ``syncd plan``)."""
    if isinstance(action, Update):
        return {
            "action": "update",
            "target": str(action.target),
            "crm_id": action.pair[0],
            "afas_id": action.pair[1],
            "fields": {
                d.field: {"before": action.before.get(d.field), "after": d.value, "why": d.reason}
                for d in action.decisions
            },
        }
    if isinstance(action, Create):
        return {
            "action": "create",
            "target": str(action.target),
            "source_id": action.source.id,
            "fields": action.fields,
        }
    if isinstance(action, LinkPair):
        return {
            "action": "link",
            "crm_id": action.crm_id,
            "afas_id": action.afas_id,
            "why": action.reason,
        }
    if isinstance(action, AdvanceBase):
        return {
            "action": "agree",
            "crm_id": action.pair[0],
            "afas_id": action.pair[1],
            "fields": dict(action.fields),
        }
    if isinstance(action, Detach):
        return {
            "action": "deactivate" if action.deactivate else "unlink",
            "crm_id": action.link.crm_id,
            "afas_id": action.link.afas_id,
            "gone": str(action.gone),
            "why": action.reason,
        }
    if isinstance(action, OpenConflict):
        return {
            "action": "conflict",
            "crm_id": action.pair[0],
            "afas_id": action.pair[1],
            "field": action.field,
            "base": action.base,
            "crm": action.crm,
            "afas": action.afas,
        }
    if isinstance(action, CloseConflicts):
        return {
            "action": "close_conflicts",
            "crm_id": action.link.crm_id,
            "afas_id": action.link.afas_id,
            "fields": list(action.fields),
        }
    if isinstance(action, Adopt):
        return {
            "action": "link",
            "crm_id": action.crm_id,
            "afas_id": action.afas_id,
            "why": f"{action.reason}; {action.target} record takes on this entity too",
        }
    if isinstance(action, Repoint):
        return {
            "action": "merged",
            "side": str(action.side),
            "id": action.link.id_on(action.side),
            "new_id": action.new_id,
            "why": "merged into another record; the link follows it",
        }
    if isinstance(action, Quarantine):
        return {
            "action": "quarantine",
            "side": str(action.side),
            "id": action.record_id,
            "why": action.reason,
            "field": action.field,
        }
    return {
        "action": "note",
        "event": action.event,
        "side": str(action.side),
        "id": action.record_id,
        "why": action.reason,
        "candidates": list(action.candidates),
    }


def plan_as_dict(plan: Plan, connection: str) -> dict[str, Any]:
    return {
        "connection": connection,
        "entity": plan.entity,
        "writes": plan.writes,
        "guards": [{"guard": f.guard, "message": f.message} for f in plan.findings],
        "actions": [action_as_dict(a) for a in plan.actions],
        "notes": [action_as_dict(n) for n in plan.notes],
        "waiting_for_sibling": plan.waiting_for_sibling,
    }


def plan_as_text(plan: Plan, connection: str) -> str:
    head = f"{connection} / {plan.entity}: {plan.writes} write(s)"
    lines = [head]
    for finding in plan.findings:
        lines.append(f"  GUARD {finding.guard}: {finding.message}")
    for item in [*plan.actions, *plan.notes]:
        lines.extend("  " + line for line in _describe(action_as_dict(item)))
    lines.extend(f"  {line}" for line in sibling_waits(plan.waiting_for_sibling))
    if len(lines) == 1:
        lines.append("  nothing to do")
    return "\n".join(lines)


def _describe(action: dict[str, Any]) -> list[str]:
    kind = action["action"]
    if kind == "update":
        target = action["target"]
        head = f"update {target} {action['crm_id' if target == 'crm' else 'afas_id']}"
        return [head] + [
            f"    {name}: {f['before']!r} -> {f['after']!r}  ({f['why']})"
            for name, f in action["fields"].items()
        ]
    if kind == "create":
        filled = {k: v for k, v in action["fields"].items() if v is not None}
        return [f"create in {action['target']} from {action['source_id']}"] + [
            f"    {k}: {v!r}" for k, v in filled.items()
        ]
    if kind == "conflict":
        return [
            f"conflict crm {action['crm_id']} / afas {action['afas_id']} on {action['field']}: "
            f"base {action['base']!r}, crm {action['crm']!r}, afas {action['afas']!r} "
            "(left for a person)"
        ]
    if kind in ("link", "agree", "close_conflicts"):
        extra = action.get("why") or ", ".join(action.get("fields", []))
        return [f"{kind} crm {action['crm_id']} / afas {action['afas_id']}  ({extra})"]
    if kind in ("unlink", "deactivate"):
        return [f"{kind} crm {action['crm_id']} / afas {action['afas_id']}  ({action['why']})"]
    why = action.get("why") or action.get("event")
    return [f"{kind} {action.get('side')} {action.get('id')}: {why}"]


def sibling_waits(waiting: Mapping[str, int]) -> list[str]:
    """A line per sibling entity that creates wait for (a company's second role)."""
    return [
        f"{n} create waits for its {sibling} first: {ONE_RECORD}"
        if n == 1
        else f"{n} creates wait for their {sibling} first: {ONE_RECORD}"
        for sibling, n in sorted(waiting.items())
    ]


GUARD_HINT = "check the plan with 'syncd plan', then allow it with 'syncd guards confirm'"
