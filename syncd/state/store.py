"""The state store: what syncd remembers between cycles, on SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Result, Select, bindparam, delete, func, insert, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syncd.clock import utc_now
from syncd.errors import DuplicateLinkError, StateError
from syncd.records import Cursor, Side, Value
from syncd.state import convert
from syncd.state.database import Database, connect, upgrade
from syncd.state.rows import (
    Conflict,
    ConflictState,
    JournalAction,
    JournalEntry,
    JournalState,
    Link,
    Quarantined,
    StatusEvent,
)
from syncd.state.tables import (
    ConflictRow,
    CursorRow,
    EventRow,
    JournalRow,
    LinkRow,
    QuarantineRow,
)

ID_CHUNK = 500  # ids per IN (...) query, well below SQLite's and asyncpg's parameter limits
# Rows per INSERT/UPDATE statement of a batch: a statement's bound parameters (and the
# driver's copy of them) are all alive at once, so a first sync's 100,000 links go in
# bounded chunks, still in the caller's one transaction.
ROW_CHUNK = 1000

_T = TypeVar("_T")

OPEN = str(ConflictState.OPEN)
LINKS = LinkRow.__table__  # link writes go through Core: no ORM identity map to keep in step
JOURNAL = JournalRow.__table__  # intents come a batch at a time: one statement each
_INTENT_KEY = (JOURNAL.c.target, JOURNAL.c.target_id, JOURNAL.c.source_id, JOURNAL.c.link_id)
CONFLICTS = ConflictRow.__table__  # a cycle reads a few columns of them, not whole rows
Opened = dict[int, dict[str, tuple[Value, Value]]]  # open conflicts: link, field, (crm, afas)
EVENTS = EventRow.__table__  # likewise events: many per transaction, never read back in it
# What a read of links by connection and entity selects (see convert.scoped_link).
LINK_COLUMNS = (LINKS.c.id, LINKS.c.crm_id, LINKS.c.afas_id, LINKS.c.base, LINKS.c.detached_at)


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


class StateStore:
    """What syncd remembers between cycles: links and their base, cursors, the write journal,
    conflicts, quarantined records and status events, each scoped by connection and entity.

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

    def __init__(self, db: Database) -> None:
        self._db = db
        self._writing: ContextVar[bool] = ContextVar(f"syncd_state_writing_{id(self)}")

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

    @asynccontextmanager
    async def _session(self, what: str, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on a clean exit, rolled back otherwise."""
        if write and self._writing.get(False):
            raise StateError(f"{what}: this task already has a transaction open; finish it first")
        token = self._writing.set(True) if write else None
        try:
            bind = self._db.writer if write else self._db.engine
            with self._db.errors(what):
                kind = _WriteSession if write else AsyncSession
                async with kind(bind, expire_on_commit=False) as session:
                    await session.begin()
                    try:
                        yield session
                    except BaseException:
                        await _to_the_end(session.rollback())
                        raise
                    await _to_the_end(session.commit())
        finally:
            if token is not None:
                self._writing.reset(token)

    # -- reads ------------------------------------------------------------------------------

    async def get_links(self, connection: str, entity: str) -> list[Link]:
        c = LINKS.c
        query = core_select(*LINK_COLUMNS).where(c.connection == connection, c.entity == entity)
        async with self._session("cannot read links") as session:
            rows = await _core_rows(session, query.order_by(c.id))
            return [convert.scoped_link(connection, entity, row) for row in rows]

    async def links_by_ids(
        self, connection: str, entity: str, side: Side, ids: Sequence[str]
    ) -> dict[str, Link]:
        """The links of the given records on ``side``, keyed by that side's id."""
        c = LINKS.c
        column = c.crm_id if side is Side.CRM else c.afas_id
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Link] = {}
        async with self._session("cannot read links") as session:
            for start in range(0, len(wanted), ID_CHUNK):
                chunk = wanted[start : start + ID_CHUNK]
                query = core_select(*LINK_COLUMNS).where(
                    c.connection == connection, c.entity == entity, column.in_(chunk)
                )
                for row in await _core_rows(session, query):
                    link = convert.scoped_link(connection, entity, row)
                    found[link.id_on(side)] = link
        return found

    async def get_link(self, link_id: int) -> Link | None:
        async with self._session("cannot read a link") as session:
            row = await session.get(LinkRow, link_id)
            return None if row is None else convert.link(row)

    async def link_count(self, connection: str, entity: str, *, detached: bool = False) -> int:
        """Active links, or with ``detached`` the tombstones (a partner gone)."""
        query = select(func.count()).where(
            LinkRow.connection == connection,
            LinkRow.entity == entity,
            col(LinkRow.detached_at).is_not(None)
            if detached
            else col(LinkRow.detached_at).is_(None),
        )
        async with self._session("cannot count links") as session:
            return (await session.exec(query)).one()

    async def get_cursor(self, connection: str, entity: str, side: Side) -> Cursor | None:
        async with self._session("cannot read a cursor") as session:
            row = await session.get(CursorRow, (connection, entity, str(side)))
            return None if row is None else convert.cursor(row)

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
            for start in range(0, len(wanted), ID_CHUNK):
                query = select(JournalRow).where(
                    col(JournalRow.link_id).in_(wanted[start : start + ID_CHUNK]),
                    JournalRow.action == str(JournalAction.UPDATE),
                    JournalRow.state == str(JournalState.DONE),
                    col(JournalRow.created_at) >= since,
                )
                for row in await session.exec(query.order_by(col(JournalRow.id))):
                    entry = convert.journal(row)
                    found.setdefault(entry.link_id or 0, []).append(entry)
        return found

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

    async def conflicted_fields(self, connection: str, entity: str) -> Opened:
        """The fields in open conflict, by link, each with the values the CRM and AFAS
        held when it opened: all a cycle needs of them (at 100,000 links a few thousand
        conflicts, read as four columns instead of whole rows)."""
        c = CONFLICTS.c
        query = core_select(c.link_id, c.field, c.crm, c.afas).where(
            c.connection == connection, c.entity == entity, c.state == OPEN
        )
        by_link: Opened = {}
        async with self._session("cannot read conflicts") as session:
            for row in await _core_rows(session, query):
                by_link.setdefault(row.link_id, {})[row.field] = (row.crm, row.afas)
        return by_link

    async def open_conflict_count(self, connection: str, entity: str) -> int:
        """How many conflicts wait for a person (from an index: cheap every cycle)."""
        c = CONFLICTS.c
        query = core_select(func.count()).where(
            c.connection == connection, c.entity == entity, c.state == OPEN
        )
        async with self._session("cannot count conflicts") as session:
            count: int = (await _core_rows(session, query)).scalar_one()
        return count

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

    async def events(
        self,
        connection: str | None = None,
        *,
        after_id: int = 0,
        limit: int = 1000,
        entity: str | None = None,
        record: str | None = None,
        names: Sequence[str] = (),
        since: datetime | None = None,
        newest: bool = False,
    ) -> list[StatusEvent]:
        """Status events with an id above ``after_id``, oldest first, at most ``limit``;
        with ``newest``, the last ``limit`` of them (still oldest first).

        The other arguments narrow the result: one entity, one record id (on either
        side), some event names, events at or after ``since``.
        """
        query = select(EventRow).where(col(EventRow.id) > after_id)
        if connection is not None:
            query = query.where(EventRow.connection == connection)
        if entity is not None:
            query = query.where(EventRow.entity == entity)
        if record is not None:
            query = query.where(EventRow.record == record)
        if names:
            query = query.where(col(EventRow.name).in_(list(names)))
        if since is not None:
            query = query.where(col(EventRow.at) >= since)
        order = col(EventRow.id).desc() if newest else col(EventRow.id)
        async with self._session("cannot read status events") as session:
            rows = [
                convert.event(row) for row in await session.exec(query.order_by(order).limit(limit))
            ]
        return rows[::-1] if newest else rows

    # -- writes -----------------------------------------------------------------------------

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
                for chunk in _chunks(rows, ROW_CHUNK):
                    ids.extend((await session.exec(ordered, params=chunk)).scalars())
            else:
                # One statement a chunk: RETURNING comes in no set order, so each new id
                # is placed by its row's key (a batch writes each record once).
                statement = insert(JOURNAL).returning(JOURNAL.c.id, *_INTENT_KEY)
                by_key: dict[tuple[Any, ...], int] = {}
                for chunk in _chunks(rows, ROW_CHUNK):
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
        tables = (EventRow, QuarantineRow, ConflictRow, JournalRow, CursorRow, LinkRow)
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


class Transaction:
    """The writes of one :meth:`StateStore.transaction`; see there for the contract."""

    def __init__(self, session: AsyncSession, db: Database) -> None:
        self._session = session
        self._db = db
        self._events: list[dict[str, Any]] = []  # inserted together before the commit

    async def save_link(self, link: Link) -> Link:
        """Insert a new link (``id`` None) or update one by id; returns it with its id."""
        with self._db.errors("cannot save a link"):
            if link.id is None:
                return await self._insert_link(link)
            await self._refuse_duplicate(link)
            try:
                return await self._update_link(link)
            except IntegrityError:  # a clash that appeared since the check above
                raise DuplicateLinkError(f"{_describe_link(link)} is already linked") from None

    async def insert_links(self, links: Sequence[Link]) -> list[Link]:
        """Insert new links (``id`` None), :data:`ROW_CHUNK` per statement; returned with
        their ids, in order.

        DuplicateLinkError, as from :meth:`save_link`, if a record of one is linked already.
        """
        saved: list[Link] = []
        for chunk in _chunks(links, ROW_CHUNK):
            saved.extend(await self._insert_links(chunk))
        return saved

    async def _insert_links(self, links: Sequence[Link]) -> list[Link]:
        rows = [
            {"connection": link.connection, "entity": link.entity, **convert.link_values(link)}
            for link in links
        ]
        statement = self._dialect.insert(LINKS).on_conflict_do_nothing()
        statement = statement.returning(LINKS.c.id, LINKS.c.crm_id, LINKS.c.afas_id)
        with self._db.errors("cannot save links"):
            result = await self._session.exec(statement, params=rows)
            ids = {(crm_id, afas_id): new_id for new_id, crm_id, afas_id in result.all()}
            saved = []
            for link in links:
                new_id = ids.get((link.crm_id, link.afas_id))
                if new_id is None:  # a record of it is linked already: say which link has it
                    await self._refuse_duplicate(link)
                    raise DuplicateLinkError(f"{_describe_link(link)} is already linked")
                saved.append(replace(link, id=new_id))
        return saved

    async def save_bases(self, links: Sequence[Link]) -> None:
        """Save saved links whose records stay the same (only their bases moved):
        :data:`ROW_CHUNK` a statement, no clash to look for."""
        for link in links:
            if link.id is None:
                raise StateError(f"cannot save the base of {_describe_link(link)}: it is not saved")
        statement = update(LINKS).where(LINKS.c.id == bindparam("saved_id"))
        statement = statement.values(base=bindparam("saved_base", type_=LINKS.c.base.type))
        with self._db.errors("cannot save a link"):
            for chunk in _chunks(links, ROW_CHUNK):
                # Not every driver counts the rows of a many-row UPDATE (asyncpg does not).
                ids = {link.id for link in chunk if link.id is not None}
                there = select(func.count()).where(col(LinkRow.id).in_(ids))
                if (await self._session.exec(there)).one() != len(ids):
                    raise StateError(f"cannot save the bases of links {sorted(ids)}: not all exist")
                rows = [{"saved_id": link.id, "saved_base": dict(link.base)} for link in chunk]
                await self._session.exec(statement, params=rows)

    async def _insert_link(self, link: Link) -> Link:
        values = {"connection": link.connection, "entity": link.entity}
        statement = self._dialect.insert(LINKS).values(**values, **convert.link_values(link))
        statement = statement.on_conflict_do_nothing().returning(LINKS.c.id)
        new_id = (await self._session.exec(statement)).scalar_one_or_none()
        if new_id is None:  # a record of it is linked already: say which link has it
            await self._refuse_duplicate(link)
            raise DuplicateLinkError(f"{_describe_link(link)} is already linked")
        return replace(link, id=new_id)

    async def _refuse_duplicate(self, link: Link) -> None:
        c = LINKS.c
        query = select(c.id, c.crm_id, c.afas_id).where(
            c.connection == link.connection,
            c.entity == link.entity,
            or_(c.crm_id == link.crm_id, c.afas_id == link.afas_id),
        )
        if link.id is not None:
            query = query.where(c.id != link.id)
        existing = (await self._session.exec(query.limit(1))).first()
        if existing is not None:
            existing_id, crm_id, afas_id = existing
            raise DuplicateLinkError(
                f"{_describe_link(link)} clashes with link {existing_id}"
                f" (crm {crm_id}, afas {afas_id})",
                existing_link_id=existing_id,
            )

    async def _update_link(self, link: Link) -> Link:
        statement = update(LINKS).where(LINKS.c.id == link.id)
        result = await self._session.exec(statement.values(**convert.link_values(link)))
        if result.rowcount == 0:
            raise StateError(f"cannot save link {link.id}: it does not exist")
        return link

    async def delete_link(self, link_id: int) -> None:
        """Forget a link; its conflicts go with it, journal entries keep no reference."""
        with self._db.errors("cannot delete a link"):
            await self._session.exec(delete(LinkRow).where(col(LinkRow.id) == link_id))

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
        with self._db.errors("cannot update the journal"):
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
        with self._db.errors("cannot update the journal"):
            for chunk in _chunks(rows, ROW_CHUNK):
                await self._session.exec(statement, params=chunk)

    async def set_cursor(self, connection: str, entity: str, side: Side, cursor: Cursor) -> None:
        values = {
            "modified": cursor.modified,
            "last_id": cursor.id,
            "seen_at": cursor.seen_at,
            "pulled_at": cursor.pulled_at,
        }
        key = {"connection": connection, "entity": entity, "side": str(side)}
        statement = self._upsert(CursorRow, {**key, **values}, list(key), values)
        with self._db.errors("cannot save a cursor"):
            await self._session.exec(statement)

    async def open_conflict(self, conflict: Conflict) -> bool:
        """Record the open conflict of (link, field), or update its values; True if new."""
        [new] = await self.open_conflicts([conflict])
        return new

    async def open_conflicts(self, conflicts: Sequence[Conflict]) -> list[bool]:
        """:meth:`open_conflict` for many, in a few statements; True for each one new
        (a (link, field) given twice is new the first time, updated the second)."""
        table = ConflictRow.__table__
        with self._db.errors("cannot save a conflict"):
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
            for chunk in _chunks(added, ROW_CHUNK):
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
                for chunk in _chunks(changed, ROW_CHUNK):
                    await self._session.exec(statement, params=chunk)
        return new

    async def _open_conflict_ids(self, link_ids: set[int]) -> dict[tuple[int, str], int]:
        """The open conflicts of these links: (link id, field) -> conflict id."""
        c = ConflictRow.__table__.c
        wanted, found = sorted(link_ids), {}
        for start in range(0, len(wanted), ID_CHUNK):
            query = select(c.id, c.link_id, c.field).where(
                c.link_id.in_(wanted[start : start + ID_CHUNK]), c.state == OPEN
            )
            for conflict_id, link_id, field in await self._session.exec(query):
                found[(link_id, field)] = conflict_id
        return found

    async def close_conflicts(
        self, link_id: int, fields: Iterable[str] | None, resolution: str
    ) -> list[Conflict]:
        """Resolve the link's open conflicts (of ``fields``, or all); returns those closed."""
        if isinstance(fields, str):
            fields = [fields]  # one field name, not its letters
        with self._db.errors("cannot close conflicts"):
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
        with self._db.errors("cannot quarantine a record"):
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
        with self._db.errors("cannot release a record"):
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
        with self._db.errors("cannot reschedule a quarantined record"):
            result = await self._session.exec(statement)
        return result.rowcount > 0

    async def add_event(self, event: StatusEvent) -> None:
        """Append a status event; ``at`` defaults to now (UTC). Inserted with the
        transaction's other events, :data:`ROW_CHUNK` per statement, when that many are
        waiting or at its end (plain rows, no ORM objects: a cycle can add thousands)."""
        self._events.append(convert.event_values(event))
        if len(self._events) >= ROW_CHUNK:
            await self.flush_events()

    async def flush_events(self) -> None:
        """Insert the events added so far, in the order they were added."""
        events, self._events = self._events, []
        with self._db.errors("cannot add status events"):
            for chunk in _chunks(events, ROW_CHUNK):
                await self._session.exec(insert(EVENTS), params=chunk)

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


async def _core_rows(session: AsyncSession, query: Select[Any]) -> Result[Any]:
    """Plain rows of a Core query, in the session's transaction (sqlmodel's ``exec``
    types only its own selects, and its ``execute`` is deprecated)."""
    connection = await session.connection()
    rows: Result[Any] = await connection.execute(query)
    return rows


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _describe_link(link: Link) -> str:
    return f"{link.entity} link crm {link.crm_id} <-> afas {link.afas_id} of {link.connection}"


class _WriteSession(AsyncSession):
    """A write transaction's session: a statement, once sent, runs to its end even when
    its task is cancelled meanwhile, and the cancel is raised after it. Cut off half way
    (aiosqlite goes on with it in its thread, SQLAlchemy gives the connection up), it
    left SQLite's writer lock held for good, and every later write of the process waiting
    in vain: a failed cycle cancels its other writes, then records that it failed."""

    async def exec(self, *args: Any, **kwargs: Any) -> Any:
        return await _to_the_end(super().exec(*args, **kwargs))

    async def flush(self, objects: Sequence[Any] | None = None) -> None:
        await _to_the_end(super().flush(objects))


async def _to_the_end(work: Awaitable[_T]) -> _T:
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


def _intent_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """What tells a batch's journal rows apart: their record (and link)."""
    return tuple(row[column.name] for column in _INTENT_KEY)
