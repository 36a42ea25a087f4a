"""Paged reads with the next request already on its way.

A keyset or cursor-paged listing knows where the next page starts as soon as a page's
raw answer is in, before anyone converts or uses it. Asking for the next page right then
lets its request (its latency, and the server's work) overlap this page's processing,
ours and the caller's. One request ahead at most: memory stays one page more.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

Answer = TypeVar("Answer")


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
            yield answer
            if request is None:
                return
    finally:  # a caller that stops early leaves no request running or unheard
        if not ahead.done():
            ahead.cancel()
            await asyncio.gather(ahead, return_exceptions=True)
        elif not ahead.cancelled():
            ahead.exception()
