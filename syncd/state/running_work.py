"""Running work: the long listings under way in any process sharing this store.

A process tells how far each of its whole listings (and match plans) has come, a write
now and then in a transaction of its own; any process's status page reads them. A row
whose process stopped telling (it died) goes stale: it is not read, and the next listing
to begin removes it.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, delete, select

from syncd.records import Side
from syncd.state.rows import RunningWork, WorkKind
from syncd.state.sessions import StoreSessions
from syncd.state.tables import RunningWorkRow


class RunningWorkStore(StoreSessions):
    """What :class:`~syncd.state.store.StateStore` reads and writes of running work, each
    write in a transaction of its own (it goes with no other change)."""

    async def tell_work(self, work: RunningWork) -> None:
        """Keep ``work`` as it is now (added, or replacing what it told before)."""
        async with self._session("cannot save running work", write=True) as session:
            row = _values(work)
            insert = (postgresql if self._db.dialect == "postgresql" else sqlite).insert
            changes = {name: row[name] for name in ("listed", "expected", "heard")}
            upsert = insert(RunningWorkRow).values(**row)
            await session.exec(upsert.on_conflict_do_update(index_elements=["key"], set_=changes))

    async def end_work(self, key: str) -> None:
        async with self._session("cannot remove running work", write=True) as session:
            await session.exec(delete(RunningWorkRow).where(col(RunningWorkRow.key) == key))

    async def forget_stale_work(self, heard_before: datetime) -> None:
        """Remove the work not heard of since ``heard_before``: its process is gone."""
        async with self._session("cannot remove stale running work", write=True) as session:
            stale = col(RunningWorkRow.heard) < heard_before
            await session.exec(delete(RunningWorkRow).where(stale))

    async def running_work(self, heard_since: datetime) -> list[RunningWork]:
        """The work heard of at or after ``heard_since``, in the order it began (then by
        lane and side)."""
        query = (
            select(RunningWorkRow)
            .where(col(RunningWorkRow.heard) >= heard_since)
            .order_by(
                col(RunningWorkRow.started),
                col(RunningWorkRow.lane),
                col(RunningWorkRow.side),
                col(RunningWorkRow.key),
            )
        )
        async with self._session("cannot read running work") as session:
            return [_work(row) for row in await session.exec(query)]


def _values(work: RunningWork) -> dict[str, Any]:
    return {**asdict(work), "side": str(work.side), "kind": str(work.kind)}


def _work(row: RunningWorkRow) -> RunningWork:
    values = row.model_dump()
    return RunningWork(**{**values, "side": Side(row.side), "kind": WorkKind(row.kind)})
