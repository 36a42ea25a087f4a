"""Records that wait for their company to be linked first, and the mark of the newest
company link a waiting entity has looked at (links after it may free some)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import delete, func
from sqlmodel import col, select

from syncd.clock import utc_now
from syncd.records import Side
from syncd.state import convert
from syncd.state.chunks import id_chunks, row_chunks
from syncd.state.links import LINK_COLUMNS, LINKS
from syncd.state.rows import Link, Waiting
from syncd.state.sessions import StoreSessions, TransactionSession, core_rows
from syncd.state.tables import LinkMarkRow, WaitingRow

__all__ = ["WaitingReads", "WaitingWrites"]


class WaitingReads(StoreSessions):
    """What :class:`~syncd.state.store.StateStore` reads of waiting records."""

    async def waiting(self, connection: str, entity: str) -> list[Waiting]:
        query = select(WaitingRow).where(
            WaitingRow.connection == connection, WaitingRow.entity == entity
        )
        async with self._session("cannot read the waiting records") as session:
            rows = await session.exec(query.order_by(col(WaitingRow.id)))
            return [convert.waiting(row) for row in rows]

    async def waiting_reasons(self, connection: str, entity: str) -> Counter[str]:
        """How many records wait, by reason."""
        query = (
            select(WaitingRow.reason, func.count())
            .where(WaitingRow.connection == connection, WaitingRow.entity == entity)
            .group_by(col(WaitingRow.reason))
        )
        async with self._session("cannot count the waiting records") as session:
            return Counter({reason: count for reason, count in await session.exec(query)})

    async def link_mark(self, connection: str, entity: str) -> int | None:
        """The newest company link ``entity`` has looked at; None before its first cycle."""
        query = select(LinkMarkRow.last_link_id).where(
            LinkMarkRow.connection == connection, LinkMarkRow.entity == entity
        )
        async with self._session("cannot read a link mark") as session:
            return (await session.exec(query)).first()

    async def newest_link_id(self, connection: str, entities: Sequence[str]) -> int:
        """The id of the newest link of ``entities`` (0 if there is none)."""
        c = LINKS.c
        query = (
            LINKS.select()
            .with_only_columns(func.max(c.id))
            .where(c.connection == connection, c.entity.in_(list(entities)))
        )
        async with self._session("cannot read links") as session:
            newest = (await core_rows(session, query)).scalar()
            return int(newest or 0)

    async def links_after(self, connection: str, entities: Sequence[str], after: int) -> list[Link]:
        """The active links of ``entities`` newer than link ``after``, oldest first."""
        c = LINKS.c
        query = (
            LINKS.select()
            .with_only_columns(*LINK_COLUMNS, c.entity)
            .where(
                c.connection == connection,
                c.entity.in_(list(entities)),
                c.id > after,
                c.detached_at.is_(None),
            )
            .order_by(c.id)
        )
        async with self._session("cannot read links") as session:
            rows = await core_rows(session, query)
            return [convert.scoped_link(connection, row.entity, row) for row in rows]


class WaitingWrites(TransactionSession):
    """How a :class:`~syncd.state.store.Transaction` writes waiting records."""

    async def hold_waiting(self, entries: Sequence[Waiting]) -> None:
        """Keep ``entries`` waiting (a record already waiting keeps its ``since``)."""
        rows = [
            {
                "connection": entry.connection,
                "entity": entry.entity,
                "side": str(entry.side),
                "record_id": entry.record_id,
                "company": entry.company,
                "reason": entry.reason,
                "since": entry.since or utc_now(),
            }
            for entry in entries
        ]
        key = ["connection", "entity", "side", "record_id"]
        for chunk in row_chunks(rows):  # a sweep may find thousands: a statement a chunk
            statement = self._dialect.insert(WaitingRow).values(list(chunk))
            kept = {"company": statement.excluded.company, "reason": statement.excluded.reason}
            with self._db.failing_as("cannot keep records waiting"):
                await self._session.exec(
                    statement.on_conflict_do_update(index_elements=key, set_=kept)
                )

    async def stop_waiting(
        self, connection: str, entity: str, side: Side, record_ids: Sequence[str]
    ) -> None:
        """``record_ids`` no longer wait (their company is linked, or they are gone)."""
        for chunk in id_chunks(list(record_ids)):
            statement = delete(WaitingRow).where(
                col(WaitingRow.connection) == connection,
                col(WaitingRow.entity) == entity,
                col(WaitingRow.side) == str(side),
                col(WaitingRow.record_id).in_(chunk),
            )
            with self._db.failing_as("cannot release waiting records"):
                await self._session.exec(statement)

    async def forget_waiting(self, connection: str, entity: str) -> None:
        """No record of ``entity`` waits any more (a full sweep lists them all again)."""
        statement = delete(WaitingRow).where(
            col(WaitingRow.connection) == connection, col(WaitingRow.entity) == entity
        )
        with self._db.failing_as("cannot release waiting records"):
            await self._session.exec(statement)

    async def set_link_mark(self, connection: str, entity: str, last_link_id: int) -> None:
        values = {"connection": connection, "entity": entity, "last_link_id": last_link_id}
        statement = self._upsert(
            LinkMarkRow, values, ["connection", "entity"], {"last_link_id": last_link_id}
        )
        with self._db.failing_as("cannot save a link mark"):
            await self._session.exec(statement)
