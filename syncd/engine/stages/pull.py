"""Stage 1, pull: list both sides at once, from their cursors (or whole), with the speed
strategy's work beside the listings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

from syncd.engine.apply.applier import Applier
from syncd.engine.cancel import cancel_task
from syncd.engine.cursors import after_pull, pull_start
from syncd.engine.progress import NO_PROGRESS, SideListing, first_total
from syncd.engine.speed.seam import DoneWhileListing, ListingShape, ListingWork, SpeedStrategy
from syncd.engine.stages.access import StageAccess
from syncd.engine.stages.context import CycleContext
from syncd.engine.stages.listings import Listing, PullSoFar, SidePull
from syncd.engine.stages.lookups import CycleLookups
from syncd.engine.stages.standing import Standing
from syncd.gateways.base import Gateway
from syncd.gateways.http.pages_ahead import side_by_side
from syncd.records import Cursor, Page, Side


@dataclass(frozen=True)
class Pull:
    sides: Mapping[Side, SidePull]
    work: ListingWork  # the speed strategy's, which may still go on
    done: DoneWhileListing  # what it did beside the listings


async def open_listings(
    ctx: CycleContext, speed: SpeedStrategy, known: Mapping[Side, Cursor | None] | None = None
) -> dict[Side, Listing]:
    """Read the cursors (unless ``known``: a quiet poll's) and open each side's listing."""
    cursors: Mapping[Side, Cursor | None] = (
        dict(known) if known is not None else await ctx.store.cursors(ctx.connection, ctx.entity)
    )
    if ctx.hinted is not None and not ctx.full and None not in cursors.values():
        return {side: _hinted(ctx, speed, side, cursors[side]) for side in Side}
    # A hint before the first sync: the first sync it is.
    return {side: _listing(ctx, speed, side, cursors[side]) for side in Side}


async def close_listings(listings: Mapping[Side, Listing]) -> None:
    for listing in listings.values():
        await listing.pages.aclose()


def _listing(ctx: CycleContext, speed: SpeedStrategy, side: Side, cursor: Cursor | None) -> Listing:
    gateway, started = ctx.gateways[side], ctx.now()
    if ctx.full or cursor is None:
        # The first pull lists everything: a search-based "changed since" may not
        # show the newest records yet (HubSpot), and matching needs them all.
        return Listing(cursor, True, started, speed.pages(gateway.list_all(ctx.entity)))
    since = pull_start(cursor, ctx.overlap, ctx.lag(side))
    pages = speed.pages(gateway.changed_since(ctx.entity, since))
    return Listing(cursor, False, started, pages, since=since)


def _hinted(ctx: CycleContext, speed: SpeedStrategy, side: Side, cursor: Cursor | None) -> Listing:
    """The hinted records of ``side``, read by id (no search, so no search lag); a side
    without hints lists nothing, its partners are read again before any write."""
    ids = sorted(ctx.hinted.get(side, frozenset()) if ctx.hinted is not None else ())
    pages = speed.pages(_read_by_id(ctx.gateways[side], ctx.entity, ids))
    return Listing(cursor, False, ctx.now(), pages, hinted=True)


async def _read_by_id(gateway: Gateway, entity: str, ids: Sequence[str]) -> AsyncIterator[Page]:
    if ids:
        yield await gateway.read(entity, ids)


def listing_shape(ctx: CycleContext, listings: Mapping[Side, Listing]) -> ListingShape:
    cursors = [listing.cursor for listing in listings.values()]
    return ListingShape(
        ctx.entity,
        dry_run=ctx.dry_run,
        full=ctx.full,
        first=all(cursor is None for cursor in cursors),
        changes=not ctx.full and None not in cursors,
    )


async def pull(
    ctx: CycleContext,
    speed: SpeedStrategy,
    listings: Mapping[Side, Listing],
    standing: Standing,
    lookups: CycleLookups,
    applier: Applier,
) -> Pull:
    """Both sides' listings, to their ends, and what the speed strategy did beside them."""
    collecting = {side: PullSoFar() for side in Side}
    access = StageAccess(ctx, speed, standing, lookups, applier, collecting)
    work = await speed.beside_listing(listing_shape(ctx, listings), access)
    # A sweep compares every link: they are read while the sides list.
    links_read = lookups.read_all_links() if ctx.full and not work.links_unread else None
    # Done only once every pull has stopped (a gather is done at its first error, the
    # other side's pull still inside its listing, which the cycle then closes).
    both = asyncio.ensure_future(
        side_by_side(
            [
                *(_pull_side(ctx, side, listings[side], collecting, work) for side in Side),
                *([links_read] if links_read is not None else []),
            ]
        )
    )
    try:
        await work.beside(both)
    finally:
        await cancel_task(both)  # one side's error leaves the other's pull going
        await cancel_task(links_read)
    done = work.outcome()
    try:
        for side, listed in collecting.items():
            listed.forget(done.decided.get(side, frozenset()))
            await _read_again(lookups, listed, side, done.set_aside.get(side, ()))
    except BaseException:
        await work.stop()  # what goes on beyond the listings stops with the cycle
        raise
    if work.links_unread:
        lookups.all_known = True  # nothing was ever linked: no listed record has a link
    for side, listed in collecting.items():
        lookups.keep_rejected(side, listed.rejected)
    sides = {side: listed.hand_over(listings[side].whole) for side, listed in collecting.items()}
    return Pull(sides, work, done)


async def _pull_side(
    ctx: CycleContext,
    side: Side,
    listing: Listing,
    collecting: Mapping[Side, PullSoFar],
    work: ListingWork,
) -> None:
    listed = collecting[side]
    watched = await _watched(ctx, side, listing)
    try:
        async for page in listing.pages:
            listed.keep(page, work.on_page(side, page))
            watched.listed(listed.listed)
    finally:
        watched.done()
    await work.on_side_listed(side, listed.so_far, collecting[side.other].so_far)
    if listing.hinted:
        listed.cursor = None  # a look at some records is no pull: the next poll goes on
    else:
        listed.cursor = after_pull(listing.cursor, listed.cursor, listing.started, ctx.now())


async def _watched(ctx: CycleContext, side: Side, listing: Listing) -> SideListing:
    """Who watches a whole listing come in; changes since the cursor come quickly. A
    sweep lists about as many records as are linked; a first sync, what its side counts."""
    if not listing.whole:
        return NO_PROGRESS.listing(ctx.lane, side, None)
    expected: int | None
    if listing.cursor is not None:
        expected = await ctx.store.link_count(ctx.connection, ctx.entity)
    else:
        expected = await first_total(ctx.progress, ctx.gateways[side], ctx.entity)
    return ctx.progress.listing(ctx.lane, side, expected)


async def _read_again(
    lookups: CycleLookups, listed: PullSoFar, side: Side, ids: Sequence[str]
) -> None:
    """Records the listing did not keep, whose pair found while listing was not final:
    matched with the rest after all."""
    if ids:
        page = await lookups.read(side, ids)
        listed.records.update((r.id, r) for r in page.records)
        listed.rejected.extend(page.rejected)
        listed.decided_while_listing -= len(ids)
