"""Cursors: per connection, entity and side, the last change a cycle has pulled."""

from __future__ import annotations

from sqlmodel import col, select

from syncd.records import Cursor, Side
from syncd.state import convert
from syncd.state.sessions import StoreSessions, TransactionSession
from syncd.state.tables import CursorRow


class CursorReads(StoreSessions):
    """What :class:`~syncd.state.store.StateStore` reads of cursors."""

    async def get_cursor(self, connection: str, entity: str, side: Side) -> Cursor | None:
        async with self._session("cannot read a cursor") as session:
            row = await session.get(CursorRow, (connection, entity, str(side)))
            return _cursor_of(row)

    async def cursors(self, connection: str, entity: str) -> dict[Side, Cursor | None]:
        """Both sides' cursors in one read (None: that side was never pulled)."""
        query = select(CursorRow).where(
            col(CursorRow.connection) == connection, col(CursorRow.entity) == entity
        )
        async with self._session("cannot read the cursors") as session:
            rows = {row.side: row for row in await session.exec(query)}
        return {side: _cursor_of(rows.get(str(side))) for side in Side}


def _cursor_of(row: CursorRow | None) -> Cursor | None:
    return None if row is None else convert.cursor(row)


class CursorWrites(TransactionSession):
    """How a :class:`~syncd.state.store.Transaction` writes cursors."""

    async def set_cursor(self, connection: str, entity: str, side: Side, cursor: Cursor) -> None:
        values = {
            "modified": cursor.modified,
            "last_id": cursor.id,
            "seen_at": cursor.seen_at,
            "pulled_at": cursor.pulled_at,
        }
        key = {"connection": connection, "entity": entity, "side": str(side)}
        statement = self._upsert(CursorRow, {**key, **values}, list(key), values)
        with self._db.failing_as("cannot save a cursor"):
            await self._session.exec(statement)
