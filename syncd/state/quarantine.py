"""The quarantine: records one side sent that syncd cannot read, retried later."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select

from syncd.records import Side
from syncd.state import convert
from syncd.state.rows import Quarantined
from syncd.state.sessions import StoreSessions, TransactionSession
from syncd.state.tables import QuarantineRow


class QuarantineReads(StoreSessions):
    """What :class:`~syncd.state.store.StateStore` reads of the quarantine."""

    async def quarantined(
        self, connection: str | None = None, entity: str | None = None
    ) -> list[Quarantined]:
        query = select(QuarantineRow)
        if connection is not None:
            query = query.where(QuarantineRow.connection == connection)
        if entity is not None:
            query = query.where(QuarantineRow.entity == entity)
        async with self._session("cannot read the quarantine") as session:
            rows = await session.exec(query.order_by(col(QuarantineRow.id)))
            return [convert.quarantined(row) for row in rows]


class QuarantineWrites(TransactionSession):
    """How a :class:`~syncd.state.store.Transaction` writes the quarantine."""

    async def quarantine(self, entry: Quarantined) -> Quarantined:
        """Quarantine a record; if it already is, count one more attempt and update it."""
        values = convert.quarantine_values(entry)
        changes = {
            name: values[name]
            for name in ("reason", "field", "reference", "next_attempt", "fields")
        }
        changes["attempts"] = col(QuarantineRow.attempts) + 1
        key = ["connection", "entity", "side", "record_id"]
        statement = self._upsert(QuarantineRow, values, key, changes).returning(QuarantineRow)
        with self._db.failing_as("cannot quarantine a record"):
            result = await self._session.exec(
                statement, execution_options={"populate_existing": True}
            )
            row: QuarantineRow = result.scalars().one()
        return convert.quarantined(row)

    async def release(self, connection: str, entity: str, side: Side, record_id: str) -> bool:
        """Take a record out of quarantine; True if it was in."""
        statement = delete(QuarantineRow).where(
            col(QuarantineRow.connection) == connection,
            col(QuarantineRow.entity) == entity,
            col(QuarantineRow.side) == str(side),
            col(QuarantineRow.record_id) == record_id,
        )
        with self._db.failing_as("cannot release a record"):
            result = await self._session.exec(statement)
        return result.rowcount > 0

    async def retry_now(
        self, connection: str, entity: str, side: Side, record_id: str, at: datetime
    ) -> bool:
        """Make a quarantined record due for its next attempt at ``at``; True if it is in."""
        statement = (
            update(QuarantineRow)
            .where(
                col(QuarantineRow.connection) == connection,
                col(QuarantineRow.entity) == entity,
                col(QuarantineRow.side) == str(side),
                col(QuarantineRow.record_id) == record_id,
            )
            .values(next_attempt=at)
        )
        with self._db.failing_as("cannot reschedule a quarantined record"):
            result = await self._session.exec(statement)
        return result.rowcount > 0
