"""The status page's console for an office (pure HTML, no script): open conflicts side
by side, quarantined records, tripped guards, and a record's history.

With actions on, each item has its buttons: small forms that POST (with the CSRF token,
:mod:`syncd.status.csrf`) and come back here. With actions off, ``forms`` is ``None``
and no form that POSTs is rendered (a list's filter is a GET, changing nothing).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from syncd.engine.guards import Trip
from syncd.state.rows import Conflict, Quarantined, StatusEvent
from syncd.status.log import event_as_text

STYLE = """
body{font:15px/1.4 system-ui,sans-serif;margin:2rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse}
td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
nav a{margin-right:1rem}td form{display:inline;margin:0 .3rem 0 0}
.said{background:#eef6ee;padding:.5rem}.refused{background:#fbeaea;padding:.5rem}
pre{white-space:pre-wrap;margin:0}
"""
SIDE_NAMES = {"crm": "HubSpot", "afas": "AFAS"}


@dataclass(frozen=True)
class Forms:
    """What every form carries: the CSRF token bound to this browser's nonce."""

    csrf: str


@dataclass(frozen=True)
class Notice:
    """A line at the top of a page: what an action did, or why it was refused."""

    text: str
    refused: bool = False


@dataclass(frozen=True)
class GuardLane:
    """A lane's tripped guards, and the plan they held back as HTML
    (:func:`~syncd.status.held_plans.plan_html`)."""

    connection: str
    entity: str
    trips: Sequence[Trip]
    plan: str


def _escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def _shown(value: object) -> str:
    return "<em>(blank)</em>" if value is None or value == "" else _escape(value)


def nav() -> str:
    """Links to every page of the console."""
    return (
        "<nav><a href='/'>Health</a><a href='/conflicts'>Conflicts</a>"
        "<a href='/quarantine'>Quarantine</a><a href='/guards'>Guards</a>"
        "<a href='/history'>History</a></nav>"
    )


def search_box(query: str = "") -> str:
    """The search box that opens a record's history."""
    return (
        "<form method='get' action='/history'><label>Record "
        f"<input name='q' value='{_escape(query)}' placeholder='name, HubSpot id or AFAS number'>"
        "</label> <button type='submit'>Show its history</button></form>"
    )


def page(title: str, body: str, notice: Notice | None = None) -> str:
    said = ""
    if notice is not None:
        kind = "refused" if notice.refused else "said"
        said = f"<p class='{kind}' role='status'>{_escape(notice.text)}</p>"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>syncd: {_escape(title)}"
        f"</title><style>{STYLE}</style></head><body><h1>syncd: {_escape(title)}</h1>"
        f"{nav()}{said}{body}</body></html>"
    )


def _form(
    forms: Forms, action: str, fields: Mapping[str, str], button: str, extra: str = ""
) -> str:
    hidden = "".join(
        f"<input type='hidden' name='{_escape(k)}' value='{_escape(v)}'>"
        for k, v in {"csrf": forms.csrf, **fields}.items()
    )
    return (
        f"<form method='post' action='{_escape(action)}'>{hidden}{extra}"
        f"<button type='submit'>{_escape(button)}</button></form>"
    )


# --- conflicts ---------------------------------------------------------------------------


def conflicts_page(
    conflicts: Sequence[tuple[Conflict, str | None]],
    forms: Forms | None,
    notice: Notice | None = None,
    tools: str = "",
) -> str:
    """``tools``: the filter and bulk forms (:mod:`syncd.status.bulk_pages`), above."""
    if not conflicts:
        return page("open conflicts", f"{tools}<p>No open conflicts.</p>", notice)
    head = (
        "<table><tr><th>conflict</th><th>record</th><th>field</th><th>base</th>"
        "<th>HubSpot</th><th>AFAS</th>" + ("<th>settle</th>" if forms else "") + "</tr>"
    )
    rows = "".join(_conflict_row(c, record, forms) for c, record in conflicts)
    return page(f"open conflicts ({len(conflicts)})", f"{tools}{head}{rows}</table>", notice)


def _conflict_row(conflict: Conflict, record: str | None, forms: Forms | None) -> str:
    """``record``: the pair as an HTML cell (:func:`~syncd.status.record_names.cell_html`),
    None when it was unlinked since."""
    record = record or "(gone)"
    cells = (
        f"<td>#{conflict.id} {_escape(conflict.connection)}/{_escape(conflict.entity)}</td>"
        f"<td>{record}</td><td>{_escape(conflict.field)}</td><td>{_shown(conflict.base)}</td>"
        f"<td>{_shown(conflict.crm)}</td><td>{_shown(conflict.afas)}</td>"
    )
    if forms is None:
        return f"<tr>{cells}</tr>"
    action = f"/conflicts/{conflict.id}/resolve"
    where = {"connection": conflict.connection}
    enter = (
        f"<label>value <input name='value' aria-label='value for conflict {conflict.id}'></label> "
    )
    buttons = (
        _form(forms, action, {**where, "take": "crm"}, "take HubSpot")
        + _form(forms, action, {**where, "take": "afas"}, "take AFAS")
        + _form(forms, action, where, "enter a value", enter)
    )
    return f"<tr>{cells}<td>{buttons}</td></tr>"


# --- quarantine --------------------------------------------------------------------------


def quarantine_page(
    entries: Sequence[tuple[Quarantined, str]],
    forms: Forms | None,
    notice: Notice | None = None,
    tools: str = "",
) -> str:
    """``entries``: each record with its name and ids as an HTML cell
    (:func:`~syncd.status.record_names.cell_html`); ``tools`` as for conflicts."""
    if not entries:
        return page("quarantine", f"{tools}<p>No record is in quarantine.</p>", notice)
    head = (
        "<table><tr><th>record</th><th>where</th><th>what the side said</th>"
        "<th>attempts</th><th>next attempt</th>" + ("<th>act</th>" if forms else "") + "</tr>"
    )
    rows = "".join(_quarantine_row(q, record, forms) for q, record in entries)
    return page(f"quarantine ({len(entries)})", f"{tools}{head}{rows}</table>", notice)


def _quarantine_row(q: Quarantined, record: str, forms: Forms | None) -> str:
    side = SIDE_NAMES.get(str(q.side), str(q.side))
    said = _escape(q.reason) + (f"<br>reference {_escape(q.reference)}" if q.reference else "")
    due = f"{q.next_attempt:%Y-%m-%d %H:%M} UTC" if q.next_attempt else "now"
    cells = (
        f"<td>{record}<br><small>held: {_escape(side)} {_escape(q.record_id)}</small></td>"
        f"<td>{_escape(q.connection)}/{_escape(q.entity)}</td><td>{said}</td>"
        f"<td>{q.attempts}</td><td>{_escape(due)}</td>"
    )
    if forms is None:
        return f"<tr>{cells}</tr>"
    which = {
        "connection": q.connection,
        "entity": q.entity,
        "side": str(q.side),
        "record": q.record_id,
    }
    buttons = _form(forms, "/quarantine/retry", which, "retry") + _form(
        forms, "/quarantine/drop", which, "drop"
    )
    return f"<tr>{cells}<td>{buttons}</td></tr>"


# --- guards ------------------------------------------------------------------------------


def guards_page(
    lanes: Sequence[GuardLane], forms: Forms | None, notice: Notice | None = None
) -> str:
    """Per lane: each guard with what it counts, then what the held plan would write."""
    if not lanes:
        return page("guards", "<p>No guard has tripped since the last finished cycle.</p>", notice)
    head = (
        "<p>A tripped guard held back its lane's plan. Confirming lets the next cycle apply "
        "a plan of this size, no bigger.</p>"
    )
    return page("tripped guards", head + "".join(_guard_lane(g, forms) for g in lanes), notice)


def _guard_lane(lane: GuardLane, forms: Forms | None) -> str:
    rows = "".join(
        f"<tr><td>{_escape(t.guard)}</td><td>{_escape(t.message)}</td><td>{t.count}</td></tr>"
        for t in lane.trips
    )
    where = {"connection": lane.connection, "entity": lane.entity}
    confirm = _form(forms, "/guards/confirm", where, "confirm") if forms else ""
    return (
        f"<h2>{_escape(lane.connection)}/{_escape(lane.entity)}</h2>"
        "<table><tr><th>guard</th><th>what the plan would do</th><th>records</th></tr>"
        f"{rows}</table>{lane.plan}{confirm}"
    )


# --- history -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordHistory:
    connection: str
    entity: str
    record: str
    events: Sequence[StatusEvent]


def history_page(query: str, found: Sequence[RecordHistory]) -> str:
    if not query:
        return page("history", search_box())
    if not found:
        return page("history", f"{search_box(query)}<p>No record {_escape(query)} is known.</p>")
    sections = "".join(
        f"<h2>{_escape(h.connection)}/{_escape(h.entity)} {_escape(h.record)}</h2>"
        + "<pre>"
        + "\n".join(_escape(event_as_text(e)) for e in h.events)
        + "</pre>"
        for h in found
    )
    return page(f"history of {query}", search_box(query) + sections)
