"""Status events as the store keeps them: committed with the change each describes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syncd.state import chunks, convert
from syncd.state.database import Database
from syncd.state.rows import StatusEvent
from syncd.state.sessions import StoreSessions, TransactionSession
from syncd.state.tables import EventRow

EVENTS = EventRow.__table__  # many per transaction, never read back in it: plain rows


class EventReads(StoreSessions):
    """What :class:`~syncd.state.store.StateStore` reads of status events."""

    async def events(
        self,
        connection: str | None = None,
        *,
        after_id: int = 0,
        limit: int = 1000,
        entity: str | None = None,
        record: str | None = None,
        names: Sequence[str] = (),
        since: datetime | None = None,
        newest: bool = False,
    ) -> list[StatusEvent]:
        """Status events with an id above ``after_id``, oldest first, at most ``limit``;
        with ``newest``, the last ``limit`` of them (still oldest first).

        The other arguments narrow the result: one entity, one record id (on either
        side), some event names, events at or after ``since``.
        """
        query = select(EventRow).where(col(EventRow.id) > after_id)
        if connection is not None:
            query = query.where(EventRow.connection == connection)
        if entity is not None:
            query = query.where(EventRow.entity == entity)
        if record is not None:
            query = query.where(EventRow.record == record)
        if names:
            query = query.where(col(EventRow.name).in_(list(names)))
        if since is not None:
            query = query.where(col(EventRow.at) >= since)
        order = col(EventRow.id).desc() if newest else col(EventRow.id)
        async with self._session("cannot read status events") as session:
            rows = [
                convert.event(row) for row in await session.exec(query.order_by(order).limit(limit))
            ]
        return rows[::-1] if newest else rows

    async def events_since(self, since: datetime, names: Sequence[str]) -> list[StatusEvent]:
        """Every event of ``names`` at or after ``since``, oldest first, in one query and
        unpaged: for a window the caller keeps short (the status page reads a day)."""
        query = select(EventRow).where(
            col(EventRow.at) >= since, col(EventRow.name).in_(list(names))
        )
        async with self._session("cannot read status events") as session:
            found = await session.exec(query.order_by(col(EventRow.id)))
            return [convert.event(row) for row in found]


class EventWrites(TransactionSession):
    """How a :class:`~syncd.state.store.Transaction` writes status events."""

    def __init__(self, session: AsyncSession, db: Database) -> None:
        super().__init__(session, db)
        self._events: list[dict[str, Any]] = []  # inserted together before the commit

    async def add_event(self, event: StatusEvent) -> None:
        """Append a status event; ``at`` defaults to now (UTC). Inserted with the
        transaction's other events, :data:`~syncd.state.chunks.ROW_CHUNK` per statement,
        when that many are waiting or at its end (plain rows, no ORM objects: a cycle can
        add thousands)."""
        self._events.append(convert.event_values(event))
        if len(self._events) >= chunks.ROW_CHUNK:
            await self.flush_events()

    async def flush_events(self) -> None:
        """Insert the events added so far, in the order they were added."""
        events, self._events = self._events, []
        with self._db.failing_as("cannot add status events"):
            for chunk in chunks.row_chunks(events):
                await self._session.exec(insert(EVENTS), params=chunk)
