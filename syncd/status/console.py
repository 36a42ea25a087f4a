"""Status events as the lines an operator reads on a terminal: one per event.

Each line names when, where (connection/entity), the record (its name and its id on each
side the event knows), what happened and who decided. Pure: an event in, a
:class:`rich.text.Text` out; colour is rich's styles, shown only where the output is a
terminal. The JSON lines (:mod:`syncd.status.log`) stay the record for machines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text

from syncd.events import EventName
from syncd.state.rows import StatusEvent
from syncd.status.render import GUARD_HINT

SIDES = ("crm", "afas")

# What an event did, in words, and its colour; events not here show their name.
HEADLINES: Mapping[str, tuple[str, str]] = {
    EventName.CYCLE_FINISHED: ("cycle", "bold"),
    EventName.CYCLE_FAILED: ("cycle failed", "bold red"),
    EventName.RECORD_CREATED: ("created", "green"),
    EventName.RECORD_CHANGED: ("changed", "yellow"),
    EventName.RECORD_LINKED: ("linked", "cyan"),
    EventName.RECORD_UNLINKED: ("unlinked", "magenta"),
    EventName.RECORD_DEACTIVATED: ("deactivated", "magenta"),
    EventName.CONFLICT_OPENED: ("conflict", "bold red"),
    EventName.CONFLICT_CLOSED: ("conflict closed", "green"),
    EventName.RECORD_QUARANTINED: ("quarantined", "red"),
    EventName.GUARD_TRIPPED: ("guard tripped", "bold red"),
    EventName.SOURCE_FAILED: ("side failing", "bold red"),
    EventName.SOURCE_RECOVERED: ("side recovered", "green"),
    EventName.CREATES_IN_DOUBT: ("creates in doubt", "red"),
    EventName.LEASE_LOST: ("lease lost", "bold red"),
}


def event_line(event: StatusEvent) -> Text | None:
    """The line for ``event``; None for an incremental cycle's start, which its summary
    line (at its end) makes redundant on a terminal."""
    if event.name == EventName.CYCLE_STARTED and not event.data.get("full"):
        return None
    line = Text()
    # The operator's local time: the JSON lines keep UTC.
    at = event.at.astimezone().strftime("%H:%M:%S") if event.at else "--:--:--"
    line.append(at, style="dim")
    where = "/".join(p for p in (event.connection, event.entity) if p)
    line.append(f"  {where}  ")
    headline, style = HEADLINES.get(event.name, (event.name.replace("_", " "), ""))
    line.append(headline + _where_written(event), style=style)
    if event.name == EventName.CYCLE_FINISHED:
        return line.append(f"  {cycle_summary(event.data)}")
    _append_record(line, event)
    _append_details(line, event)
    return line


def _where_written(event: StatusEvent) -> str:
    """``in afas`` for a write that went to one side."""
    written = (EventName.RECORD_CREATED, EventName.RECORD_CHANGED)
    side = event.data.get("side")
    return f" in {side}" if event.name in written and side else ""


def _append_record(line: Text, event: StatusEvent) -> None:
    name = event.data.get("name")
    if name:
        line.append(f"  {name}", style="bold")
    ids = record_ids(event)
    if ids:
        shown = " ⇄ ".join(f"{side} {ids[side]}" for side in SIDES if side in ids)
        line.append(f"  ({shown})" if name else f"  {shown}")


def record_ids(event: StatusEvent) -> dict[str, str]:
    """The record's id on each side the event names, by side."""
    data = event.data
    ids = {side: str(data[f"{side}_id"]) for side in SIDES if data.get(f"{side}_id")}
    side = data.get("side")
    if event.record:
        # An event without a side names the CRM record (a link, a conflict).
        ids.setdefault(side if side in SIDES else "crm", event.record)
    source = data.get("source")
    if source and side in SIDES:
        ids.setdefault(SIDES[1 - SIDES.index(side)], str(source))  # a create's original
    return ids


def _append_details(line: Text, event: StatusEvent) -> None:
    data = event.data
    if event.name == EventName.RECORD_CHANGED:
        for change in field_changes(data.get("fields") or {}):
            line.append("  ").append_text(change)
    elif event.name == EventName.CONFLICT_OPENED:
        line.append(
            f"  {data.get('field')}: crm {_shown(data.get('crm'))}, "
            f"afas {_shown(data.get('afas'))} (was {_shown(data.get('base'))})"
        )
    elif event.name == EventName.CYCLE_STARTED:
        line.append("  full sweep: every record on both sides is listed")
    shown: tuple[str, ...] = ("reason", "message", "error", "guard")
    if event.name != EventName.CONFLICT_OPENED:  # its field leads its values, above
        shown += ("field",)
    for key in shown:
        if data.get(key):
            line.append(f"  {data[key]}", style="dim" if key == "reason" else "")
    if event.name == EventName.GUARD_TRIPPED:
        line.append(f"  {GUARD_HINT}", style="dim")


def field_changes(fields: Mapping[str, Any]) -> list[Text]:
    """``field: old → new (who decided)`` per field."""
    shown = []
    for name, change in fields.items():
        text = Text(f"{name}: {_shown(change.get('before'))} → {_shown(change.get('after'))}")
        if change.get("stored") is not None:
            text.append(f" (stored as {_shown(change['stored'])})")
        if change.get("rule"):
            text.append(f" ({change['rule']})", style="dim")
        shown.append(text)
    return shown


def _shown(value: object) -> str:
    return "(blank)" if value in (None, "") else str(value)


def cycle_summary(data: dict[str, Any]) -> str:
    """A finished cycle in one line: what it did, how long it took, requests per side."""
    counts = data.get("counts") or {}
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no changes"
    if data.get("full"):
        summary = f"full sweep: {summary}"
    hinted = data.get("hinted")
    if isinstance(hinted, dict) and hinted:  # a look at the records hints named
        looked = ", ".join(f"{side} {n}" for side, n in sorted(hinted.items()))
        summary = f"hinted ({looked}): {summary}"
    requests = data.get("requests") or {}
    used = ", ".join(
        f"{side} {r['used']}"
        for side, r in sorted(requests.items())
        if isinstance(r, dict) and "used" in r
    )
    return f"{summary} ({data.get('seconds', '?')} s" + (f"; requests {used})" if used else ")")
