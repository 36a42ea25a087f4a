"""Links: the two records, one per side, that are the same company, and their base."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import bindparam, delete, func, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from syncd.errors import DuplicateLinkError, StateError
from syncd.records import Side
from syncd.state import convert
from syncd.state.chunks import id_chunks, row_chunks
from syncd.state.rows import Link
from syncd.state.sessions import StoreSessions, TransactionSession, core_rows
from syncd.state.tables import LinkRow

LINKS = LinkRow.__table__  # link writes go through Core: no ORM identity map to keep in step
# What a read of links by connection and entity selects (see convert.scoped_link).
LINK_COLUMNS = (
    LINKS.c.id,
    LINKS.c.crm_id,
    LINKS.c.afas_id,
    LINKS.c.base,
    LINKS.c.detached_at,
    LINKS.c.name,
)


class LinkReads(StoreSessions):
    """What :class:`~syncd.state.store.StateStore` reads of links."""

    async def get_links(self, connection: str, entity: str) -> list[Link]:
        c = LINKS.c
        query = core_select(*LINK_COLUMNS).where(c.connection == connection, c.entity == entity)
        async with self._session("cannot read links") as session:
            rows = await core_rows(session, query.order_by(c.id))
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
            for chunk in id_chunks(wanted):
                query = core_select(*LINK_COLUMNS).where(
                    c.connection == connection, c.entity == entity, column.in_(chunk)
                )
                for row in await core_rows(session, query):
                    link = convert.scoped_link(connection, entity, row)
                    found[link.id_on(side)] = link
        return found

    async def get_link(self, link_id: int) -> Link | None:
        async with self._session("cannot read a link") as session:
            row = await session.get(LinkRow, link_id)
            return None if row is None else convert.link(row)

    async def links_by_link_ids(self, link_ids: Sequence[int]) -> dict[int, Link]:
        """The links of these ids (those that exist), keyed by id."""
        wanted = list(dict.fromkeys(link_ids))
        found: dict[int, Link] = {}
        async with self._session("cannot read links") as session:
            for chunk in id_chunks(wanted):
                query = select(LinkRow).where(col(LinkRow.id).in_(chunk))
                for row in await session.exec(query):
                    found[row.id or 0] = convert.link(row)
        return found

    async def find_links(
        self, connection: str, entities: Sequence[str], wanted: str, *, limit: int = 50
    ) -> list[Link]:
        """Links whose CRM id or AFAS number is ``wanted``, or whose name contains it
        (any case), of ``entities``; exact ids first, then by name, at most ``limit``."""
        c = LINKS.c
        text = wanted.strip()
        by_id = or_(c.crm_id == text, c.afas_id == text)
        by_name = func.lower(c.name).contains(text.lower(), autoescape=True)
        query = (
            core_select(*LINK_COLUMNS, c.entity)
            .where(c.connection == connection, c.entity.in_(list(entities)))
            .where(or_(by_id, by_name) if text else by_id)
            .order_by(by_id.desc(), c.name, c.id)
            .limit(limit)
        )
        async with self._session("cannot search links") as session:
            rows = await core_rows(session, query)
            return [convert.scoped_link(connection, row.entity, row) for row in rows]

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


class LinkWrites(TransactionSession):
    """How a :class:`~syncd.state.store.Transaction` writes links."""

    async def save_link(self, link: Link) -> Link:
        """Insert a new link (``id`` None) or update one by id; returns it with its id."""
        with self._db.failing_as("cannot save a link"):
            if link.id is None:
                return await self._insert_link(link)
            await self._refuse_duplicate(link)
            try:
                return await self._update_link(link)
            except IntegrityError:  # a clash that appeared since the check above
                raise DuplicateLinkError(f"{_describe_link(link)} is already linked") from None

    async def insert_links(self, links: Sequence[Link]) -> list[Link]:
        """Insert new links (``id`` None), :data:`~syncd.state.chunks.ROW_CHUNK` per
        statement; returned with their ids, in order.

        DuplicateLinkError, as from :meth:`save_link`, if a record of one is linked already.
        """
        saved: list[Link] = []
        for chunk in row_chunks(links):
            saved.extend(await self._insert_links(chunk))
        return saved

    async def _insert_links(self, links: Sequence[Link]) -> list[Link]:
        rows = [
            {"connection": link.connection, "entity": link.entity, **convert.link_values(link)}
            for link in links
        ]
        statement = self._dialect.insert(LINKS).on_conflict_do_nothing()
        statement = statement.returning(LINKS.c.id, LINKS.c.crm_id, LINKS.c.afas_id)
        with self._db.failing_as("cannot save links"):
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
        :data:`~syncd.state.chunks.ROW_CHUNK` a statement, no clash to look for."""
        for link in links:
            if link.id is None:
                raise StateError(f"cannot save the base of {_describe_link(link)}: it is not saved")
        statement = update(LINKS).where(LINKS.c.id == bindparam("saved_id"))
        statement = statement.values(base=bindparam("saved_base", type_=LINKS.c.base.type))
        with self._db.failing_as("cannot save a link"):
            for chunk in row_chunks(links):
                # Not every driver counts the rows of a many-row UPDATE (asyncpg does not).
                ids = {link.id for link in chunk if link.id is not None}
                there = select(func.count()).where(col(LinkRow.id).in_(ids))
                if (await self._session.exec(there)).one() != len(ids):
                    raise StateError(f"cannot save the bases of links {sorted(ids)}: not all exist")
                rows = [{"saved_id": link.id, "saved_base": dict(link.base)} for link in chunk]
                await self._session.exec(statement, params=rows)

    async def save_names(self, links: Sequence[Link]) -> None:
        """Save what saved links' records are called (only their ``name``),
        :data:`~syncd.state.chunks.ROW_CHUNK` a statement."""
        statement = update(LINKS).where(LINKS.c.id == bindparam("named_id"))
        statement = statement.values(name=bindparam("new_name"))
        rows = [{"named_id": link.id, "new_name": link.name} for link in links if link.id]
        with self._db.failing_as("cannot save the names of links"):
            for chunk in row_chunks(rows):
                await self._session.exec(statement, params=chunk)

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
        with self._db.failing_as("cannot delete a link"):
            await self._session.exec(delete(LinkRow).where(col(LinkRow.id) == link_id))


def _describe_link(link: Link) -> str:
    return f"{link.entity} link crm {link.crm_id} <-> afas {link.afas_id} of {link.connection}"
