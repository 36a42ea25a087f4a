"""Lane polls: per lane, its quiet polls (they listed nothing new and did nothing).

A quiet poll writes no status event (issue #24: an idle lane's cycle must stay cheap);
the daemon counts them in memory and adds a batch now and then. One row per lane: the
newest poll's time and how many there were in all, so the status views can tell a lane
that polls quietly from one that stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import case
from sqlmodel import col, select

from syncd.state.chunks import row_chunks
from syncd.state.rows import LanePoll
from syncd.state.sessions import StoreSessions, TransactionSession
from syncd.state.tables import LanePollRow

LANE_POLLS = LanePollRow.__table__
LANE_KEY = ["connection", "entity"]


class LanePollReads(StoreSessions):
    """What :class:`~syncd.state.store.StateStore` reads of lane polls."""

    async def lane_polls(self, connection: str | None = None) -> dict[tuple[str, str], LanePoll]:
        """Each lane's quiet polls in all (of ``connection``, or of every connection), by
        (connection, entity); a lane never polled quietly is not in it."""
        query = select(LanePollRow)
        if connection is not None:
            query = query.where(col(LanePollRow.connection) == connection)
        async with self._session("cannot read lane polls") as session:
            return {
                (row.connection, row.entity): LanePoll(
                    row.connection, row.entity, row.at, row.polls
                )
                for row in await session.exec(query)
            }


class LanePollWrites(TransactionSession):
    """How a :class:`~syncd.state.store.Transaction` adds lane polls."""

    async def record_polls(self, polls: Sequence[LanePoll]) -> None:
        """Add ``polls`` (each a lane's polls since the last write) to what is kept: the
        counts add up, the later time stays. A lane may come more than once."""
        statement = self._dialect.insert(LanePollRow)
        stored, new = LANE_POLLS.c, statement.excluded
        added = {
            "at": case((new.at > stored.at, new.at), else_=stored.at),
            "polls": stored.polls + new.polls,
        }
        # Executed once per row (one statement, many parameter sets): a lane twice in a
        # batch is added twice, where one multi-row INSERT may not touch a row twice.
        upsert = statement.on_conflict_do_update(index_elements=LANE_KEY, set_=added)
        with self._db.failing_as("cannot record lane polls"):
            for chunk in row_chunks([asdict(poll) for poll in polls]):
                await self._session.exec(upsert, params=chunk)
