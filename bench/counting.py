"""A gateway wrapper that tallies the work a cycle asked of a side (for bench/perf.py).

The work, not the requests: records listed, ids read, records written. bench/perf.py
derives the least number of requests that work needs from these figures, and compares
it with the requests the simulators counted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from syncd.gateways.base import BatchGateway, BatchOutcome, Gateway
from syncd.records import Page, Record, Value


@dataclass
class Work:
    listings: int = 0  # list_all calls
    listed: int = 0  # rows they brought (records and rejected rows)
    searches: int = 0  # changed_since calls
    searched: int = 0
    read: int = 0  # distinct ids read by key (read, find_by_correlation)
    created: int = 0
    updated: int = 0
    lookups: list[int] = field(default_factory=list)  # values per find_in_other_roles call

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Counted:
    """Forwards everything to ``inner``; counts what passes through the Gateway methods.

    Only a gateway that writes in batches gets the batch methods, so the engine's
    ``isinstance(gateway, BatchGateway)`` sees the same answer as for ``inner``.
    """

    def __new__(cls, inner: Gateway) -> Counted:
        kind = _CountedBatch if isinstance(inner, BatchGateway) else _CountedSingle
        return object.__new__(kind)

    def __init__(self, inner: Gateway) -> None:
        self.inner = inner
        self.work = Work()

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.inner, name)  # AttributeError where the side has no such thing
        if name != "find_in_other_roles":
            return found

        async def counted(entity: str, field: str, values: Sequence[str]) -> list[Record]:
            self.work.lookups.append(len(values))
            records: list[Record] = await found(entity, field, values)
            return records

        return counted

    async def changed_since(self, entity: str, since: datetime | None) -> AsyncIterator[Page]:
        self.work.searches += 1
        async for page in self.inner.changed_since(entity, since):
            self.work.searched += len(page.records) + len(page.rejected)
            yield page

    async def list_all(self, entity: str) -> AsyncIterator[Page]:
        self.work.listings += 1
        async for page in self.inner.list_all(entity):
            self.work.listed += len(page.records) + len(page.rejected)
            yield page

    async def read(self, entity: str, ids: Sequence[str]) -> Page:
        self.work.read += len(set(ids))
        return await self.inner.read(entity, ids)

    async def find_by_correlation(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        self.work.read += len(set(keys))
        return await self.inner.find_by_correlation(entity, keys)

    async def create(self, entity: str, fields: Mapping[str, Value], correlation: str) -> Record:
        self.work.created += 1
        return await self.inner.create(entity, fields, correlation)

    async def update(
        self,
        entity: str,
        record_id: str,
        fields: Mapping[str, Value],
        correlation: str | None = None,
    ) -> Record:
        self.work.updated += 1
        return await self.inner.update(entity, record_id, fields, correlation)


class _CountedSingle(Counted):
    pass


class _CountedBatch(Counted):
    async def create_batch(
        self, entity: str, items: Sequence[tuple[Mapping[str, Value], str]]
    ) -> list[BatchOutcome]:
        self.work.created += len(items)
        return await self.inner.create_batch(entity, items)  # type: ignore[attr-defined,no-any-return]

    async def update_batch(
        self, entity: str, items: Sequence[tuple[str, Mapping[str, Value], str | None]]
    ) -> list[BatchOutcome]:
        self.work.updated += len(items)
        return await self.inner.update_batch(entity, items)  # type: ignore[attr-defined,no-any-return]
