"""Handle each page of a listing as it comes, while the listings go on.

An incremental cycle's writes would otherwise start only after both sides' changes are
listed, their partners read and the whole plan judged by the guards. So a page of changes
is handled as it comes: the links of its records are looked up, their partners read, the
pairs planned (with the same fresh read before write) and applied
(:class:`ApplyEachPage`).

What a guard counts (a record gone, a filled field blanked:
:func:`~syncd.engine.guards.counted_by_guards`) is not applied so: it waits for the
cycle's whole plan, which the guards judge with all they count. A mass blanking is
still refused as a whole, and an operator's confirmation still covers it; the ordinary
edits of the same cycle are not held back.

A pair is handled once a cycle: the first page that brings one of its records, changed
since the base, claims it, and its partner is read then, so that a change on both sides
is reconciled at once. A page whose values are only hints (a search index that lags
behind writes, :attr:`~syncd.records.Page.hints_only`) has the records it claims read by
id beside their partners: the pair is planned on what its records hold, not on an
earlier version the index still shows (which would undo the write that made it). All
else is left to the cycle's plan after the listings: unlinked records (matching),
records in quarantine or unreadable, pairs whose partner is gone or merged, links the
recovery touched.

A full sweep lists both sides whole to compare every pair, and most pairs agree: both
records still hold their base and no conflict is open. Such a pair is settled as soon as
its second record is listed, and both records are let go, so the listings need not hold
them to the end (:class:`SettleAgreeingPairs`). The rest (changed, conflicted, gone,
unlinked) is planned after the listings, as before.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from syncd.engine.actions import Action, Note, PairState, Plan
from syncd.engine.guards import counted_by_guards
from syncd.engine.speed.seam import DoneWhileListing
from syncd.records import Page, Record, Side
from syncd.state.rows import Link


class PagePairs(Protocol):
    """What applying each page needs of its cycle."""

    async def links_of(self, side: Side, ids: Sequence[str]) -> dict[str, Link]: ...

    async def read(self, side: Side, ids: Sequence[str]) -> Page: ...

    async def leaves_alone(self) -> Callable[[Side, Link, Record], bool]:
        """Whether a pair is one the cycle's own plan sees to, or that needs nothing."""
        ...

    def unreadable(self, side: Side, record_id: str) -> bool: ...

    async def plan_pairs(self, pairs: list[PairState]) -> Plan: ...

    async def apply(self, actions: list[Action]) -> None: ...


class PageWork(ABC):
    """The pages of a listing, each handled by a task of its own as it comes."""

    def __init__(self) -> None:
        self.handled: set[int] = set()  # link ids: the cycle's plan leaves these be
        self._page_tasks: list[asyncio.Task[None]] = []

    def on_page(self, side: Side, page: Page) -> set[str]:
        """A page of ``side``: handled beside the listing. The listing keeps every record
        (the cycle's plan skips the pairs handled here)."""
        if page.records:
            self._page_tasks.append(asyncio.ensure_future(self._work_on_page(side, page)))
        return set()

    async def wait_for_pages(self) -> None:
        """Wait for every page handled; the first error stops the rest and is raised."""
        try:
            await asyncio.gather(*self._page_tasks)
        finally:
            await self.stop()

    async def stop(self) -> None:
        """Cancel what still runs (a failed cycle), and wait until it has stopped."""
        for task in self._page_tasks:
            task.cancel()
        await asyncio.gather(*self._page_tasks, return_exceptions=True)

    @property
    def links_unread(self) -> bool:
        return False

    async def on_side_listed(
        self, side: Side, listed: Callable[[], Page], waiting: Callable[[], Page]
    ) -> None:
        return None

    async def beside(self, listing: Awaitable[object]) -> None:
        """Wait for ``listing``, then for every page it brought to be handled."""
        try:
            await listing
            await self.wait_for_pages()
        finally:
            await self.stop()  # still going only when this cycle failed

    async def finish(self) -> None:
        return None

    def outcome(self) -> DoneWhileListing:
        return DoneWhileListing(handled=frozenset(self.handled))

    @abstractmethod
    async def _work_on_page(self, side: Side, page: Page) -> None: ...


class ApplyEachPage(PageWork):
    """The pages of an incremental cycle's listings, each applied as it comes."""

    def __init__(self, cycle: PagePairs) -> None:
        super().__init__()
        self.cycle = cycle
        self.held: list[Action] = []  # what the guards judge with the cycle's plan
        self.applied: list[Action] = []  # for the cycle's report
        self.notes: list[Note] = []  # for the cycle's plan to record (flip-flops held)

    def outcome(self) -> DoneWhileListing:
        return DoneWhileListing(
            handled=frozenset(self.handled),
            applied=tuple(self.applied),
            held=tuple(self.held),
            notes=tuple(self.notes),
        )

    async def _work_on_page(self, side: Side, page: Page) -> None:
        pairs = await self._pairs(side, page)
        if not pairs:
            return
        plan = await self.cycle.plan_pairs(pairs)
        now = [action for action in plan.actions if not counted_by_guards(action)]
        self.held.extend(action for action in plan.actions if counted_by_guards(action))
        self.notes.extend(plan.notes)
        self.applied.extend(now)
        await self.cycle.apply(now)

    async def _pairs(self, side: Side, page: Page) -> list[PairState]:
        """The pairs of the records ``page`` claims, with their partners read now."""
        links = await self.cycle.links_of(side, [r.id for r in page.records])
        leaves_alone = await self.cycle.leaves_alone()
        claimed: list[tuple[int, Link, Record]] = []
        for record in page.records:
            link = links.get(record.id)
            if link is None or link.id is None or link.id in self.handled:
                continue
            if link.detached_at is None and not leaves_alone(side, link, record):
                claimed.append((link.id, link, record))
                self.handled.add(link.id)  # before the next await: no other page takes it
        if not claimed:
            return []
        other = side.other
        reading = self.cycle.read(other, [link.id_on(other) for _, link, _ in claimed])
        if page.hints_only:  # the values the page shows may be older than the records
            read, claimed = await asyncio.gather(reading, self._as_read(side, claimed))
        else:
            read = await reading
        partners = {r.id: r for r in read.records}
        pairs = []
        for link_id, link, record in claimed:
            partner = partners.get(link.id_on(other))
            if partner is None or self.cycle.unreadable(other, link.id_on(other)):
                # Gone, merged or unreadable: for the cycle's plan, which reads it again.
                self.handled.discard(link_id)
                continue
            crm, afas = (record, partner) if side is Side.CRM else (partner, record)
            pairs.append(PairState(link, crm, afas))
        return pairs

    async def _as_read(
        self, side: Side, claimed: list[tuple[int, Link, Record]]
    ) -> list[tuple[int, Link, Record]]:
        """The claimed records as read by id now. One gone or unreadable is left to the
        cycle's plan (which reads it again); one back at its base is still paired, as
        its partner's page will not claim the pair again."""
        read = await self.cycle.read(side, [record.id for _, _, record in claimed])
        now = {r.id: r for r in read.records}
        kept = []
        for link_id, link, record in claimed:
            fresh = now.get(record.id)
            if fresh is None or self.cycle.unreadable(side, record.id):
                self.handled.discard(link_id)
            else:
                kept.append((link_id, link, fresh))
        return kept


class ListedPairs(Protocol):
    """What settling a sweep's pages needs of its cycle."""

    async def links_of(self, side: Side, ids: Sequence[str]) -> dict[str, Link]: ...

    def listed_record(self, side: Side, record_id: str) -> Record | None:
        """``side``'s record as its listing brought it so far (None: not yet, or never)."""
        ...

    async def agreement(self) -> Callable[[Link, Record, Record], bool]:
        """Whether a pair needs nothing of the plan: both records at the base, nothing
        open or waiting on it."""
        ...

    def forget_listed(self, side: Side, ids: Sequence[str]) -> None: ...


class SettleAgreeingPairs(PageWork):
    """A full sweep's pages: the pairs that agree are settled as their second record is
    listed, and both records let go."""

    def __init__(self, cycle: ListedPairs) -> None:
        super().__init__()
        self.cycle = cycle

    async def _work_on_page(self, side: Side, page: Page) -> None:
        links = await self.cycle.links_of(side, [r.id for r in page.records])
        agrees = await self.cycle.agreement()
        other = side.other
        let_go: dict[Side, list[str]] = {side: [], other: []}
        for record in page.records:
            link = links.get(record.id)
            if link is None or link.id is None or link.id in self.handled:
                continue
            # None: its partner's page settles the pair, or the plan finds the partner gone
            partner = self.cycle.listed_record(other, link.id_on(other))
            if partner is None or link.detached_at is not None:
                continue
            crm, afas = (record, partner) if side is Side.CRM else (partner, record)
            if agrees(link, crm, afas):
                self.handled.add(link.id)
                let_go[side].append(record.id)
                let_go[other].append(partner.id)
        for each, ids in let_go.items():
            self.cycle.forget_listed(each, ids)
