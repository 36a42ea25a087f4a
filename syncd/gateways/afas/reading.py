"""Reading relations by listing and by key.

``list_all`` keyset-pages on the key, the next page asked for ahead; ``read`` and
``find_by_correlation`` make one filtered call (``key = a;b;c``) per chunk of values that
fits AFAS's query limit; ``find_by_values`` compares canonical values over a full sweep
(a server-side filter would compare raw, unnormalised text). The debtor and the creditor
of one company share an organisation: ``relations_beside`` finds one from the other, and
``organisations_of`` tells which organisation relations are at (a contact is at an
organisation, not at a debtor).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence

from syncd.gateways.afas.get_connector import GREATER, GetConnector, has_separator
from syncd.gateways.afas.organisations import organisation_number
from syncd.gateways.afas.relations import RelationMapping, Row
from syncd.gateways.http.pages_ahead import read_ahead
from syncd.records import Page, Record

__all__ = ["RelationReader"]


class RelationReader:
    """Lists the entity's relations and reads them by key, correlation key or value."""

    def __init__(self, get: GetConnector, relations: RelationMapping) -> None:
        self._get = get
        self._relations = relations

    async def list_all(self, entity: str) -> AsyncIterator[Page]:
        spec = self._relations.spec(entity)

        def following(rows: list[Row]) -> Awaitable[list[Row]] | None:
            if len(rows) < self._get.page_size:
                return None
            after = [[(spec.id, GREATER, str(rows[-1][spec.id]))]]
            return self._get.rows(entity, after, [spec.id])

        async for rows in read_ahead(self._get.rows(entity, [], [spec.id]), following):
            page = self._relations.convert(entity, rows)
            if page.records or page.rejected:
                yield page

    async def read(self, entity: str, ids: Sequence[str]) -> Page:
        spec = self._relations.spec(entity)
        wanted = list(dict.fromkeys(i for i in ids if i and not has_separator(i)))
        rows = await self._get.rows_where(entity, spec.id, wanted)
        by_id = {str(row[spec.id]): row for row in rows}
        return self._relations.convert(entity, [by_id[i] for i in wanted if i in by_id])

    async def find_by_correlation(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        spec = self._relations.spec(entity)
        wanted = list(dict.fromkeys(k for k in keys if k and not has_separator(k)))
        rows = await self._get.rows_where(entity, spec.correlation, wanted)
        found: dict[str, Record] = {}
        for record in sorted(self._relations.convert(entity, rows).records, key=lambda r: r.id):
            if record.correlation in wanted and record.correlation not in found:
                found[record.correlation] = record
        return found

    async def find_by_values(self, entity: str, field: str, values: Sequence[str]) -> list[Record]:
        self._relations.mapping(entity).field(field)  # an unknown field is the caller's mistake
        wanted = set(values)
        if not wanted:
            return []
        found: list[Record] = []
        async for page in self.list_all(entity):
            found.extend(r for r in page.records if r.fields.get(field) in wanted)
        return found

    async def relations_beside(
        self, entity: str, ids: Sequence[str], sibling: str
    ) -> dict[str, str]:
        """Per relation of ``entity`` among ``ids``, an active relation of ``sibling``
        under the same organisation (the creditor of a debtor's organisation)."""
        spec, other = self._relations.spec(entity), self._relations.spec(sibling)
        rows = await self._get.rows_where(entity, spec.id, [i for i in ids if i])
        field = other.options["organisation"]
        organisation_of = {str(r[spec.id]): str(r.get(spec.options["organisation"])) for r in rows}
        wanted = sorted({o for o in organisation_of.values() if o not in ("", "None")})
        beside = {
            str(row.get(field)): str(row[other.id])
            for row in await self._get.rows_where(sibling, field, wanted)
            if not self._relations.is_blocked(sibling, row)
        }
        return {i: beside[o] for i, o in organisation_of.items() if o in beside}

    async def organisations_of(self, entity: str, ids: Sequence[str]) -> dict[str, str]:
        """The organisation number of each relation of ``entity`` among ``ids`` (blocked
        ones too: a blocked relation is still at its organisation)."""
        spec = self._relations.spec(entity)
        field = spec.options["organisation"]
        wanted = list(dict.fromkeys(i for i in ids if i and not has_separator(i)))
        found: dict[str, str] = {}
        for row in await self._get.rows_where(entity, spec.id, wanted):
            number = organisation_number(row.get(field))
            if number is not None:
                found[str(row[spec.id])] = number
        return found

    async def organisations(self, beside: Mapping[str, tuple[str, str]]) -> dict[str, str]:
        """The organisation number of each relation ``beside`` names, by its key."""
        by_entity: dict[str, list[str]] = {}
        for entity, relation in beside.values():
            by_entity.setdefault(entity, []).append(relation)
        numbers: dict[tuple[str, str], str] = {}
        for entity, relations in by_entity.items():
            spec = self._relations.spec(entity)
            for row in await self._get.rows_where(entity, spec.id, relations):
                number = organisation_number(row.get(spec.options["organisation"]))
                if number is not None:
                    numbers[(entity, str(row[spec.id]))] = number
        return {key: numbers[at] for key, at in beside.items() if at in numbers}
