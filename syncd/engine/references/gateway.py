"""A side's gateway as a cycle of a contact entity sees it: companies in CRM ids.

The stages compare and copy canonical values; a contact's company must mean the same
company on both sides for that to work (directory.py). :class:`ReferencingGateway` wraps
a side's gateway for one cycle and translates the reference field on the way in (AFAS
organisation -> CRM company id) and on the way out (the CRM company id -> the AFAS
organisation linked to it). A write naming a company that is not linked is never sent:
the stages hold a pair whose record moved to one before planning it, and again after the
fresh read before write (waits.py); should a write name one all the same, it is refused
as a :class:`RecordError` (quarantined with the reason, retried later).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from syncd.engine.references.directory import (
    UNLINKED_PREFIX,
    CompanyDirectory,
    company_words,
    unlinked_organisation,
)
from syncd.errors import RecordError
from syncd.gateways.base import (
    BatchGateway,
    BatchOutcome,
    CountingGateway,
    Gateway,
    MovingGateway,
)
from syncd.records import Page, Record, Side, Value

__all__ = ["ReferencingGateway"]

_Item = TypeVar("_Item")
_THE_SIDES_OWN = frozenset({"requests_sent", "visibility_lag", "outcome_window", "status"})


class ReferencingGateway:
    """``inner`` with the company of ``entity``'s records in canonical CRM ids."""

    def __init__(
        self, inner: Gateway, entity: str, field: str, directory: CompanyDirectory
    ) -> None:
        self._inner = inner
        self._entity = entity
        self._field = field
        self._directory = directory

    def __getattr__(self, name: str) -> Any:
        # What tells of the side itself is the side's own. Nothing else passes through:
        # a protocol the stages test for (roles, shared organisations) would bypass the
        # translation, and contacts need neither.
        if name in _THE_SIDES_OWN:
            return getattr(self._inner, name)
        raise AttributeError(name)

    @property
    def side(self) -> Side:
        return self._inner.side

    # -- reading ------------------------------------------------------------------------

    async def changed_since(self, entity: str, since: Any) -> AsyncIterator[Page]:
        async for page in self._inner.changed_since(entity, since):
            yield await self._page_in(entity, page)

    async def list_all(self, entity: str) -> AsyncIterator[Page]:
        async for page in self._inner.list_all(entity):
            yield await self._page_in(entity, page)

    async def count_all(self, entity: str) -> int | None:
        """The side's own count, if it can tell one."""
        if not isinstance(self._inner, CountingGateway):
            return None
        return await self._inner.count_all(entity)

    async def read(self, entity: str, ids: Sequence[str]) -> Page:
        return await self._page_in(entity, await self._inner.read(entity, ids))

    async def find_by_correlation(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        found = await self._inner.find_by_correlation(entity, keys)
        records = await self._records_in(entity, list(found.values()))
        return dict(zip(found, records, strict=True))

    async def find_by_values(self, entity: str, field: str, values: Sequence[str]) -> list[Record]:
        if entity == self._entity and field == self._field:
            natives = await self._natives(values)
            values = [n for v in values if (n := natives.get(v)) is not None]
        return await self._records_in(
            entity, await self._inner.find_by_values(entity, field, values)
        )

    async def moved_here(self, entity: str, ids: Sequence[str]) -> dict[str, str]:
        """The side's own answer (ids need no translation); none where it has none."""
        if not isinstance(self._inner, MovingGateway):
            return {}
        return await self._inner.moved_here(entity, ids)

    # -- writing ------------------------------------------------------------------------

    async def create(self, entity: str, fields: Mapping[str, Value], correlation: str) -> Record:
        native = await self._fields_out(entity, fields)
        return await self._record_in(entity, await self._inner.create(entity, native, correlation))

    async def update(
        self,
        entity: str,
        record_id: str,
        fields: Mapping[str, Value],
        correlation: str | None = None,
    ) -> Record:
        native = await self._fields_out(entity, fields)
        record = await self._inner.update(entity, record_id, native, correlation)
        return await self._record_in(entity, record)

    async def create_batch(
        self, entity: str, items: Sequence[tuple[Mapping[str, Value], str]]
    ) -> list[BatchOutcome]:
        return await self._batch_out(
            entity,
            items,
            lambda item: item[0],
            lambda item, native: (native, item[1]),
            self._batch(self._inner).create_batch,
        )

    async def update_batch(
        self, entity: str, items: Sequence[tuple[str, Mapping[str, Value], str | None]]
    ) -> list[BatchOutcome]:
        return await self._batch_out(
            entity,
            items,
            lambda item: item[1],
            lambda item, native: (item[0], native, item[2]),
            self._batch(self._inner).update_batch,
        )

    async def deactivate(self, entity: str, record_id: str) -> None:
        await self._inner.deactivate(entity, record_id)

    async def aclose(self) -> None:
        await self._inner.aclose()

    # -- translating --------------------------------------------------------------------

    async def _page_in(self, entity: str, page: Page) -> Page:
        if entity != self._entity or not page.records:
            return page
        return dataclasses.replace(page, records=await self._records_in(entity, page.records))

    async def _record_in(self, entity: str, record: Record) -> Record:
        [translated] = await self._records_in(entity, [record])
        return translated

    async def _records_in(self, entity: str, records: list[Record]) -> list[Record]:
        if entity != self._entity or self.side is Side.CRM or not records:
            return records
        organisations = [v for r in records if (v := r.fields.get(self._field)) is not None]
        crm = await self._directory.crm_of_organisations(organisations)
        return [self._with_company(r, crm) for r in records]

    def _with_company(self, record: Record, crm: Mapping[str, str]) -> Record:
        organisation = record.fields.get(self._field)
        if organisation is None:
            return record
        company = crm.get(organisation) or unlinked_organisation(organisation)
        fields = {**record.fields, self._field: company}
        return dataclasses.replace(record, fields=fields)

    async def _fields_out(self, entity: str, fields: Mapping[str, Value]) -> Mapping[str, Value]:
        company = fields.get(self._field)
        if entity != self._entity or company is None:
            return fields
        natives = await self._natives([company])
        if company not in natives:
            raise RecordError(
                f"its company ({company_words(company)}) is not linked as a customer or "
                "supplier; the contact waits until its company syncs",
                field=self._field,
            )
        return {**fields, self._field: natives[company]}

    async def _natives(self, companies: Sequence[str]) -> dict[str, str]:
        """This side's id of each of ``companies`` that is linked."""
        if self.side is Side.CRM:
            return {c: c for c in await self._directory.linked_crm(companies)}
        own = {
            c: c.removeprefix(UNLINKED_PREFIX) for c in companies if c.startswith(UNLINKED_PREFIX)
        }
        return {
            **own,
            **await self._directory.organisations_of_crm(c for c in companies if c not in own),
        }

    async def _batch_out(
        self,
        entity: str,
        items: Sequence[_Item],
        fields_of: Callable[[_Item], Mapping[str, Value]],
        with_fields: Callable[[_Item, Mapping[str, Value]], _Item],
        send: Callable[[str, Sequence[_Item]], Awaitable[list[BatchOutcome]]],
    ) -> list[BatchOutcome]:
        """``items`` translated and sent in one batch; an item naming a company that is
        not linked is refused in its place without being sent."""
        out: list[BatchOutcome | None] = [None] * len(items)
        sent: list[tuple[int, _Item]] = []
        for i, item in enumerate(items):
            try:
                sent.append((i, with_fields(item, await self._fields_out(entity, fields_of(item)))))
            except RecordError as refused:
                out[i] = refused
        outcomes = await send(entity, [item for _, item in sent]) if sent else []
        records = await self._records_in(entity, [o for o in outcomes if isinstance(o, Record)])
        translated = iter(records)
        for (position, _), outcome in zip(sent, outcomes, strict=True):
            out[position] = next(translated) if isinstance(outcome, Record) else outcome
        return [o for o in out if o is not None]

    @staticmethod
    def _batch(gateway: Gateway) -> BatchGateway:
        if not isinstance(gateway, BatchGateway):
            raise TypeError(f"{type(gateway).__name__} writes one record at a time")
        return gateway
