"""Decide a first sync's records while it is still listing.

A first sync lists both sides whole before it can match. The sides list at their own
pace (AFAS in large pages, HubSpot 100 companies a request under a rate limit), so one
is done long before the other. From then on, a record of the side still listing that
has no partner on the finished side is certain to be created there (see
:class:`~syncd.engine.match.Partners`), so it is created at once, while the listing
goes on, instead of after it: the writes of one side overlap the reads of the other.
The pages decided so also find most pairs, and mark what they claim of the finished
side; when the second side is listed whole, those marks settle the rest at once (no
index of the second side, no matching of both whole listings): the first side's records
that nothing claimed are created, beside the creates still running (each side's in a
queue of their own), and a pair whose record on the first side was claimed once is
final. The cycle plans and applies those pairs with whatever is left to match (records
in contested or correlated pairs, look-alikes) while the creates finish, and waits for
them before it commits its cursors.

Only a first sync of the entity does this (nothing ever linked, not even a link whose
partner is gone since; nothing in quarantine or in doubt, no match review pending):
there the whole plan could never trip a guard, and the records created early are
exactly those the plan would create. Everything else waits for both listings, as in
any cycle.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from syncd.engine.actions import Action, AdvanceBase, Create, LinkPair, OpenConflict, Update
from syncd.engine.apply.applier import Applier
from syncd.engine.cancel import cancel_task
from syncd.engine.match import MatchDecision, Partners
from syncd.engine.plan import PlanInput, make_plan
from syncd.engine.speed.seam import DoneWhileListing
from syncd.mapping import EntityMapping
from syncd.policy import SyncRules
from syncd.records import Page, Record, RejectedRecord, Side

WORKERS = 2
# Creates per apply: an apply commits its journal together and AFAS reads its creates
# back by key, as many a request as its query length allows, so fuller applies cost
# fewer requests; the first ones grow towards MIN_CHUNK (see ``_worker``).
MIN_CHUNK, CHUNK = 50, 200


_OF_A_PAIR = (LinkPair, Update, AdvanceBase, OpenConflict)  # what a LINK decision plans


@dataclass(frozen=True, slots=True)  # slots: one per pair found while listing
class _Pair:
    record_id: str  # on the side still listing
    partner_id: str  # on the side listed whole
    actions: tuple[Action, ...]  # planned
    kept: bool  # whether the listing kept the record (see DecisionsWhileListing.listed)


class DecisionsWhileListing:
    """Decides the records of the side still listing: creates the new ones at once, and
    keeps the pairs that are certain for the cycle's plan."""

    def __init__(
        self,
        entity: str,
        mapping: EntityMapping,
        rules: SyncRules,
        applier: Applier,
        create_cutoff: Callable[[Side], datetime],
        *,
        declined: frozenset[tuple[str, str]] = frozenset(),
        creates_later: Collection[Side] = (),
    ) -> None:
        self.entity = entity
        # Sides whose creates are left to the cycle's plan (a second role's, siblings.py).
        self.creates_later = frozenset(creates_later)
        self.mapping = mapping
        self.rules = rules
        self.applier = applier
        self.create_cutoff = create_cutoff
        self.declined = declined  # pairs a person said are not one company
        self.whole: Partners | None = None
        # Per record of ``whole``'s side, how many records of the other side claim it.
        self.claims: Counter[str] = Counter()
        # Pairs found so far, planned: final once both sides are listed whole, if their
        # record on ``whole``'s side was claimed once.
        self._pairing: list[_Pair] = []
        self.paired: list[Action] = []  # the final pairs' actions, for the cycle's plan
        # Records created or paired, by side: the rest of the cycle leaves them be.
        self.decided: dict[Side, set[str]] = {side: set() for side in Side}
        # Records of pairs that turned out not final, which the listing did not keep:
        # the cycle reads them again to match them (rare: see :meth:`on_page`).
        self.set_aside: dict[Side, list[str]] = {side: [] for side in Side}
        self._queues: dict[Side, list[Create]] = {side: [] for side in Side}  # by target
        self._wake = {side: asyncio.Event() for side in Side}
        # Per side, how many queued creates the next apply waits for.
        self._least = {side: 1 for side in Side}
        self._closed = False
        self._deciding = asyncio.Lock()
        self._creating: asyncio.Future[None] | None = None

    @property
    def links_unread(self) -> bool:
        """Nothing was ever linked, and the links of the creates made while listing are of
        records the cycle is done with: no listed record has a link to look up."""
        return True

    async def beside(self, listing: Awaitable[object]) -> None:
        """Run the listing with the creates beside it, until the listing is done; the
        creates go on (see :meth:`finish`) while the cycle plans the rest. The first
        error of either stops both."""
        listed = asyncio.ensure_future(listing)
        creating = self._creating = asyncio.ensure_future(self.run())
        try:
            # Creating ends before the listing only by an error: whichever ends first decides.
            await asyncio.wait({listed, creating}, return_when=asyncio.FIRST_COMPLETED)
            if creating.done():
                creating.result()
            listed.result()
        except BaseException:
            await cancel_task(listed)
            await cancel_task(creating)
            raise
        self.close()

    def outcome(self) -> DoneWhileListing:
        return DoneWhileListing(
            paired=tuple(self.paired),
            decided={side: frozenset(ids) for side, ids in self.decided.items()},
            set_aside={side: tuple(ids) for side, ids in self.set_aside.items()},
        )

    async def finish(self) -> None:
        """The creates made while listing are part of what was applied: an error of theirs after the
        listings fails the cycle here, before its cursors move."""
        if self._creating is not None:
            await self._creating

    async def stop(self) -> None:
        await cancel_task(self._creating)  # still going only when this cycle failed

    async def on_side_listed(
        self, side: Side, listed: Callable[[], Page], waiting: Callable[[], Page]
    ) -> None:
        """``side`` is listed whole (``listed()``).

        The first side to finish is indexed, and the other side's records are decided
        by it: those listed so far (``waiting()``, asked once the index is built), then
        page by page (:meth:`on_page`). When the second side is listed whole, what its
        records claimed settles the rest: the first side's creates are the records
        nothing claimed, and the pairs kept are final where their record on the first
        side was claimed once (:class:`~syncd.engine.match.PageDecisions`). No index of
        the second side, no second pass over either. Building the index and deciding
        what was waiting run in a worker thread, so the creates under way keep going.
        """
        whole = listed()
        async with self._deciding:  # the other side may finish meanwhile: it waits
            if self.whole is not None:  # the second side: every page of it was decided
                first = self.whole
                self._queue(first.side, await asyncio.to_thread(self._unclaimed, first))
                self.paired = self._final_pairs()
                self.whole, self.claims, self._pairing = None, Counter(), []
                return
            keys = self.mapping.match_keys
            held = _held_records(whole.rejected)
            self.whole = await asyncio.to_thread(
                functools.partial(
                    Partners,
                    review_keys=self.mapping.review_keys,
                    declined=self.declined,
                ),
                side,
                whole.records,
                keys,
                held,
                whole.others,
            )
            decided = await asyncio.to_thread(self._decide, self.whole, waiting(), kept=True)
            self._keep_decisions(side.other, *decided)

    def on_page(self, side: Side, page: Page) -> set[str]:
        """A page of ``side``: the records with no partner are queued for creating, and
        the pairs found are planned. Returns the ids of the page's records in those
        pairs: the listing need not keep them, as the plan has what applying needs; one
        whose pair is not final after all is read again."""
        if self.whole is None or side is not self.whole.side.other:
            return set()
        creates, pairs, claims = self._decide(self.whole, page, kept=False)
        self._keep_decisions(side, creates, pairs, claims)
        return {pair.record_id for pair in pairs}

    def _decide(
        self, whole: Partners, page: Page, *, kept: bool
    ) -> tuple[list[Create], list[_Pair], Counter[str]]:
        """The creates of ``page`` (of the side ``whole`` is not), its pairs planned,
        and what it claims of ``whole``'s side. Pure."""
        decided = whole.decide_page(page.records, _held_records(page.rejected), page.others)
        creates = _creates(self._plan_actions(decided.creates))
        on_whole = 1 if whole.side is Side.AFAS else 0  # in (crm_id, afas_id)
        actions: dict[str, list[Action]] = {}
        for action in self._plan_actions(decided.pairs):
            assert isinstance(action, _OF_A_PAIR)
            actions.setdefault(action.pair[on_whole], []).append(action)
        pairs = [
            _Pair(d.record.id, d.partner.id, tuple(actions[d.partner.id]), kept)
            for d in decided.pairs
            if d.partner is not None
        ]
        return creates, pairs, decided.claims

    def _keep_decisions(
        self, side: Side, creates: list[Create], pairs: list[_Pair], claims: Counter[str]
    ) -> None:
        self.claims.update(claims)
        self._pairing.extend(pairs)
        self._queue(side, creates)

    def _unclaimed(self, first: Partners) -> list[Create]:
        """Both sides are listed: the creates of the first side's records. Pure."""
        return _creates(self._plan_actions(first.unclaimed(self.claims)))

    def _final_pairs(self) -> list[Action]:
        """Both sides are listed: the actions of the pairs whose record on the first
        side was claimed once. Their records are left out of the rest of the cycle."""
        assert self.whole is not None
        first = self.whole.side
        final: list[Action] = []
        for pair in self._pairing:
            if self.claims[pair.partner_id] == 1:
                final.extend(pair.actions)
                self.decided[first.other].add(pair.record_id)
                self.decided[first].add(pair.partner_id)
            elif not pair.kept:
                self.set_aside[first.other].append(pair.record_id)
        return final

    def _plan_actions(self, decisions: list[MatchDecision]) -> list[Action]:
        """What the plan does with ``decisions`` (of one kind and one side). Pure."""
        if not decisions:
            return []
        target = decisions[0].side.other
        plan = make_plan(
            PlanInput(
                self.entity,
                self.mapping,
                self.rules,
                pairs=[],
                matches=decisions,
                open_conflicts={},
                link_count=0,
                create_cutoff={target: self.create_cutoff(target)},
            )
        )
        return plan.actions

    def _queue(self, side: Side, creates: list[Create]) -> None:
        if not creates:
            return
        target = side.other
        if target in self.creates_later:
            return
        self.decided[side].update(c.source.id for c in creates)
        self._queues[target].extend(creates)
        self._wake[target].set()

    def close(self) -> None:
        """Both listings are done: create what is queued, then stop."""
        self._closed = True
        for wake in self._wake.values():
            wake.set()

    async def run(self) -> None:
        """Create what is queued, as it comes, until closed and nothing is left.

        Per side, two appliers' worth at once: while one waits for its last writes to
        come back, the other's requests keep the side's allowed concurrency busy.
        """
        workers = [
            asyncio.ensure_future(self._worker(side)) for side in Side for _ in range(WORKERS)
        ]
        try:
            await asyncio.gather(*workers)
        finally:  # an error (or a cancel) stops the other workers too: none outlives its cycle
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _worker(self, target: Side) -> None:
        """Applies chunks of ``target``'s queue.

        A side's first apply goes with what there is, and each after it waits for twice
        as many creates as the one before, up to MIN_CHUNK. When records to create come
        faster than the side takes them (the side's writes are then what the first sync
        waits for), the queue refills before the apply running empties the side's
        concurrency, so the other worker starts in time, where waiting for a whole
        MIN_CHUNK left it idle for a while; when they come slowly, the small applies (a
        read-back request each) are a handful.
        """
        queue, wake = self._queues[target], self._wake[target]
        while True:
            if queue and (len(queue) >= self._least[target] or self._closed):
                batch = queue[:CHUNK]
                del queue[:CHUNK]
                self._least[target] = min(MIN_CHUNK, 2 * len(batch))
                await self.applier.apply(list(batch))
            elif self._closed:
                return
            else:
                wake.clear()
                await wake.wait()


def _creates(actions: list[Action]) -> list[Create]:
    # A create too fresh, or creates off: left to the cycle's own plan, which says so.
    return [a for a in actions if isinstance(a, Create)]


def _held_records(rejected: Sequence[RejectedRecord]) -> list[Record]:
    """Unreadable rows, as far as they could be read: one may be the same company."""
    return [Record(r.id, r.fields) for r in rejected]
