"""Quiet polls: an idle lane's poll that only lists its changes, and finds none.

Most polls of a running daemon find nothing new. A whole cycle would still read what
stands in the state store (quarantine, the journal, links, cursors) and write its start
and end there: about a dozen round trips to the database, where the two listings cost a
fraction of one. So a lane remembers what its last cycle left (:class:`QuietLanes`):
when that cycle left nothing standing that time brings due (a record in quarantine, a
write in doubt, a deferred record), the next poll takes the cursors from memory and
lists both sides' changes. If they bring nothing but the records the cursors stand on
(a listing of changes since the newest one seen lists that one again), it is done:
nothing was read from or written to the store. Anything else, and the cycle goes on as
a whole one with the pages already read. Within the overlap window after a change
(``cursors.pull_start``) every record listed counts as news, so such polls are whole.

What the memory does not see, someone else writes: an operator settles a conflict or a
quarantined record, a replica takes the lane over, a company lane links the companies a
contact lane waits for. Each of these writes status events of the connection, which the
daemon reads anyway for its log; it calls :meth:`QuietLanes.disturb` for them, and every
lane of the connection runs its next poll as a whole cycle. A cycle that began before
such a disturbance is not remembered either, so nothing falls between.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import replace
from datetime import datetime

from syncd.engine.speed.seam import Pages
from syncd.records import Cursor, Page, Record, Side

Cursors = Mapping[Side, Cursor | None]  # per side; None: the side never listed a record


class QuietLanes:
    """A connection's lanes: what each one's last cycle left, while nothing disturbed it."""

    def __init__(self) -> None:
        self.generation = 0  # disturbances so far
        self._remembered: dict[str, Cursors] = {}  # all forgotten at each disturbance

    def disturb(self) -> None:
        """Something happened in the connection outside its lanes' cycles."""
        self.generation += 1
        self._remembered.clear()

    def start(self, entity: str) -> Cursors | None:
        """The cursors the next poll of ``entity`` may begin quietly from (its last cycle's,
        moved on by quiet polls since); None: it runs as a whole cycle."""
        return self._remembered.get(entity)

    def remember(self, entity: str, cursors: Cursors | None, since: int) -> None:
        """What a cycle that began at generation ``since`` left: the cursors when nothing
        stands (else None). Kept only when nothing disturbed the lane meanwhile."""
        if cursors is not None and since == self.generation:
            self._remembered[entity] = dict(cursors)
        else:
            self.forget(entity)

    def forget(self, entity: str) -> None:
        """The lane's next poll runs as a whole cycle."""
        self._remembered.pop(entity, None)

    def polled(self, entity: str, started: datetime) -> None:
        """A quiet poll that began at ``started`` listed nothing: each cursor's pull
        time moves on, as a cycle's commit would have moved it (cursors.after_pull)."""
        cursors = self._remembered.get(entity)
        if cursors is not None:
            self._remembered[entity] = {
                side: replace(c, pulled_at=started) if c else None for side, c in cursors.items()
            }


async def nothing_listed(
    pages: MutableMapping[Side, Pages], seen: Mapping[Side, Callable[[Record], bool]]
) -> bool:
    """Whether every side's listing brings nothing but records ``seen`` before (a listing
    of changes since the newest one seen lists that one again); if a side brings more,
    every side's pages are handed back whole, those read put back in front, so the
    cycle reads each page once and lists what it would have listed."""
    found = {side: await _up_to_news(listing, seen[side]) for side, listing in pages.items()}
    if not any(news for _, news in found.values()):
        return True
    for side, (read, _) in found.items():
        pages[side] = PutBack(read, pages[side])
    return False


async def _up_to_news(listing: Pages, seen: Callable[[Record], bool]) -> tuple[list[Page], bool]:
    """The listing's pages up to its first with news (or to its end), and whether any."""
    read: list[Page] = []
    async for page in listing:
        read.append(page)
        # Other entities' records (``others``) only help a create: with no record of
        # this entity's to create, they are nothing to act on.
        if page.rejected or page.moved or not all(map(seen, page.records)):
            return read, True
    return read, False


class PutBack:
    """``read`` (pages already read) and then the rest of ``rest``."""

    def __init__(self, read: list[Page], rest: Pages) -> None:
        self._read = list(read)
        self._rest = rest

    def __aiter__(self) -> PutBack:
        return self

    async def __anext__(self) -> Page:
        if self._read:
            return self._read.pop(0)
        return await anext(self._rest)

    async def aclose(self) -> None:
        self._read.clear()
        await self._rest.aclose()
