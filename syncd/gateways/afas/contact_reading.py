"""Reading contacts (persons at an organisation) by id, and following a person who moved.

A contact's id (``CdId``) is a number: an id that is none is simply absent, never put in
a filter (Profit refuses a number field compared with text). A person who moved to
another organisation has their old contact blocked and a new one there (see
:mod:`~syncd.gateways.afas.contacts`): ``read`` reports a blocked contact whose person
has exactly one active contact in ``Page.moved`` (old id -> that one), that one among
the records. With several active contacts, or none, it cannot tell where the person
went, and the old id is simply absent, as a blocked contact is.
"""

from __future__ import annotations

from collections.abc import Sequence

from syncd.errors import PermanentError
from syncd.gateways.afas.get_connector import EQUAL, GetConnector
from syncd.gateways.afas.relations import RelationMapping, Row
from syncd.records import Page

__all__ = ["ContactReader"]


class ContactReader:
    """Reads contacts by id and by person, active ones apart from blocked ones."""

    def __init__(self, get: GetConnector, relations: RelationMapping) -> None:
        self._get = get
        self._relations = relations

    async def read(self, entity: str, ids: Sequence[str]) -> Page:
        spec = self._relations.spec(entity)
        wanted = list(dict.fromkeys(i for i in ids if i.isdigit()))
        by_id = {str(r[spec.id]): r for r in await self._get.rows_where(entity, spec.id, wanted)}
        rows = [by_id[i] for i in wanted if i in by_id]
        ended = [r for r in rows if self._relations.is_blocked(entity, r)]
        moved, survivors = await self._moved(entity, ended)
        shown = {str(r[spec.id]) for r in rows}
        page = self._relations.convert(
            entity, rows + [r for r in survivors if str(r[spec.id]) not in shown]
        )
        page.moved.update(moved)
        return page

    async def moved_here(self, entity: str, ids: Sequence[str]) -> dict[str, str]:
        """For contacts among ``ids`` that are their person's only active contact, the
        blocked contact of that person they replaced (the latest changed one): old -> new.

        A person who moved is a new contact to a listing of changes, and the blocked one
        it replaced is not listed at all (inactive): this is how the move is told."""
        spec = self._relations.spec(entity)
        field = person_field(self._relations, entity)
        wanted = list(dict.fromkeys(i for i in ids if i.isdigit()))
        person_of = {
            str(r[spec.id]): str(r[field])
            for r in await self._get.rows_where(entity, spec.id, wanted)
            if r.get(field) is not None and not self._relations.is_blocked(entity, r)
        }
        if not person_of:
            return {}
        active: dict[str, list[Row]] = {}
        ended: dict[str, list[Row]] = {}
        for row in await self.of_persons(entity, sorted(set(person_of.values()))):
            shelf = ended if self._relations.is_blocked(entity, row) else active
            shelf.setdefault(str(row.get(field)), []).append(row)
        found: dict[str, str] = {}
        for new_id, person in person_of.items():
            if len(active.get(person, [])) != 1 or not ended.get(person):
                continue
            latest = max(ended[person], key=lambda r: str(r.get(spec.modified) or ""))
            found[str(latest[spec.id])] = new_id
        return found

    async def rows(self, entity: str, record_ids: Sequence[str]) -> dict[str, Row]:
        """The rows of the contacts among ``record_ids`` that exist, blocked or not, by id
        (read together: a request per chunk of ids, not one a contact)."""
        spec = self._relations.spec(entity)
        wanted = [i for i in dict.fromkeys(record_ids) if i.isdigit()]
        found = await self._get.rows_where(entity, spec.id, wanted) if wanted else []
        return {str(r[spec.id]): r for r in found if str(r[spec.id]) in wanted}

    async def of_persons(self, entity: str, persons: Sequence[str]) -> list[Row]:
        """Every contact (blocked ones too) of the given persons."""
        return await self._get.rows_where(entity, person_field(self._relations, entity), persons)

    async def at(self, entity: str, organisation: str, person: str) -> Row | None:
        """The person's contact at the organisation (an active one first), if any."""
        spec = self._relations.spec(entity)
        terms = [
            (spec.options["organisation"], EQUAL, organisation),
            (person_field(self._relations, entity), EQUAL, person),
        ]
        found = await self._get.rows(entity, [terms], [spec.id])
        return min(found, key=lambda r: self._relations.is_blocked(entity, r), default=None)

    async def _moved(self, entity: str, ended: Sequence[Row]) -> tuple[dict[str, str], list[Row]]:
        """Per blocked contact whose person has exactly one active contact: that one's id;
        and those contacts' rows."""
        spec = self._relations.spec(entity)
        field = person_field(self._relations, entity)
        person_of = {str(r[spec.id]): str(r[field]) for r in ended if r.get(field) is not None}
        if not person_of:
            return {}, []
        active: dict[str, list[Row]] = {}
        for row in await self.of_persons(entity, sorted(set(person_of.values()))):
            if not self._relations.is_blocked(entity, row):
                active.setdefault(str(row.get(field)), []).append(row)
        only = {person: rows[0] for person, rows in active.items() if len(rows) == 1}
        moved = {old: str(only[p][spec.id]) for old, p in person_of.items() if p in only}
        return moved, list(only.values())


def person_field(relations: RelationMapping, entity: str) -> str:
    """The GetConnector field with the contact's person number (the mapping's ``person``)."""
    field = relations.spec(entity).options.get("person")
    if not field:
        raise PermanentError(
            f"the {entity} mapping's [afas] names no person field: contacts need it "
            '(person = "PersonId")'
        )
    return field
