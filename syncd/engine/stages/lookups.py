"""What one cycle has read from the store and the sides, so that nothing is read twice.

Every stage asks here for links, records by id, open conflicts and match reviews; each
is read once a cycle, when first needed (or beside the pull, where that is sooner).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from syncd.engine.awaiting import AwaitingReview, read_awaiting_review
from syncd.engine.stages.context import CycleContext
from syncd.records import Page, RejectedRecord, Side, Value
from syncd.state.rows import Link

OpenConflictValues = dict[int, dict[str, tuple[Value, Value]]]  # link, field, (crm, afas)


class CycleLookups:
    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx
        # Links by pair, for the applier (which adds what it links); the stages add the
        # links of the pairs they plan.
        self.by_pair: dict[tuple[str, str], Link] = {}
        # Links read so far, by side and id (tombstones too); after a full read of the
        # links every id is known.
        self._known: dict[Side, dict[str, Link]] = {side: {} for side in Side}
        self._asked: dict[Side, set[str]] = {side: set() for side in Side}
        self.all_known = False
        self.all_links: list[Link] = []  # a sweep's every link, read while the sides list
        self._all_read: asyncio.Future[None] | None = None
        # Records read by id this cycle (not listed): already as fresh as a re-read.
        self.read_now: dict[Side, set[str]] = {side: set() for side in Side}
        self.rejected: dict[tuple[Side, str], RejectedRecord] = {}  # unreadable, this cycle
        self._conflicts_read: asyncio.Future[OpenConflictValues] | None = None
        self._open_values: OpenConflictValues | None = None
        self._open_fields: dict[int, frozenset[str]] | None = None
        self._awaiting: AwaitingReview | None = None

    # --- links ---------------------------------------------------------------------------

    def read_all_links(self) -> asyncio.Future[None]:
        """Every link (a sweep compares them all), read beside the listings."""
        self._all_read = asyncio.ensure_future(self._read_all_links())
        return self._all_read

    async def _read_all_links(self) -> None:
        self.all_links = await self.ctx.store.get_links(self.ctx.connection, self.ctx.entity)
        self._remember(self.all_links)
        self.all_known = True

    async def links_of(self, side: Side, ids: Sequence[str]) -> dict[str, Link]:
        """The links of ``ids`` on ``side``, read from the store at most once per cycle."""
        if self._all_read is not None:
            await self._all_read
        new = [i for i in ids if i not in self._asked[side]]
        if new and not self.all_known:
            store, ctx = self.ctx.store, self.ctx
            self._remember(
                (await store.links_by_ids(ctx.connection, ctx.entity, side, new)).values()
            )
            self._asked[side].update(new)
        return {i: self._known[side][i] for i in ids if i in self._known[side]}

    def _remember(self, links: Iterable[Link]) -> None:
        for link in links:
            for side in Side:
                self._known[side][link.id_on(side)] = link

    def hand_to_applier(self, links: Iterable[Link]) -> None:
        """Links of pairs about to be planned: the applier writes their bases."""
        self.by_pair.update({(link.crm_id, link.afas_id): link for link in links})

    def links_now(self) -> list[Link]:
        """Every link this cycle read or made, as it is now (the applier's, if it moved)."""
        by_id = {link.id: link for link in self._known[Side.CRM].values()}
        by_id.update({link.id: link for link in self.by_pair.values()})
        return list(by_id.values())

    # --- records -------------------------------------------------------------------------

    async def read(self, side: Side, ids: Sequence[str]) -> Page:
        page = await self.ctx.gateways[side].read(self.ctx.entity, ids)
        self.keep_rejected(side, page.rejected)
        self.read_now[side].update(r.id for r in page.records)
        return page

    def keep_rejected(self, side: Side, rejected: Iterable[RejectedRecord]) -> None:
        self.rejected.update({(side, r.id): r for r in rejected})

    def unreadable(self, side: Side, record_id: str) -> bool:
        return (side, record_id) in self.rejected

    # --- conflicts and reviews -----------------------------------------------------------

    def read_conflicts(self) -> asyncio.Future[OpenConflictValues]:
        """The open conflicts, read beside the pull."""
        store, ctx = self.ctx.store, self.ctx
        self._conflicts_read = asyncio.ensure_future(
            store.conflicted_fields(ctx.connection, ctx.entity)
        )
        return self._conflicts_read

    async def open_conflict_fields(self) -> dict[int, frozenset[str]]:
        """The open conflicts' fields by link, as read at the start of the pull."""
        if self._open_fields is None:
            values = await self.open_conflict_values()
            self._open_fields = {i: frozenset(fields) for i, fields in values.items()}
        return self._open_fields

    async def open_conflict_values(self) -> OpenConflictValues:
        """The open conflicts' values by link and field."""
        assert self._conflicts_read is not None, "read when the pull starts"
        if self._open_values is None:
            self._open_values = await self._conflicts_read
        return self._open_values

    def open_conflict_values_if_read(self) -> OpenConflictValues:
        """The open conflicts' values, once :meth:`open_conflict_values` was awaited (else none)."""
        return self._open_values or {}

    async def awaiting_review(self) -> AwaitingReview:
        if self._awaiting is None:
            ctx = self.ctx
            self._awaiting = await read_awaiting_review(ctx.store, ctx.connection, ctx.entity)
        return self._awaiting
