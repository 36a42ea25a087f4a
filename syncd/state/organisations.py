"""The AFAS organisation each company record (a debtor, a creditor) was last seen at.

A contact in AFAS is at an organisation; which linked company that is follows from the
organisations of the linked debtors and creditors. Kept here, a contact cycle need not ask
AFAS again for every organisation it meets (engine/references/directory.py says when
they are read again).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import and_
from sqlalchemy import select as core_select

from syncd.state import convert
from syncd.state.chunks import id_chunks, row_chunks
from syncd.state.links import LINK_COLUMNS, LINKS
from syncd.state.rows import Link
from syncd.state.sessions import StoreSessions, TransactionSession, core_rows
from syncd.state.tables import OrganisationRow

__all__ = ["OrganisationReads", "OrganisationWrites"]

ORGANISATIONS = OrganisationRow.__table__


def _of_link() -> object:
    """The join condition of a link and its AFAS record's organisation."""
    o, c = ORGANISATIONS.c, LINKS.c
    return and_(o.connection == c.connection, o.entity == c.entity, o.relation_id == c.afas_id)


class OrganisationReads(StoreSessions):
    """What :class:`~syncd.state.store.StateStore` reads of organisations."""

    async def links_at_organisations(
        self, connection: str, entities: Sequence[str], organisations: Sequence[str], newest: int
    ) -> dict[str, list[Link]]:
        """Per organisation among ``organisations``, the active links of ``entities``
        (up to link ``newest``) whose AFAS record was last seen there, oldest first."""
        o, c = ORGANISATIONS.c, LINKS.c
        found: dict[str, list[Link]] = {}
        async with self._session("cannot read organisations") as session:
            for chunk in id_chunks(list(dict.fromkeys(organisations))):
                query = (
                    core_select(*LINK_COLUMNS, c.entity, o.organisation)
                    .join_from(LINKS, ORGANISATIONS, _of_link())  # type: ignore[arg-type]
                    .where(
                        c.connection == connection,
                        c.entity.in_(list(entities)),
                        c.detached_at.is_(None),
                        c.id <= newest,
                        o.organisation.in_(chunk),
                    )
                    .order_by(c.id)
                )
                for row in await core_rows(session, query):
                    link = convert.scoped_link(connection, row.entity, row)
                    found.setdefault(row.organisation, []).append(link)
        return found

    async def organisations_of(
        self, connection: str, entity: str, relation_ids: Sequence[str]
    ) -> dict[str, str | None]:
        """The organisation each of ``relation_ids`` was last seen at (None: at none);
        those never seen are left out."""
        o = ORGANISATIONS.c
        found: dict[str, str | None] = {}
        async with self._session("cannot read organisations") as session:
            for chunk in id_chunks(list(dict.fromkeys(relation_ids))):
                query = core_select(o.relation_id, o.organisation).where(
                    o.connection == connection, o.entity == entity, o.relation_id.in_(chunk)
                )
                found.update(
                    {row.relation_id: row.organisation for row in await core_rows(session, query)}
                )
        return found

    async def links_without_organisation(
        self, connection: str, entities: Sequence[str], newest: int
    ) -> list[Link]:
        """The active links of ``entities`` (up to link ``newest``) whose AFAS record's
        organisation was never seen, oldest first."""
        o, c = ORGANISATIONS.c, LINKS.c
        query = (
            core_select(*LINK_COLUMNS, c.entity)
            .outerjoin_from(LINKS, ORGANISATIONS, _of_link())  # type: ignore[arg-type]
            .where(
                c.connection == connection,
                c.entity.in_(list(entities)),
                c.detached_at.is_(None),
                c.id <= newest,
                o.relation_id.is_(None),
            )
            .order_by(c.id)
        )
        async with self._session("cannot read organisations") as session:
            rows = await core_rows(session, query)
            return [convert.scoped_link(connection, row.entity, row) for row in rows]


class OrganisationWrites(TransactionSession):
    """How a :class:`~syncd.state.store.Transaction` keeps organisations."""

    async def keep_organisations(
        self, connection: str, entity: str, seen: Mapping[str, str | None]
    ) -> None:
        """Each company record of ``entity`` in ``seen`` is at that organisation now."""
        rows = [
            {"connection": connection, "entity": entity, "relation_id": r, "organisation": o}
            for r, o in seen.items()
        ]
        key = ["connection", "entity", "relation_id"]
        for chunk in row_chunks(rows):
            statement = self._dialect.insert(OrganisationRow).values(list(chunk))
            moved = {"organisation": statement.excluded.organisation}
            with self._db.failing_as("cannot keep organisations"):
                await self._session.exec(
                    statement.on_conflict_do_update(index_elements=key, set_=moved)
                )
