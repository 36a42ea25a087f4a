"""An operator retries or drops quarantined records: one at a time, or many by a filter.

A retry makes the record due at the next cycle instead of after its backoff; a drop takes
it out of quarantine (a later cycle quarantines it again if it is still unreadable).
Either is a status event naming who asked, whether for one record or in bulk.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from syncd.engine.settle.names import quarantined_names
from syncd.engine.settle.outcome import Outcome, Settlement
from syncd.errors import SyncdError
from syncd.events import EventName
from syncd.mapping import EntityMapping
from syncd.state.rows import Quarantined, StatusEvent
from syncd.state.store import StateStore, Transaction

OneAction = Callable[[StateStore, Quarantined], Awaitable[bool]]
# Per entity, its mapping: the event names a record linked to none by its record_name.
Mappings = Mapping[str, EntityMapping]


async def retry_quarantined_record(
    store: StateStore, entry: Quarantined, mappings: Mappings, *, by: str | None, now: datetime
) -> bool:
    """Make ``entry`` due now; False when it is no longer in quarantine."""
    [name] = await quarantined_names(store, [entry], mappings)
    async with store.transaction() as tx:
        if not await tx.retry_now(entry.connection, entry.entity, entry.side, entry.record_id, now):
            return False
        await _log(tx, entry, name, EventName.RETRY_REQUESTED, by)
    return True


async def drop_quarantined_record(
    store: StateStore, entry: Quarantined, mappings: Mappings, *, by: str | None
) -> bool:
    """Take ``entry`` out of quarantine; False when it was no longer in."""
    [name] = await quarantined_names(store, [entry], mappings)
    async with store.transaction() as tx:
        if not await tx.release(entry.connection, entry.entity, entry.side, entry.record_id):
            return False
        reason = "dropped by an operator"
        await _log(tx, entry, name, EventName.RECORD_RELEASED, by, reason=reason)
    return True


async def retry_quarantined(
    store: StateStore,
    selection: list[Quarantined],
    mappings: Mappings,
    *,
    by: str | None,
    now: datetime,
    dry_run: bool = False,
) -> Settlement[Quarantined]:
    async def retry(store: StateStore, entry: Quarantined) -> bool:
        return await retry_quarantined_record(store, entry, mappings, by=by, now=now)

    return await _each(store, selection, retry, "retried", dry_run)


async def drop_quarantined(
    store: StateStore,
    selection: list[Quarantined],
    mappings: Mappings,
    *,
    by: str | None,
    dry_run: bool = False,
) -> Settlement[Quarantined]:
    async def drop(store: StateStore, entry: Quarantined) -> bool:
        return await drop_quarantined_record(store, entry, mappings, by=by)

    return await _each(store, selection, drop, "dropped", dry_run)


async def _each(
    store: StateStore, selection: list[Quarantined], act: OneAction, done: str, dry_run: bool
) -> Settlement[Quarantined]:
    """``act`` on each record in its own transaction: one failing leaves the rest to go."""
    result = Settlement(selection, dry_run)
    if dry_run:
        return result
    for entry in selection:
        try:
            acted = await act(store, entry)
        except SyncdError as error:
            result.failed.append(Outcome(entry, str(error)))
        else:
            outcomes = result.settled if acted else result.skipped
            outcomes.append(Outcome(entry, done if acted else "no longer in quarantine"))
    return result


async def _log(
    tx: Transaction,
    entry: Quarantined,
    name: str | None,
    event: EventName,
    by: str | None,
    **more: object,
) -> None:
    data = {"side": str(entry.side), "name": name, "by": by, **more}
    await tx.add_event(
        StatusEvent(entry.connection, entry.entity, str(event), record=entry.record_id, data=data)
    )
