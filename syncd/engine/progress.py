"""How far a whole listing has come: the seam a progress bar watches.

A first sync and a full sweep list every record on both sides, which takes minutes at
tens of thousands of records. The cycle tells a :class:`ListingProgress` as pages arrive;
what shows it (a bar on a terminal, the status pages through the state store) lives with
the commands, and by default nothing does. A sweep expects as many records as are
linked; a first sync, what the side counts (:func:`first_total`), if it can.
"""

from __future__ import annotations

import logging
from typing import Protocol

from syncd.errors import GatewayError
from syncd.gateways.base import CountingGateway, Gateway
from syncd.records import Side

LOG = logging.getLogger(__name__)


class SideListing(Protocol):
    """One side's whole listing in one cycle."""

    def listed(self, count: int) -> None:
        """``count`` records listed so far."""

    def done(self) -> None:
        """The listing ended (or stopped)."""


class ListingProgress(Protocol):
    def listing(self, lane: str, side: Side, expected: int | None) -> SideListing:
        """A whole listing of ``lane`` (connection/entity) begins on ``side``;
        ``expected``: about how many records it will list, None when unknown."""


class _Unwatched:
    def listed(self, count: int) -> None:
        pass

    def done(self) -> None:
        pass


class NoProgress:
    """Nobody watches (JSON output, tests, the container)."""

    def listing(self, lane: str, side: Side, expected: int | None) -> SideListing:
        return _Unwatched()


NO_PROGRESS = NoProgress()


async def first_total(progress: ListingProgress, gateway: Gateway, entity: str) -> int | None:
    """About how many records a listing of everything on ``gateway``'s side will list,
    where nothing in the store tells (a first sync, a match plan): asked of a side that
    counts in one cheap request (HubSpot), and only when someone watches. None when
    not known; a failed count only leaves the total unknown."""
    if isinstance(progress, NoProgress) or not isinstance(gateway, CountingGateway):
        return None
    try:
        return await gateway.count_all(entity)
    except GatewayError as error:
        LOG.info("syncd: %s total not counted, shown as unknown: %s", gateway.side, error)
        return None
