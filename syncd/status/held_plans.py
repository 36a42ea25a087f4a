"""The plan a tripped guard held back, as the guards page and ``syncd guards`` show it:
the totals per kind of write and side, then each kept write by record, with its field
changes ``field: old → new`` (pure)."""

from __future__ import annotations

import html
from collections.abc import Callable

from syncd.engine.held_plan import HeldPlan, PlannedWrite
from syncd.records import Value
from syncd.status.record_names import HubSpotPages, RecordRef, cell_html

SIDE_NAMES = {"crm": "HubSpot", "afas": "AFAS"}
NOT_KEPT = "What it would write was not kept; 'syncd plan' shows it."


def totals_text(held: HeldPlan) -> str:
    """``would write: update AFAS 12, deactivate AFAS 3``."""
    parts = [f"{_what_text(what)} {n}" for what, n in held.totals.items()]
    return "would write: " + (", ".join(parts) or "nothing")


def changes_text(write: PlannedWrite) -> list[str]:
    """Each field change as ``field: old → new``; a detach says why instead."""
    if not write.changes:
        return [write.why] if write.why else []
    return [f"{c.field}: {_shown(c.old)} → {_shown(c.new)}" for c in write.changes]


def _ref(entity: str, write: PlannedWrite) -> RecordRef:
    return RecordRef(entity, write.crm_id, write.afas_id, write.name)


def _what_text(what: str) -> str:
    kind, _, side = what.partition(" ")
    side = SIDE_NAMES.get(side, side)
    return f"unlink (gone from {side})" if kind == "unlink" else f"{kind} {side}"


def _shown(value: Value) -> str:
    return "(blank)" if value in (None, "") else str(value)


def _more(held: HeldPlan) -> str:
    return f"and {held.more} more ('syncd plan' shows them all)" if held.more else ""


# --- the guards page ------------------------------------------------------------------


def plan_html(held: HeldPlan | None, entity: str, pages: HubSpotPages) -> str:
    """The held plan under its lane's guards: totals, then a table of the kept writes."""
    if held is None:
        return f"<p>{html.escape(NOT_KEPT)}</p>"
    head = (
        f"<p>The plan held back at {held.at:%Y-%m-%d %H:%M} UTC "
        f"{html.escape(totals_text(held))}.</p>"
    )
    if not held.writes:
        return head
    rows = "".join(
        f"<tr><td>{html.escape(_what_text(w.what))}</td><td>{cell_html(_ref(entity, w), pages)}"
        f"</td><td>{'<br>'.join(html.escape(line) for line in changes_text(w))}</td></tr>"
        for w in held.writes
    )
    more = f"<p>{html.escape(_more(held))}</p>" if held.more else ""
    return (
        f"{head}<table><tr><th>write</th><th>record</th><th>changes</th></tr>{rows}</table>{more}"
    )


# --- syncd guards ---------------------------------------------------------------------


def plan_lines(held: HeldPlan | None, entity: str, named: Callable[[RecordRef], str]) -> list[str]:
    """The held plan as indented lines; ``named`` names a record as the CLI does."""
    if held is None:
        return [f"  {NOT_KEPT}"]
    lines = [f"  {totals_text(held)} (held back at {held.at:%Y-%m-%d %H:%M} UTC)"]
    for write in held.writes:
        lines.append(f"    {_what_text(write.what)} {named(_ref(entity, write))}")
        lines.extend(f"      {line}" for line in changes_text(write))
    if held.more:
        lines.append(f"    {_more(held)}")
    return lines
