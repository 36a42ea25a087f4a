"""The straight pipeline: nothing beside the listings, pure work in the loop."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager

from syncd.engine.speed.seam import (
    CycleAccess,
    DoneWhileListing,
    In,
    ListingShape,
    ListingWork,
    Out,
    Pages,
)
from syncd.records import Page, Side


class NothingBeside:
    """Listings that only list: every record is left to the cycle's plan."""

    @property
    def links_unread(self) -> bool:
        return False

    def on_page(self, side: Side, page: Page) -> set[str]:
        return set()

    async def on_side_listed(
        self, side: Side, listed: Callable[[], Page], waiting: Callable[[], Page]
    ) -> None:
        return None

    async def beside(self, listing: Awaitable[object]) -> None:
        await listing

    def outcome(self) -> DoneWhileListing:
        return DoneWhileListing()

    async def finish(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class PagesWhenAsked:
    """A listing's pages, each asked for when the pull reads it."""

    def __init__(self, listing: AsyncIterator[Page]) -> None:
        self._listing = listing

    def __aiter__(self) -> PagesWhenAsked:
        return self

    async def __anext__(self) -> Page:
        return await anext(self._listing)

    async def aclose(self) -> None:
        return None  # nothing is asked for before it is read


class PlainSpeed:
    """DESIGN.md's pipeline as written: one stage after the other."""

    polls_quietly = False

    def pages(self, listing: AsyncIterator[Page]) -> Pages:
        return PagesWhenAsked(listing)

    def cycle_running(self) -> AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()

    async def run_pure(self, pure: Callable[[In], Out], inputs: In) -> Out:
        return pure(inputs)

    async def beside_listing(self, shape: ListingShape, cycle: CycleAccess) -> ListingWork:
        return NothingBeside()


PLAIN = PlainSpeed()
