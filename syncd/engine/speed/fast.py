"""Today's default: every speed-up on (see the package's docstring)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from syncd.engine.speed.decide_while_listing import DecisionsWhileListing
from syncd.engine.speed.gc_pause import gc_paused
from syncd.engine.speed.page_by_page import ApplyEachPage, SettleAgreeingPairs
from syncd.engine.speed.plain import NothingBeside
from syncd.engine.speed.seam import CycleAccess, In, ListingShape, ListingWork, Out, Pages
from syncd.gateways.http.pages_ahead import HeadStart
from syncd.records import Page


class FastSpeed:
    """Listings asked for as the cycle begins, pages handled as they come, a first sync
    decided while it lists, the collector's full passes paused, pure work in a
    worker thread, and quiet polls."""

    polls_quietly = True

    def pages(self, listing: AsyncIterator[Page]) -> Pages:
        """The first page asked for at once: its request is on its way while the cycle
        settles earlier writes (which only read the sides, so the listing shows what it
        would have shown after)."""
        return HeadStart(listing)

    def cycle_running(self) -> AbstractAsyncContextManager[None]:
        return gc_paused()

    async def run_pure(self, pure: Callable[[In], Out], inputs: In) -> Out:
        """Matching and planning a first sync take a while of CPU; meanwhile the event
        loop keeps the requests of the creates made while listing (and of other cycles)
        going. Pure functions share nothing the loop changes."""
        return await asyncio.to_thread(pure, inputs)

    async def beside_listing(self, shape: ListingShape, cycle: CycleAccess) -> ListingWork:
        if not shape.dry_run and (shape.full or shape.first) and await cycle.first_sync_alone():
            return DecisionsWhileListing(
                shape.entity,
                cycle.mapping,
                cycle.rules,
                cycle.applier,
                cycle.create_cutoff,
                declined=await cycle.declined(),
                creates_later=cycle.creates_later(),
            )
        if shape.full:  # a sweep: its pairs that agree are let go as they are listed
            return SettleAgreeingPairs(cycle)
        if shape.changes and not shape.dry_run:
            return ApplyEachPage(cycle)
        return NothingBeside()


FAST = FastSpeed()
