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
from dataclasses import dataclass, replace
from datetime import datetime

from syncd.engine.speed.seam import Pages
from syncd.records import Cursor, Page, Record, Side


@dataclass(frozen=True)
class QuietStart:
    """A poll may be quiet: the cursors its lane's last cycle left (and quiet polls
    since moved on)."""

    cursors: Mapping[Side, Cursor | None]  # None: the side never listed a record yet


class QuietLanes:
    """A connection's lanes: what each one's last cycle left, while nothing disturbed it."""

    def __init__(self) -> None:
        self.generation = 0  # disturbances so far
        self._remembered: dict[str, tuple[int, dict[Side, Cursor | None]]] = {}

    def disturb(self) -> None:
        """Something happened in the connection outside its lanes' cycles."""
        self.generation += 1
        self._remembered.clear()

    def start(self, entity: str) -> QuietStart | None:
        """How the next poll of ``entity`` may begin quietly; None: as a whole cycle."""
        remembered = self._remembered.get(entity)
        if remembered is None or remembered[0] != self.generation:
            return None
        return QuietStart(dict(remembered[1]))

    def remember(self, entity: str, cursors: Mapping[Side, Cursor | None], since: int) -> None:
        """A cycle that began at generation ``since`` left nothing standing, and the
        cursors as given: remembered only when nothing disturbed the lane meanwhile."""
        if since == self.generation:
            self._remembered[entity] = (since, dict(cursors))
        else:
            self._remembered.pop(entity, None)

    def forget(self, entity: str) -> None:
        """The lane's next poll runs as a whole cycle."""
        self._remembered.pop(entity, None)

    def polled(self, entity: str, started: datetime) -> None:
        """A quiet poll that began at ``started`` listed nothing: each cursor's pull
        time moves on, as a cycle's commit would have moved it (cursors.after_pull)."""
        remembered = self._remembered.get(entity)
        if remembered is not None:
            moved = {
                s: replace(c, pulled_at=started) if c else None for s, c in remembered[1].items()
            }
            self._remembered[entity] = (remembered[0], moved)


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
