"""Journal offsets: per connection, the last entry of HubSpot's Webhooks Journal read.

Saved only after the entry's hints were queued, so a crash in between reads the entry
again (hints are idempotent); forgotten when HubSpot no longer knows the offset.
"""

from __future__ import annotations

from sqlmodel import col, delete

from syncd.clock import utc_now
from syncd.state.sessions import StoreSessions
from syncd.state.tables import JournalOffsetRow


class JournalOffsets(StoreSessions):
    """What :class:`~syncd.state.store.StateStore` reads and writes of journal offsets,
    each in a transaction of its own (an offset goes with no other change)."""

    async def get_journal_offset(self, connection: str) -> str | None:
        async with self._session("cannot read the journal offset") as session:
            row = await session.get(JournalOffsetRow, connection)
            return None if row is None else row.offset

    async def set_journal_offset(self, connection: str, offset: str | None) -> None:
        """Remember ``offset`` for ``connection`` (None forgets it)."""
        async with self._session("cannot save the journal offset", write=True) as session:
            await session.exec(
                delete(JournalOffsetRow).where(col(JournalOffsetRow.connection) == connection)
            )
            if offset is not None:
                session.add(
                    JournalOffsetRow(connection=connection, offset=offset, read_at=utc_now())
                )
