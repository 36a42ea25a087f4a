"""The write journal: each write recorded before it is sent, and settled after."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlmodel import col, select

from syncd.clock import utc_now
from syncd.errors import StateError
from syncd.records import Value
from syncd.state import convert
from syncd.state.chunks import id_chunks, row_chunks
from syncd.state.rows import JournalAction, JournalEntry, JournalState
from syncd.state.sessions import StoreSessions, TransactionSession
from syncd.state.tables import JournalRow


class JournalReads(StoreSessions):
    """What :class:`~syncd.state.store.StateStore` reads of the journal."""

    async def pending_journal(self, connection: str, entity: str) -> list[JournalEntry]:
        """Writes recorded but not yet settled, oldest first."""
        query = select(JournalRow).where(
            JournalRow.connection == connection,
            JournalRow.entity == entity,
            JournalRow.state == str(JournalState.PENDING),
        )
        async with self._session("cannot read the journal") as session:
            rows = await session.exec(query.order_by(col(JournalRow.id)))
            return [convert.journal(row) for row in rows]

    async def recent_updates(
        self, link_ids: Sequence[int], since: datetime
    ) -> dict[int, list[JournalEntry]]:
        """Confirmed updates of these links since ``since``, oldest first, by link."""
        found: dict[int, list[JournalEntry]] = {}
        wanted = list(dict.fromkeys(link_ids))
        async with self._session("cannot read the journal") as session:
            for chunk in id_chunks(wanted):
                query = select(JournalRow).where(
                    col(JournalRow.link_id).in_(chunk),
                    JournalRow.action == str(JournalAction.UPDATE),
                    JournalRow.state == str(JournalState.DONE),
                    col(JournalRow.created_at) >= since,
                )
                for row in await session.exec(query.order_by(col(JournalRow.id))):
                    entry = convert.journal(row)
                    found.setdefault(entry.link_id or 0, []).append(entry)
        return found


class JournalWrites(TransactionSession):
    """How a :class:`~syncd.state.store.Transaction` settles journal entries; each was
    recorded before, outside any transaction (``StateStore.record_intents``)."""

    async def finish_journal(
        self,
        entry_id: int,
        state: JournalState,
        *,
        target_id: str | None = None,
        link_id: int | None = None,
        altered: Mapping[str, Value] | None = None,
    ) -> None:
        """Settle a journal entry; ``target_id``/``link_id``/``altered`` are set when given.

        ``altered``: fields the side stored differently from what was written.
        """
        values: dict[str, Any] = {"state": str(state), "finished_at": utc_now()}
        if altered:
            values["altered"] = dict(altered)
        if target_id is not None:
            values["target_id"] = target_id
        if link_id is not None:
            values["link_id"] = link_id
        statement = update(JournalRow).where(col(JournalRow.id) == entry_id).values(**values)
        with self._db.failing_as("cannot update the journal"):
            result = await self._session.exec(statement)
        if result.rowcount == 0:
            raise StateError(f"cannot finish journal entry {entry_id}: it does not exist")

    async def finish_journals(self, done: Sequence[tuple[int, str | None, int | None]]) -> None:
        """Mark journal entries done in one statement: (entry id, target id, link id) each,
        the ids set where given (as :meth:`finish_journal` with ``JournalState.DONE``)."""
        if not done:
            return
        table = JournalRow.__table__
        statement = (
            update(table)
            .where(table.c.id == bindparam("done_id"))
            .values(
                state=str(JournalState.DONE),
                finished_at=utc_now(),
                target_id=func.coalesce(bindparam("done_target"), table.c.target_id),
                link_id=func.coalesce(bindparam("done_link"), table.c.link_id),
            )
        )
        rows = [
            {"done_id": entry_id, "done_target": target_id, "done_link": link_id}
            for entry_id, target_id, link_id in done
        ]
        with self._db.failing_as("cannot update the journal"):
            for chunk in row_chunks(rows):
                await self._session.exec(statement, params=chunk)
