"""Conflicts: fields changed on both sides to different values, open until settled."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import bindparam, func, insert, update
from sqlalchemy import select as core_select
from sqlmodel import col, select

from syncd.clock import utc_now
from syncd.records import Value
from syncd.state import convert
from syncd.state.chunks import id_chunks, row_chunks
from syncd.state.rows import Conflict, ConflictState
from syncd.state.sessions import StoreSessions, TransactionSession, core_rows
from syncd.state.tables import ConflictRow

OPEN = str(ConflictState.OPEN)
CONFLICTS = ConflictRow.__table__  # a cycle reads a few columns of them, not whole rows
OpenConflicts = dict[int, dict[str, tuple[Value, Value]]]  # link, field, (crm, afas)


class ConflictReads(StoreSessions):
    """What :class:`~syncd.state.store.StateStore` reads of conflicts."""

    async def conflicts(
        self,
        connection: str | None = None,
        entity: str | None = None,
        state: ConflictState | None = ConflictState.OPEN,
    ) -> list[Conflict]:
        """Conflicts, oldest first; ``None`` for an argument means "any"."""
        query = select(ConflictRow)
        if connection is not None:
            query = query.where(ConflictRow.connection == connection)
        if entity is not None:
            query = query.where(ConflictRow.entity == entity)
        if state is not None:
            query = query.where(ConflictRow.state == str(state))
        async with self._session("cannot read conflicts") as session:
            rows = await session.exec(query.order_by(col(ConflictRow.id)))
            return [convert.conflict(row) for row in rows]

    async def conflicted_fields(self, connection: str, entity: str) -> OpenConflicts:
        """The fields in open conflict, by link, each with the values the CRM and AFAS
        held when it opened: all a cycle needs of them, read as four columns instead of
        whole rows."""
        c = CONFLICTS.c
        query = core_select(c.link_id, c.field, c.crm, c.afas).where(
            c.connection == connection, c.entity == entity, c.state == OPEN
        )
        by_link: OpenConflicts = {}
        async with self._session("cannot read conflicts") as session:
            for row in await core_rows(session, query):
                by_link.setdefault(row.link_id, {})[row.field] = (row.crm, row.afas)
        return by_link

    async def open_conflict_count(self, connection: str, entity: str) -> int:
        """How many conflicts wait for a person (from an index: cheap every cycle)."""
        c = CONFLICTS.c
        query = core_select(func.count()).where(
            c.connection == connection, c.entity == entity, c.state == OPEN
        )
        async with self._session("cannot count conflicts") as session:
            count: int = (await core_rows(session, query)).scalar_one()
        return count


class ConflictWrites(TransactionSession):
    """How a :class:`~syncd.state.store.Transaction` writes conflicts."""

    async def open_conflict(self, conflict: Conflict) -> bool:
        """Record the open conflict of (link, field), or update its values; True if new."""
        [new] = await self.open_conflicts([conflict])
        return new

    async def open_conflicts(self, conflicts: Sequence[Conflict]) -> list[bool]:
        """:meth:`open_conflict` for many, in a few statements; True for each one new
        (a (link, field) given twice is new the first time, updated the second)."""
        table = ConflictRow.__table__
        with self._db.failing_as("cannot save a conflict"):
            existing = await self._open_conflict_ids({c.link_id for c in conflicts})
            latest: dict[tuple[int, str], Conflict] = {}
            new = []
            for conflict in conflicts:
                key = (conflict.link_id, conflict.field)
                new.append(key not in existing and key not in latest)
                latest[key] = conflict
            added = [convert.conflict_values(c) for k, c in latest.items() if k not in existing]
            changed = [
                {"open_id": existing[k], "new_base": c.base, "new_crm": c.crm, "new_afas": c.afas}
                for k, c in latest.items()
                if k in existing
            ]
            for chunk in row_chunks(added):
                await self._session.exec(insert(table), params=chunk)
            if changed:
                statement = (
                    update(table)
                    .where(table.c.id == bindparam("open_id"))
                    .values(
                        base=bindparam("new_base"),
                        crm=bindparam("new_crm"),
                        afas=bindparam("new_afas"),
                    )
                )
                for chunk in row_chunks(changed):
                    await self._session.exec(statement, params=chunk)
        return new

    async def _open_conflict_ids(self, link_ids: set[int]) -> dict[tuple[int, str], int]:
        """The open conflicts of these links: (link id, field) -> conflict id."""
        c = ConflictRow.__table__.c
        wanted, found = sorted(link_ids), {}
        for chunk in id_chunks(wanted):
            query = select(c.id, c.link_id, c.field).where(c.link_id.in_(chunk), c.state == OPEN)
            for conflict_id, link_id, field in await self._session.exec(query):
                found[(link_id, field)] = conflict_id
        return found

    async def close_conflicts(
        self, link_id: int, fields: Iterable[str] | None, resolution: str
    ) -> list[Conflict]:
        """Resolve the link's open conflicts (of ``fields``, or all); returns those closed."""
        if isinstance(fields, str):
            fields = [fields]  # one field name, not its letters
        with self._db.failing_as("cannot close conflicts"):
            rows = await self._open_conflicts(link_id, None if fields is None else list(fields))
            now = utc_now()
            for row in rows:
                row.sqlmodel_update(
                    {
                        "state": str(ConflictState.RESOLVED),
                        "resolution": resolution,
                        "resolved_at": now,
                    }
                )
            await self._session.flush()
        return [convert.conflict(row) for row in rows]

    async def _open_conflicts(self, link_id: int, fields: list[str] | None) -> list[ConflictRow]:
        query = select(ConflictRow).where(ConflictRow.link_id == link_id, ConflictRow.state == OPEN)
        if fields is not None:
            query = query.where(col(ConflictRow.field).in_(fields))
        query = query.order_by(col(ConflictRow.id)).execution_options(populate_existing=True)
        return list(await self._session.exec(query))
