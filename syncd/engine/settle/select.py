"""Read the open conflicts and the quarantine from the store, keep what a filter matches."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from syncd.engine.settle.filter import (
    RecordFilter,
    SelectedConflict,
    conflict_matches,
    quarantined_matches,
)
from syncd.engine.settle.names import quarantined_names
from syncd.mapping import EntityMapping
from syncd.state.rows import Conflict, Link, Quarantined
from syncd.state.store import StateStore


async def select_conflicts(
    store: StateStore, chosen: RecordFilter, now: datetime
) -> list[SelectedConflict]:
    """The open conflicts ``chosen`` matches, oldest first, each with its record's ids.
    FilterError when ``chosen`` selects nothing in particular and does not say "all"."""
    chosen.require_choice("conflicts")
    links: dict[int, Link | None] = {}
    selected = []
    for conflict in await store.conflicts(chosen.connection):
        if conflict.link_id not in links:
            links[conflict.link_id] = await store.get_link(conflict.link_id)
        item = _with_record(conflict, links[conflict.link_id])
        if conflict_matches(chosen, item, now):
            selected.append(item)
    return selected


async def select_quarantined(
    store: StateStore,
    chosen: RecordFilter,
    now: datetime,
    mappings: Mapping[str, EntityMapping],
) -> list[Quarantined]:
    """The quarantined records ``chosen`` matches, in the order they came in, a search
    finding them by name too (FilterError as for :func:`select_conflicts`)."""
    chosen.require_choice("quarantined records")
    held = await store.quarantined(chosen.connection)
    names = await quarantined_names(store, held, mappings)
    return [
        q for q, name in zip(held, names, strict=True) if quarantined_matches(chosen, q, now, name)
    ]


def _with_record(conflict: Conflict, link: Link | None) -> SelectedConflict:
    if link is None:  # its pair was unlinked since: settling it will say so
        return SelectedConflict(conflict, None, None, None)
    return SelectedConflict(conflict, link.crm_id, link.afas_id, link.name)
