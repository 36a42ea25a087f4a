"""The state store: what syncd remembers between cycles, on SQLite or PostgreSQL.

Each concern keeps its reads and writes in a module of its own (links, cursors, journal,
conflicts, quarantine, status_events, held_plans, lane_polls); :class:`StateStore` and
:class:`Transaction` gather them into the one interface the engine uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from types import TracebackType
from typing import Any

from sqlalchemy import delete, insert
from sqlmodel import col

from syncd.state import convert
from syncd.state.chunks import row_chunks
from syncd.state.conflicts import ConflictReads, ConflictWrites
from syncd.state.cursors import CursorReads, CursorWrites
from syncd.state.database import connect, upgrade
from syncd.state.held_plans import HeldPlanReads, HeldPlanWrites
from syncd.state.journal import JournalReads, JournalWrites
from syncd.state.journal_offsets import JournalOffsets
from syncd.state.lane_polls import LanePollReads, LanePollWrites
from syncd.state.links import LinkReads, LinkWrites
from syncd.state.organisations import OrganisationReads, OrganisationWrites
from syncd.state.quarantine import QuarantineReads, QuarantineWrites
from syncd.state.rows import JournalEntry
from syncd.state.running_work import RunningWorkStore
from syncd.state.status_events import EventReads, EventWrites
from syncd.state.tables import (
    ConflictRow,
    CursorRow,
    EventRow,
    HeldPlanRow,
    JournalRow,
    LanePollRow,
    LinkMarkRow,
    LinkRow,
    OrganisationRow,
    QuarantineRow,
    WaitingRow,
)
from syncd.state.waiting import WaitingReads, WaitingWrites

JOURNAL = JournalRow.__table__  # intents come a batch at a time: one statement each
_INTENT_KEY = (JOURNAL.c.target, JOURNAL.c.target_id, JOURNAL.c.source_id, JOURNAL.c.link_id)


async def open_store(url: str) -> StateStore:
    """Open the state database at ``url`` and migrate it to this version's schema.

    See :mod:`syncd.state.database` for the URLs accepted. Raises :class:`StateError` if the
    database cannot be reached, created or migrated.
    """
    db = await connect(url)
    try:
        await upgrade(db)
    except BaseException:
        await db.dispose()
        raise
    return StateStore(db)


class StateStore(
    LinkReads,
    CursorReads,
    JournalReads,
    ConflictReads,
    QuarantineReads,
    WaitingReads,
    OrganisationReads,
    EventReads,
    JournalOffsets,
    HeldPlanReads,
    LanePollReads,
    RunningWorkStore,
):
    """What syncd remembers between cycles: links and their base, cursors, the write journal,
    conflicts, quarantined records and status events, each scoped by connection and entity;
    and the long work running now in any process.

    The contract, for every backend:

    * Reads return the plain dataclasses of :mod:`syncd.state.rows` (and
      :class:`~syncd.records.Cursor`), never SQL rows; lists come oldest first (by id).
    * Every datetime handed out is timezone-aware UTC; naive datetimes are refused.
    * Writes happen in :meth:`transaction`: all of its changes are kept on a clean exit and
      none on an exception. The one write outside it is :meth:`record_intent`, which is
      committed at once so that a write is on record before it is sent.
    * A link is unique per side: one CRM record and one AFAS record per connection and
      entity. Breaking that raises :class:`~syncd.errors.DuplicateLinkError`.
    * One write at a time per task: while a task has a transaction open, it may read
      through the store but not start another write (:meth:`record_intent` or a nested
      :meth:`transaction`); that raises :class:`~syncd.errors.StateError` at once, where
      SQLite would otherwise wait for the task's own lock.
    * Any failure of the database or its driver raises :class:`~syncd.errors.StateError`;
      messages never contain the database password.
    """

    def __repr__(self) -> str:
        return f"StateStore({self._db.safe_url!r})"

    async def close(self) -> None:
        await self._db.dispose()

    async def __aenter__(self) -> StateStore:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def record_intent(self, entry: JournalEntry) -> JournalEntry:
        """Record a write before it is sent; committed at once. Returns it with id and time."""
        [recorded] = await self.record_intents([entry])
        return recorded

    async def record_intents(self, entries: Sequence[JournalEntry]) -> list[JournalEntry]:
        """Record the writes of one batch in one commit; returned with ids and times."""
        if not entries:
            return []
        rows = [convert.journal_values(entry) for entry in entries]
        keys = [_intent_key(row) for row in rows]
        ids: list[int] = []
        async with self._session("cannot record a write in the journal", write=True) as session:
            if len(set(keys)) < len(keys):
                # Rows alike in their keys: the ids in the order sent, which SQLite gives
                # only a row a statement.
                ordered = insert(JOURNAL).returning(JOURNAL.c.id, sort_by_parameter_order=True)
                for chunk in row_chunks(rows):
                    ids.extend((await session.exec(ordered, params=chunk)).scalars())
            else:
                # One statement a chunk: RETURNING comes in no set order, so each new id
                # is placed by its row's key (a batch writes each record once).
                statement = insert(JOURNAL).returning(JOURNAL.c.id, *_INTENT_KEY)
                by_key: dict[tuple[Any, ...], int] = {}
                for chunk in row_chunks(rows):
                    for new_id, *key in await session.exec(statement, params=chunk):
                        by_key[tuple(key)] = new_id
                ids = [by_key[key] for key in keys]
        return [
            replace(entry, id=new_id, created_at=row["created_at"])
            for entry, row, new_id in zip(entries, rows, ids, strict=True)
        ]

    async def forget(self, connection: str) -> None:
        """Remove everything kept for ``connection`` (its systems were reset, as the
        demo's simulators are at every start)."""
        tables = (
            EventRow,
            HeldPlanRow,
            LanePollRow,
            QuarantineRow,
            WaitingRow,
            LinkMarkRow,
            OrganisationRow,
            ConflictRow,
            JournalRow,
            CursorRow,
            LinkRow,
        )
        async with self._session("cannot forget a connection", write=True) as session:
            for table in tables:
                await session.exec(delete(table).where(col(table.connection) == connection))

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """One database transaction: committed on a clean exit, rolled back on an exception."""
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Transaction]:
        async with self._session("cannot write the state", write=True) as session:
            tx = Transaction(session, self._db)
            yield tx
            await tx.flush_events()


class Transaction(
    LinkWrites,
    CursorWrites,
    JournalWrites,
    ConflictWrites,
    QuarantineWrites,
    WaitingWrites,
    OrganisationWrites,
    EventWrites,
    HeldPlanWrites,
    LanePollWrites,
):
    """The writes of one :meth:`StateStore.transaction`; see there for the contract."""


def _intent_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """What tells a batch's journal rows apart: their record (and link)."""
    return tuple(row[column.name] for column in _INTENT_KEY)
