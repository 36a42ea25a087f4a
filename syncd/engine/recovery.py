"""Settling writes whose outcome is unknown, before anything is written again.

A journal row still ``pending`` at the start of a cycle means the process crashed or a
response was lost after the intent was recorded. The write may or may not have happened:

* a create is looked up by its correlation key (a side's all at once, however many a
  crash left); found, it is linked (never re-created); not found, the row is superseded
  and the plan may create the record again, but not before the target side's
  ``outcome_window`` has passed since the request could last have reached it: AFAS goes
  on with a write whose caller gave up, so until then it may still land (the row stays
  pending, the cycle does not create its source meanwhile, and the status log says how
  many wait and until when: :mod:`syncd.engine.indoubt`);
* an update is checked against the target (a side's all in one read): every field that
  now holds the value we wrote has its base advanced (it landed, so a later change on
  the source side is a plain change, not a conflict); the pair is re-read and the
  merge does the rest;
* a deactivation is superseded and its pair re-read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from syncd.engine.apply.applier import Applier
from syncd.engine.indoubt import (
    InDoubt,
    creates_in_doubt,
    cycle_boundaries,
    last_landing,
    outcome_window,
)
from syncd.events import EventName
from syncd.gateways.base import Gateway
from syncd.records import Record, Side
from syncd.state.rows import JournalAction, JournalEntry, JournalState, StatusEvent
from syncd.state.store import StateStore


async def settle_pending(
    store: StateStore,
    gateways: Mapping[Side, Gateway],
    applier: Applier,
    pending: Sequence[JournalEntry] | None = None,
) -> set[int]:
    """Settle every pending journal row (``pending``, if the caller has just read them);
    returns the link ids to re-read this cycle.

    Each side is asked once for all its creates (by correlation key) and once for all
    its updated records (by id), not once per row: after a crash there may be many.
    """
    touched: set[int] = set()
    if pending is None:
        pending = await store.pending_journal(applier.connection, applier.entity)
    for side in Side:
        ours = [e for e in pending if e.target is side]
        creates = [e for e in ours if e.action is JournalAction.CREATE]
        updates = [e for e in ours if e.action is JournalAction.UPDATE]
        await _settle_creates(store, gateways[side], applier, creates)
        await _settle_updates(store, gateways[side], applier, updates)
        for entry in ours:
            if entry.action is JournalAction.CREATE:
                continue
            if entry.action is not JournalAction.UPDATE:
                await _supersede(store, applier, entry)
            if entry.link_id is not None:
                touched.add(entry.link_id)
    return touched


async def _settle_updates(
    store: StateStore, gateway: Gateway, applier: Applier, entries: list[JournalEntry]
) -> None:
    ids = [e.target_id for e in entries if e.target_id is not None]
    now = {r.id: r for r in (await gateway.read(applier.entity, ids)).records} if ids else {}
    for entry in entries:
        current = now.get(entry.target_id) if entry.target_id is not None else None
        await _settle_update(store, applier, entry, current)


async def _settle_update(
    store: StateStore, applier: Applier, entry: JournalEntry, now: Record | None
) -> None:
    link = await store.get_link(entry.link_id) if entry.link_id is not None else None
    if link is None or entry.target_id is None or entry.id is None:
        await _supersede(store, applier, entry)
        return
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


async def _settle_creates(
    store: StateStore, gateway: Gateway, applier: Applier, entries: list[JournalEntry]
) -> None:
    if not entries:
        return
    keys = [e.correlation for e in entries if e.correlation is not None]
    found = await gateway.find_by_correlation(applier.entity, keys) if keys else {}
    sources = [e.source_id for e in entries if e.source_id is not None]
    linked = await store.links_by_ids(
        applier.connection, applier.entity, entries[0].target.other, sources
    )
    boundaries = await cycle_boundaries(store, applier.connection, applier.entity, entries)
    window = outcome_window(gateway)
    settled = set(linked)  # a source linked since, or by an earlier row of this loop
    waiting: list[JournalEntry] = []
    for entry in entries:
        key, source_id = entry.correlation, entry.source_id
        record = found.get(key) if key is not None else None
        if key is None or source_id is None or entry.id is None or source_id in settled:
            await _supersede(store, applier, entry)
        elif record is not None:
            await applier.commit_create(
                entry,
                entry.target,
                source_id,
                record,
                entry.fields,
                event=EventName.WRITE_RECOVERED,
            )
            settled.add(source_id)
        elif _may_still_land(entry, boundaries, window, applier.now()):
            waiting.append(entry)
        else:
            await _supersede(store, applier, entry)
    doubts = creates_in_doubt(waiting, boundaries, {entries[0].target: window})
    await _tell_waiting(store, applier, doubts, window)


async def _tell_waiting(
    store: StateStore, applier: Applier, waiting: list[InDoubt], window: timedelta
) -> None:
    """The status log says how many creates wait and until when; ``syncd status`` reads
    the side's window from it (it opens no gateway to ask)."""
    for doubt in waiting:
        # In the cycle's counts too: a cycle that leaves creates in doubt is not idle.
        applier.counts["creates_in_doubt"] += doubt.count
        data = {**doubt.as_dict(), "window_seconds": window.total_seconds()}
        async with store.transaction() as tx:
            await tx.add_event(
                StatusEvent(
                    applier.connection,
                    applier.entity,
                    str(EventName.CREATES_IN_DOUBT),
                    data=data,
                )
            )


def _may_still_land(
    entry: JournalEntry, boundaries: list[datetime], window: timedelta, now: datetime
) -> bool:
    """True while a create may still be saved by its side (see syncd.engine.indoubt)."""
    if not window:
        return False
    until = last_landing(entry, boundaries, window)
    return until is None or now < until


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
