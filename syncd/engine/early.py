"""Creates that start while the first sync is still listing.

A first sync lists both sides whole before it can match. The sides list at their own
pace (AFAS in large pages, HubSpot 100 companies a request under a rate limit), so one
is done long before the other. From then on, a record of the side still listing that
has no partner on the finished side is certain to be created there (see
:class:`~syncd.engine.match.Partners`), so it is created at once, while the listing
goes on, instead of after it: the writes of one side overlap the reads of the other.
When the second side is listed whole, the first side's records without a partner there
are certain too: their creates start at once, beside the first ones still running (each
side's creates in a queue of their own). The cycle matches, plans and applies the rest
(the pairs to link) while they finish, and waits for them before it commits its cursors.

Only a first sync of the entity does this (nothing ever linked, not even a link whose
partner is gone since; nothing in quarantine or in doubt, no match review pending):
there the whole plan could never trip a guard, and the records created early are
exactly those the plan would create. Everything else waits for both listings, as in
any cycle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime

from syncd.engine.apply import Applier
from syncd.engine.match import Partners
from syncd.engine.plan import Create, PlanInput, make_plan
from syncd.mapping import EntityMapping
from syncd.policy import SyncRules
from syncd.records import Record, Side

WORKERS = 2
# Creates per apply: each apply commits its journal intents and outcomes together, and
# AFAS reads back what one apply created by key, about 50 keys a request.
MIN_CHUNK, CHUNK = 50, 200


class EarlyCreates:
    """Decides the records of the side still listing and creates the new ones at once."""

    def __init__(
        self,
        entity: str,
        mapping: EntityMapping,
        rules: SyncRules,
        applier: Applier,
        create_cutoff: Callable[[Side], datetime],
    ) -> None:
        self.entity = entity
        self.mapping = mapping
        self.rules = rules
        self.applier = applier
        self.create_cutoff = create_cutoff
        self.whole: Partners | None = None
        self.created: dict[Side, set[str]] = {side: set() for side in Side}  # source ids
        self._queues: dict[Side, list[Create]] = {side: [] for side in Side}  # by target
        self._wake = {side: asyncio.Event() for side in Side}
        self._closed = False
        self._deciding = asyncio.Lock()

    async def listed_whole(
        self,
        side: Side,
        records: Sequence[Record],
        others: Sequence[Record],
        held: Sequence[Record],
        waiting: Callable[[], Sequence[Record]],
    ) -> None:
        """``side`` is listed whole: decide the other side's records listed so far
        (``waiting()``, asked once its index is built) by it.

        The first side to finish decides the other's records listed so far, and then
        page by page (:meth:`listed`); the second decides the first's whole listing.
        One side's index is alive at a time. Building it and deciding a whole listing
        take a while at 100,000 records: both run in a worker thread, so the creates
        already under way keep going (pages listed meanwhile are in ``waiting()``).
        """
        async with self._deciding:  # the other side may finish meanwhile: it waits
            second = self.whole is not None
            self.whole = None  # the first side's index goes before the second's is built
            keys = self.mapping.match_keys
            self.whole = await asyncio.to_thread(Partners, side, records, keys, held, others)
            whole = self.whole
            self._queue(side.other, await asyncio.to_thread(self._creates, whole, waiting()))
            if second:
                self.whole = None  # both are listed: nothing more to decide

    def listed(self, side: Side, records: Sequence[Record]) -> None:
        """A page of ``side``: the records with no partner are queued for creating."""
        if self.whole is None or side is not self.whole.side.other or not records:
            return
        self._queue(side, self._creates(self.whole, records))

    def _creates(self, whole: Partners, records: Sequence[Record]) -> list[Create]:
        """The creates of ``records`` (of the side ``whole`` is not). Pure."""
        decisions = whole.creates(records)
        if not decisions:
            return []
        target = whole.side
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
        # Too fresh, or creates off: left to the cycle's own plan, which says so.
        return [a for a in plan.actions if isinstance(a, Create)]

    def _queue(self, side: Side, creates: list[Create]) -> None:
        if not creates:
            return
        target = side.other
        self.created[side].update(c.source.id for c in creates)
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
        queue, wake = self._queues[target], self._wake[target]
        while True:
            if len(queue) >= MIN_CHUNK or (queue and self._closed):
                batch = queue[:CHUNK]
                del queue[:CHUNK]
                await self.applier.apply(list(batch))
            elif self._closed:
                return
            else:
                wake.clear()
                await wake.wait()
