"""Reads of many pages, without waiting for one page to ask for the next.

A keyset or cursor-paged listing knows where the next page starts as soon as a page's
raw answer is in, before anyone converts or uses it. Asking for the next page right then
lets its request (its latency, and the server's work) overlap this page's processing,
ours and the caller's (:func:`read_ahead`; one request ahead at most: memory stays one
page more). Reads by key come in chunks that do not depend on one another: they go side
by side (:func:`side_by_side`), the client keeping them within the system's limits. And
a caller with other work to do before it wants a listing's first page can have it asked
for at once (:class:`HeadStart`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Generic, TypeVar

Answer = TypeVar("Answer")
Item = TypeVar("Item")


async def read_ahead(
    first: Awaitable[Answer], following: Callable[[Answer], Awaitable[Answer] | None]
) -> AsyncIterator[Answer]:
    """The answers of a paged read, from ``first`` on; ``following(answer)`` is the
    request for the page after ``answer``, or None when ``answer`` is the last page."""
    ahead: asyncio.Future[Answer] = asyncio.ensure_future(first)
    try:
        while True:
            answer = await ahead
            request = following(answer)
            if request is not None:
                ahead = asyncio.ensure_future(request)
                # A task starts only when the loop gets to it: let it send its request
                # now, not after the caller's work on this page.
                await asyncio.sleep(0)
            yield answer
            if request is None:
                return
    finally:  # a caller that stops early leaves no request running or unheard
        if not ahead.done():
            ahead.cancel()
            await asyncio.gather(ahead, return_exceptions=True)
        elif not ahead.cancelled():
            ahead.exception()


async def side_by_side(reads: Iterable[Awaitable[Answer]]) -> list[Answer]:
    """The answers of independent reads run at once, in order; the first error stops
    the others and is raised as it is."""
    tasks = [asyncio.ensure_future(read) for read in reads]
    try:
        return await asyncio.gather(*tasks)
    finally:  # none left running or unheard
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class HeadStart(Generic[Item]):
    """``items``, the first of them asked for at once, not when the caller first wants
    it: its request is on its way while the caller does what it must do before."""

    def __init__(self, items: AsyncIterator[Item]) -> None:
        self._items = items
        self._first: asyncio.Future[Item] | None = asyncio.ensure_future(anext(items))

    def __aiter__(self) -> HeadStart[Item]:
        return self

    async def __anext__(self) -> Item:
        first, self._first = self._first, None
        return await (first if first is not None else anext(self._items))

    async def aclose(self) -> None:
        """Stop: no request left running or unheard (once no one reads the items)."""
        if self._first is not None:
            self._first.cancel()
            await asyncio.gather(self._first, return_exceptions=True)
            self._first = None
        close = getattr(self._items, "aclose", None)
        if close is not None:
            await close()
