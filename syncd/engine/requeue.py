"""A person's word on one quarantined record: try it again now, or drop it.

The CLI (``syncd quarantine retry|drop``) and the status page's buttons both come here,
so either way the change and a status event naming who asked are one transaction.
"""

from __future__ import annotations

from datetime import datetime

from syncd.events import EventName
from syncd.records import Side
from syncd.state.rows import StatusEvent
from syncd.state.store import StateStore


async def retry_now(
    store: StateStore,
    connection: str,
    entity: str,
    side: Side,
    record_id: str,
    *,
    at: datetime,
    by: str | None = None,
) -> bool:
    """Make the record due at ``at`` (the next cycle tries it); False if it is not in."""
    async with store.transaction() as tx:
        found = await tx.retry_now(connection, entity, side, record_id, at)
        if found:
            await tx.add_event(
                StatusEvent(
                    connection,
                    entity,
                    str(EventName.RETRY_ASKED),
                    record=record_id,
                    data={"side": str(side), "by": by},
                )
            )
    return found


async def drop(
    store: StateStore,
    connection: str,
    entity: str,
    side: Side,
    record_id: str,
    *,
    by: str | None = None,
) -> bool:
    """Take the record out of quarantine unread; False if it is not in."""
    async with store.transaction() as tx:
        found = await tx.release(connection, entity, side, record_id)
        if found:
            await tx.add_event(
                StatusEvent(
                    connection,
                    entity,
                    str(EventName.RECORD_RELEASED),
                    record=record_id,
                    data={"side": str(side), "by": by, "reason": "dropped by a person"},
                )
            )
    return found
