"""Settling writes whose outcome is unknown, before anything is written again.

A journal row still ``pending`` at the start of a cycle means the process crashed or a
response was lost after the intent was recorded. The write may or may not have happened:

* a create is looked up by its correlation key; found, it is linked (never re-created);
  not found, the row is superseded and the plan may create the record again, but not
  before the target side's ``outcome_window`` has passed since it was sent: AFAS goes
  on with a write whose caller gave up, so until then it may still land (the row stays
  pending, and the cycle does not create its source meanwhile);
* an update is checked against the target: every field that now holds the value we
  wrote has its base advanced (it landed, so a later change on the source side is a
  plain change, not a conflict); the pair is re-read and the merge does the rest;
* a deactivation is superseded and its pair re-read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta

from syncd.engine.apply import Applier
from syncd.gateways.base import Gateway
from syncd.records import Side
from syncd.state.rows import JournalAction, JournalEntry, JournalState, StatusEvent
from syncd.state.store import StateStore
from syncd.status.events import EventName


async def settle_pending(
    store: StateStore,
    gateways: Mapping[Side, Gateway],
    applier: Applier,
) -> set[int]:
    """Settle every pending journal row; returns the link ids to re-read this cycle."""
    touched: set[int] = set()
    for entry in await store.pending_journal(applier.connection, applier.entity):
        if entry.action is JournalAction.CREATE:
            await _settle_create(store, gateways[entry.target], applier, entry)
            continue
        if entry.action is JournalAction.UPDATE:
            await _settle_update(store, gateways[entry.target], applier, entry)
        else:
            await _supersede(store, applier, entry)
        if entry.link_id is not None:
            touched.add(entry.link_id)
    return touched


async def _settle_update(
    store: StateStore, gateway: Gateway, applier: Applier, entry: JournalEntry
) -> None:
    link = await store.get_link(entry.link_id) if entry.link_id is not None else None
    if link is None or entry.target_id is None or entry.id is None:
        await _supersede(store, applier, entry)
        return
    page = await gateway.read(applier.entity, [entry.target_id])
    now = {r.id: r for r in page.records}.get(entry.target_id)
    landed = {
        name: value
        for name, value in entry.fields.items()
        if now is not None and now.fields.get(name) == value
    }
    if not landed:
        await _supersede(store, applier, entry)
        return
    async with store.transaction() as tx:
        await tx.save_link(dataclasses.replace(link, base={**link.base, **landed}))
        await tx.finish_journal(entry.id, JournalState.DONE)
        await tx.add_event(
            StatusEvent(
                applier.connection,
                applier.entity,
                str(EventName.WRITE_RECOVERED),
                record=entry.target_id,
                data={"action": "update", "outcome": "landed", "fields": sorted(landed)},
            )
        )


async def _settle_create(
    store: StateStore, gateway: Gateway, applier: Applier, entry: JournalEntry
) -> None:
    key, source_id = entry.correlation, entry.source_id
    if key is None or source_id is None or entry.id is None:
        await _supersede(store, applier, entry)
        return
    found = (await gateway.find_by_correlation(applier.entity, [key])).get(key)
    linked = await store.links_by_ids(
        applier.connection, applier.entity, entry.target.other, [source_id]
    )
    if found is None and not linked and _may_still_land(gateway, entry, applier.now()):
        return
    if found is None or linked:
        await _supersede(store, applier, entry)
        return
    await applier.commit_create(
        entry, entry.target, source_id, found, entry.fields, event=EventName.WRITE_RECOVERED
    )


def _may_still_land(gateway: Gateway, entry: JournalEntry, now: datetime) -> bool:
    """True while a write sent to ``gateway`` may still be saved there (its window)."""
    window = getattr(gateway, "outcome_window", timedelta(0))
    if not window or entry.created_at is None:
        return False
    return now - entry.created_at < window


async def _supersede(store: StateStore, applier: Applier, entry: JournalEntry) -> None:
    if entry.id is None:
        return
    async with store.transaction() as tx:
        await tx.finish_journal(entry.id, JournalState.SUPERSEDED)
        await tx.add_event(
            StatusEvent(
                applier.connection,
                applier.entity,
                str(EventName.WRITE_RECOVERED),
                record=entry.target_id or entry.source_id,
                data={"action": str(entry.action), "outcome": "re-read, not repeated"},
            )
        )
