"""Hints: records a lane should look at before its next poll.

A hint names records, never what they hold. Whoever learns of a change early (HubSpot's
webhooks or its Webhooks Journal now; later an adaptive AFAS poll) adds the ids to the
lane's :class:`LaneHints`; the daemon then runs a *hinted* cycle that reads just those
records by id and reconciles them as any cycle does. A hint that is lost, late, repeated
or forged therefore changes nothing a poll would not: at worst it costs a read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from syncd.records import Side

HintedIds = Mapping[Side, frozenset[str]]
"""Per side, the ids a hinted cycle reads by id (a side without any lists nothing)."""


class LaneHints:
    """The ids due for a look in one lane, deduplicated until a hinted cycle takes them."""

    def __init__(self) -> None:
        self._pending: dict[Side, set[str]] = {side: set() for side in Side}
        self._due = asyncio.Event()

    def add(self, side: Side, ids: Iterable[str]) -> None:
        """Note ``ids`` of ``side``; an id already waiting is not added twice."""
        before = len(self._pending[side])
        self._pending[side].update(ids)
        if len(self._pending[side]) > before:
            self._due.set()

    @property
    def waiting(self) -> int:
        return sum(len(ids) for ids in self._pending.values())

    async def wait(self) -> None:
        """Return once some ids wait."""
        await self._due.wait()

    def take(self) -> HintedIds:
        """All waiting ids, which no longer wait."""
        taken = {side: frozenset(ids) for side, ids in self._pending.items()}
        for ids in self._pending.values():
            ids.clear()
        self._due.clear()
        return taken


class Hints:
    """Every lane's hints, by connection and entity; sources add, the daemon takes."""

    def __init__(self) -> None:
        self._lanes: dict[tuple[str, str], LaneHints] = {}

    def lane(self, connection: str, entity: str) -> LaneHints:
        return self._lanes.setdefault((connection, entity), LaneHints())

    def add(self, connection: str, entity: str, side: Side, ids: Iterable[str]) -> bool:
        """Hint ``ids`` to a lane; False when no such lane runs (nothing is kept)."""
        lane = self._lanes.get((connection, entity))
        if lane is None:
            return False
        lane.add(side, ids)
        return True
