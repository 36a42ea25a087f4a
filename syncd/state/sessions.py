"""Sessions of the state database: one transaction each, whose statements run to their
end even when the task that sent them is cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager, nullcontext
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import Result, Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from syncd.errors import StateError
from syncd.state.database import Database

_T = TypeVar("_T")


class StoreSessions:
    """The database, and a session of its own for each read (or write outside a
    transaction) of the :class:`~syncd.state.store.StateStore`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._writing: ContextVar[bool] = ContextVar(f"syncd_state_writing_{id(self)}")

    @asynccontextmanager
    async def _session(self, what: str, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on a clean exit, rolled back otherwise."""
        if write and self._writing.get(False):
            raise StateError(f"{what}: this task already has a transaction open; finish it first")
        token = self._writing.set(True) if write else None
        turns = self._db.turns if write else None
        try:
            bind = self._db.writer if write else self._db.engine
            async with turns.turn(what) if turns else nullcontext():
                with self._db.failing_as(what):
                    kind = WriteSession if write else AsyncSession
                    async with kind(bind, expire_on_commit=False) as session:
                        await session.begin()
                        try:
                            yield session
                        except BaseException:
                            await run_to_the_end(session.rollback())
                            raise
                        await run_to_the_end(session.commit())
        finally:
            if token is not None:
                self._writing.reset(token)


class TransactionSession:
    """The session of one open :class:`~syncd.state.store.Transaction`, and the
    statements its writes share."""

    def __init__(self, session: AsyncSession, db: Database) -> None:
        self._session = session
        self._db = db

    @property
    def _dialect(self) -> Any:
        """The module whose ``insert`` speaks this backend's ON CONFLICT."""
        return postgresql if self._db.dialect == "postgresql" else sqlite

    def _upsert(
        self, model: type[Any], values: dict[str, Any], key: list[str], changes: dict[str, Any]
    ) -> Any:
        """INSERT ... ON CONFLICT (key) DO UPDATE SET changes."""
        statement = self._dialect.insert(model).values(**values)
        return statement.on_conflict_do_update(index_elements=key, set_=changes)


async def core_rows(session: AsyncSession, query: Select[Any]) -> Result[Any]:
    """Plain rows of a Core query, in the session's transaction (sqlmodel's ``exec``
    types only its own selects, and its ``execute`` is deprecated)."""
    connection = await session.connection()
    rows: Result[Any] = await connection.execute(query)
    return rows


class WriteSession(AsyncSession):
    """A write transaction's session: a statement, once sent, runs to its end even when
    its task is cancelled meanwhile, and the cancel is raised after it. Cut off half way
    (aiosqlite goes on with it in its thread, SQLAlchemy gives the connection up), it
    left SQLite's writer lock held for good, and every later write of the process waiting
    in vain: a failed cycle cancels its other writes, then records that it failed."""

    async def exec(self, *args: Any, **kwargs: Any) -> Any:
        return await run_to_the_end(super().exec(*args, **kwargs))

    async def flush(self, objects: Sequence[Any] | None = None) -> None:
        await run_to_the_end(super().flush(objects))


async def run_to_the_end(work: Awaitable[_T]) -> _T:
    """``work``'s result; run to its end if the caller is cancelled meanwhile (then the
    cancel is raised)."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # the cancel is what the caller hears of it: not "unretrieved"
        raise
