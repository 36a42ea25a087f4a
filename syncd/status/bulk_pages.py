"""The status page's bulk settling (pure HTML, no script): the filter that narrows the
conflicts or the quarantine, the buttons that act on all the records it shows, the page
that confirms which before anything is written, and the page that says what became of
each.

The filter travels as the form's own fields (``connection``, ``entity``, ``field``,
``side``, ``older``, ``search``) and is read here into the
:class:`~syncd.engine.settle.RecordFilter` the CLI uses, so both select alike.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from syncd.engine.settle import FilterError, RecordFilter, parse_age
from syncd.records import Side
from syncd.status.pages import Forms, page

FILTER_KEYS = ("connection", "entity", "field", "side", "older", "search")
ALL = "all"  # the form field that says "all of them" when no filter narrows
CHOSEN = "chosen"  # the records the confirmation page listed, the only ones then settled
CONFIRMED = "confirmed"


@dataclass(frozen=True)
class BulkAction:
    """One bulk button: the field and value it posts, and what it says it does."""

    name: str
    value: str
    label: str  # e.g. "take HubSpot for all", before the count


@dataclass(frozen=True)
class Done:
    """One record a bulk action settled, skipped or failed: the record as HTML, why."""

    record: str
    detail: str


def _escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def carried(values: Mapping[str, str]) -> dict[str, str]:
    """The filter fields given, to carry into the next form or link."""
    return {k: values[k].strip() for k in FILTER_KEYS if values.get(k, "").strip()}


def page_filter(values: Mapping[str, str], *, sides: bool) -> RecordFilter:
    """The filter a form or query gives; ``sides``: a side may be chosen (quarantine)."""
    given = carried(values)
    side = given.get("side")
    if side is not None and (not sides or side not in ("crm", "afas")):
        where = "crm or afas" if sides else "not chosen for conflicts (they are on both sides)"
        raise FilterError(f"filter side: {side!r} is {where}")
    return RecordFilter(
        connection=given.get("connection"),
        entities=frozenset([given["entity"]]) if "entity" in given else frozenset(),
        field=given.get("field"),
        side=Side(side) if side else None,
        older_than=parse_age(given["older"]) if "older" in given else None,
        search=given.get("search"),
        everything=values.get(ALL) == "yes",
    )


def filter_form(
    path: str, values: Mapping[str, str], lanes: Sequence[tuple[str, str]], *, sides: bool
) -> str:
    """The GET form that narrows the list on ``path``: nothing is changed by it."""
    given = carried(values)
    connections = sorted({c for c, _ in lanes})
    entities = sorted({e for _, e in lanes})
    fields = [
        _select("connection", connections, given.get("connection")),
        _select("entity", entities, given.get("entity")),
        _text("field", given.get("field"), "canonical name, e.g. phone"),
        _select("side", ["crm", "afas"], given.get("side")) if sides else "",
        _text("older", given.get("older"), "older than, e.g. 2d"),
        _text("search", given.get("search"), "name, id, value or reason"),
    ]
    return (
        f"<form method='get' action='{_escape(path)}' class='filter'>{''.join(fields)}"
        f"<button type='submit'>Filter</button> <a href='{_escape(path)}'>clear</a></form>"
    )


def _select(name: str, options: Sequence[str], chosen: str | None) -> str:
    items = "".join(
        f"<option value='{_escape(o)}'{' selected' if o == chosen else ''}>{_escape(o)}</option>"
        for o in options
    )
    return (
        f"<label>{name} <select name='{name}'><option value=''>any</option>{items}"
        "</select></label> "
    )


def _text(name: str, value: str | None, hint: str) -> str:
    return (
        f"<label>{name} <input name='{name}' value='{_escape(value or '')}' "
        f"placeholder='{_escape(hint)}'></label> "
    )


def _hidden(fields: Mapping[str, str]) -> str:
    return "".join(
        f"<input type='hidden' name='{_escape(k)}' value='{_escape(v)}'>" for k, v in fields.items()
    )


def bulk_forms(
    forms: Forms,
    action: str,
    values: Mapping[str, str],
    buttons: Sequence[BulkAction],
    count: int,
    narrows: bool,
) -> str:
    """The buttons that act on all ``count`` records shown; each first asks to confirm.
    Without a filter that narrows, each asks for "all" in so many words."""
    if count == 0:
        return ""
    everything = (
        ""
        if narrows
        else f"<label><input type='checkbox' name='{ALL}' value='yes' required> all {count}: "
        "no filter narrows them</label> "
    )
    hidden = _hidden({"csrf": forms.csrf, **carried(values)})
    return (
        "<p class='bulk'>"
        + "".join(
            f"<form method='post' action='{_escape(action)}'>{hidden}"
            f"{_hidden({b.name: b.value})}{everything}"
            f"<button type='submit'>{_escape(b.label)} {count} shown</button></form>"
            for b in buttons
        )
        + "</p>"
    )


def confirm_page(
    forms: Forms,
    action: str,
    back: str,
    values: Mapping[str, str],
    button: BulkAction,
    rows: Sequence[tuple[str, str]],
) -> str:
    """The dry run: how many and which (``rows``: key, record as HTML), nothing written;
    confirming posts the keys listed, so only these are settled."""
    title = f"confirm: {button.label} {len(rows)}"
    if not rows:
        return page(
            title, f"<p>No record matches now.</p><p><a href='{_escape(back)}'>Back</a></p>"
        )
    fields = {
        "csrf": forms.csrf,
        **carried(values),
        **({ALL: "yes"} if values.get(ALL) == "yes" else {}),
        button.name: button.value,
        CHOSEN: ",".join(key for key, _ in rows),
        CONFIRMED: "yes",
    }
    listed = "".join(f"<tr><td>{record}</td></tr>" for _, record in rows)
    body = (
        f"<p>Nothing is written yet. {len(rows)} would be settled, each as if alone:</p>"
        f"<table>{listed}</table>"
        f"<form method='post' action='{_escape(action)}'>{_hidden(fields)}"
        f"<button type='submit'>Yes: {_escape(button.label)} {len(rows)}</button></form> "
        f"<p><a href='{_escape(back)}'>Cancel</a></p>"
    )
    return page(title, body)


def result_page(
    label: str, back: str, settled: Sequence[Done], skipped: Sequence[Done], failed: Sequence[Done]
) -> str:
    """What became of each record: settled, skipped (settled meanwhile), failed, and why."""
    sections = [("Settled", settled), ("Skipped", skipped), ("Failed", failed)]
    body = "".join(
        f"<h2>{name} ({len(done)})</h2>"
        + (
            "<table>"
            + "".join(f"<tr><td>{d.record}</td><td>{_escape(d.detail)}</td></tr>" for d in done)
            + "</table>"
            if done
            else ""
        )
        for name, done in sections
    )
    title = f"{label}: {len(settled)} settled, {len(skipped)} skipped, {len(failed)} failed"
    return page(title, f"{body}<p><a href='{_escape(back)}'>Back</a></p>")
