"""The status page's bulk settling: the conflicts or quarantined records a filter selects,
listed, confirmed (a dry run of the same settle functions the CLI uses, nothing written),
then settled each as if alone through the :class:`~syncd.status.desk.Desk`.

The confirmation lists the records by key and the second POST carries those keys: only
records that were listed are settled, and one that left the selection meanwhile is
reported as skipped rather than settled unseen.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from yarl import URL

from syncd.clock import utc_now
from syncd.engine.settle import (
    Outcome,
    RecordFilter,
    SelectedConflict,
    Settlement,
    select_conflicts,
    select_quarantined,
)
from syncd.mapping import EntityMapping
from syncd.records import Side
from syncd.state.rows import Quarantined
from syncd.state.store import StateStore
from syncd.status import bulk_pages
from syncd.status.bulk_pages import CHOSEN, CONFIRMED, BulkAction, Done
from syncd.status.desk import Desk
from syncd.status.pages import Forms
from syncd.status.record_lookup import quarantine_refs
from syncd.status.record_names import HubSpotPages, RecordRef, cell_html

CONFLICT_BUTTONS = (
    BulkAction("take", "crm", "take HubSpot for all"),
    BulkAction("take", "afas", "take AFAS for all"),
)
QUARANTINE_BUTTONS = (
    BulkAction("do", "retry", "retry all"),
    BulkAction("do", "drop", "drop all"),
)
Item = TypeVar("Item")
GONE = "no longer open, or no longer matches the filter: left alone"


class BulkError(ValueError):
    """A bulk form that does not say what to do."""


def everything(chosen: RecordFilter) -> RecordFilter:
    """The filter for showing a list: an empty one shows all, which changes nothing."""
    return dataclasses.replace(chosen, everything=True)


def conflict_key(item: SelectedConflict) -> str:
    return str(item.conflict.id)


def quarantine_key(entry: Quarantined) -> str:
    return f"{entry.connection}/{entry.entity}/{entry.side}:{entry.record_id}"


class BulkDesk:
    """The bulk forms' two steps, for conflicts and for quarantined records."""

    def __init__(
        self,
        store: StateStore,
        desk: Desk,
        pages: Mapping[str, HubSpotPages],
        mappings: Mapping[str, EntityMapping],
    ) -> None:
        self.store = store
        self.desk = desk
        self.pages = pages
        self.mappings = mappings

    async def conflicts(self, form: Mapping[str, str], forms: Forms, by: str) -> str:
        button = _button(CONFLICT_BUTTONS, "take", form)
        chosen = bulk_pages.page_filter(form, sides=False)
        selection = await select_conflicts(self.store, chosen, utc_now())
        back = _back("/conflicts", form)
        if form.get(CONFIRMED) != "yes":
            dry = await self.desk.settle_conflicts(selection, Side(button.value), by, dry_run=True)
            rows = [(conflict_key(i), self.conflict_cell(i)) for i in dry.selected]
            return bulk_pages.confirm_page(forms, "/conflicts/bulk", back, form, button, rows)
        listed, selection = _only_listed(form, selection, conflict_key)
        done = await self.desk.settle_conflicts(selection, Side(button.value), by, dry_run=False)
        return self._result(button, back, done, self.conflict_cell, listed, conflict_key)

    async def quarantine(self, form: Mapping[str, str], forms: Forms, by: str) -> str:
        button = _button(QUARANTINE_BUTTONS, "do", form)
        chosen = bulk_pages.page_filter(form, sides=True)
        selection = await select_quarantined(self.store, chosen, utc_now(), self.mappings)
        back = _back("/quarantine", form)
        retry = button.value == "retry"
        if form.get(CONFIRMED) != "yes":
            dry = await self.desk.requeue_many(selection, retry, by, dry_run=True)
            cells = await self.quarantine_cells(dry.selected)
            rows = list(zip(map(quarantine_key, dry.selected), cells, strict=True))
            return bulk_pages.confirm_page(forms, "/quarantine/bulk", back, form, button, rows)
        listed, selection = _only_listed(form, selection, quarantine_key)
        done = await self.desk.requeue_many(selection, retry, by, dry_run=False)
        named = dict(
            zip(map(quarantine_key, selection), await self.quarantine_cells(selection), strict=True)
        )
        return self._result(
            button, back, done, lambda q: named[quarantine_key(q)], listed, quarantine_key
        )

    # --- naming the records ----------------------------------------------------------------

    def conflict_cell(self, item: SelectedConflict) -> str:
        c = item.conflict
        ref = RecordRef(c.entity, item.crm_id, item.afas_id, item.name)
        record = cell_html(ref, self.pages.get(c.connection, HubSpotPages()))
        values = f"HubSpot {c.crm!r}, AFAS {c.afas!r}"
        return (
            f"#{c.id} {_escape(c.connection)}/{_escape(c.entity)} {record}<br>"
            f"<small>{_escape(c.field)}: {_escape(values)}</small>"
        )

    async def quarantine_cells(self, entries: Sequence[Quarantined]) -> list[str]:
        refs = await quarantine_refs(self.store, entries, self.mappings)
        return [
            f"{_escape(q.connection)}/{_escape(q.entity)} "
            f"{cell_html(ref, self.pages.get(q.connection, HubSpotPages()))}"
            f"<br><small>held: {_escape(q.side)} {_escape(q.record_id)}: "
            f"{_escape(q.reason)}</small>"
            for q, ref in zip(entries, refs, strict=True)
        ]

    def _result(
        self,
        button: BulkAction,
        back: str,
        done: Settlement[Item],
        cell: Callable[[Item], str],
        listed: list[str],
        key: Callable[[Item], str],
    ) -> str:
        def shown(outcomes: list[Outcome[Item]]) -> list[Done]:
            return [Done(cell(o.item), o.detail) for o in outcomes]

        selected = {key(item) for item in done.selected}
        gone = [Done(_escape(k), GONE) for k in listed if k not in selected]
        return bulk_pages.result_page(
            button.label.removesuffix(" for all").removesuffix(" all"),
            back,
            shown(done.settled),
            shown(done.skipped) + gone,
            shown(done.failed),
        )


def _button(buttons: Sequence[BulkAction], name: str, form: Mapping[str, str]) -> BulkAction:
    for button in buttons:
        if form.get(name) == button.value:
            return button
    choices = " or ".join(b.value for b in buttons)
    raise BulkError(f"the form's {name} must be {choices}, not {form.get(name, '')!r}")


def _only_listed(
    form: Mapping[str, str], selection: list[Item], key: Callable[[Item], str]
) -> tuple[list[str], list[Item]]:
    listed = [k for k in form.get(CHOSEN, "").split(",") if k]
    wanted = set(listed)
    return listed, [item for item in selection if key(item) in wanted]


def _back(path: str, form: Mapping[str, str]) -> str:
    return str(URL(path).with_query(bulk_pages.carried(form)))


def _escape(value: object) -> str:
    return html.escape(str(value), quote=True)
