"""The relations changed since a cursor, read from a GetConnector without gaps or repeats.

``changed_since`` filters the GetConnector on the modification date (operator 2,
``>=``) from one second before ``since`` in Amsterdam wall time, sorted on the date and
the key. AFAS shows whole seconds but stores fractions, so a page is only trusted up to
the second *before* the last row's second; the next page starts one second before that
last second, so it reads the last second again whole (a few rows re-read, dropped if
already handed out, rather than a request of its own). Only when one second fills a
page is it read on its own, keyset-paged on the key (``key > last``) between one second
before and after it. So any number of records sharing a second is read completely, no
record is handed out twice and there are no gaps, even while records change between
pages (a changed record moves to the end and may be listed twice, which the engine
allows).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from syncd.errors import PermanentError
from syncd.gateways.afas.get_connector import AT_LEAST, GREATER, LESS, GetConnector, Terms
from syncd.gateways.afas.profit_time import filter_floor, filter_value, latest_utc, parse_local
from syncd.gateways.afas.relations import RelationMapping, Row
from syncd.records import Page

__all__ = ["ChangeReader"]

_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class _Entry:
    wall: datetime | None  # the row's modification time as shown (Amsterdam wall time)
    id: str
    row: Row


class ChangeReader:
    """Pages of the relations modified at or after a moment, each in (modified, key) order."""

    def __init__(self, get: GetConnector, relations: RelationMapping) -> None:
        self._get = get
        self._relations = relations

    async def changed_since(self, entity: str, since: datetime | None) -> AsyncIterator[Page]:
        spec = self._relations.spec(entity)
        page_size = self._get.page_size
        cursor: datetime | None = None  # every second before it is handed out
        lower = filter_floor(since) if since is not None else None
        while True:
            floor = cursor - _SECOND if cursor is not None else lower
            terms = [(spec.modified, AT_LEAST, filter_value(floor))] if floor else []
            groups = [terms] if terms else []
            rows = await self._get.rows(entity, groups, [spec.modified, spec.id])
            entries = [self._entry(entity, row) for row in rows]
            if cursor is None:
                undated = [e for e in entries if e.wall is None]
                if undated:
                    yield self._page(entity, undated)
            keep = [e for e in entries if _is_wanted(e, cursor, since)]
            if len(rows) < page_size:
                if keep:
                    yield self._page(entity, _in_time_order(keep))
                return
            last = max((e.wall for e in entries if e.wall is not None), default=None)
            if last is None:
                raise PermanentError(f"AFAS {spec.options['get_connector']}: no dates on a page")
            done = [e for e in keep if e.wall is not None and e.wall < last]
            if done:
                # The last second may go on past the page: the next page starts a second
                # before it (fractions), re-reading a few rows instead of a request.
                yield self._page(entity, _in_time_order(done))
                cursor = last
                continue
            # Nothing new but the last second: it fills the page on its own.
            second = last if cursor is None else max(last, cursor)
            async for page in self._rows_of_second(entity, second, since):
                yield page
            cursor = second + _SECOND

    async def _rows_of_second(
        self, entity: str, second: datetime, since: datetime | None
    ) -> AsyncIterator[Page]:
        """Every row shown with modification time ``second``, keyset-paged on the key."""
        spec = self._relations.spec(entity)
        after: str | None = None
        while True:
            terms: Terms = [
                (spec.modified, AT_LEAST, filter_value(second - _SECOND)),
                (spec.modified, LESS, filter_value(second + _SECOND)),
            ]
            if after is not None:
                terms.append((spec.id, GREATER, after))
            rows = await self._get.rows(entity, [terms], [spec.id])
            entries = [self._entry(entity, row) for row in rows]
            keep = [e for e in entries if e.wall == second and _is_wanted(e, None, since)]
            if keep:
                yield self._page(entity, _in_time_order(keep))
            if len(rows) < self._get.page_size:
                return
            after = entries[-1].id

    def _entry(self, entity: str, row: Row) -> _Entry:
        spec = self._relations.spec(entity)
        return _Entry(parse_local(row.get(spec.modified)), str(row.get(spec.id)), row)

    def _page(self, entity: str, entries: Sequence[_Entry]) -> Page:
        return self._relations.convert(entity, [e.row for e in entries])


def _is_wanted(entry: _Entry, cursor: datetime | None, since: datetime | None) -> bool:
    if entry.wall is None:
        return False
    if cursor is not None and entry.wall < cursor:
        return False
    return since is None or latest_utc(entry.wall) >= since


def _in_time_order(entries: Sequence[_Entry]) -> list[_Entry]:
    return sorted(entries, key=lambda e: (e.wall or datetime.min, e.id))
