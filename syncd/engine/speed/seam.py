"""The one interface between a cycle's stages and what makes cycles fast."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from syncd.engine.actions import Action, Note, PairState, Plan
from syncd.engine.apply.applier import Applier
from syncd.mapping import EntityMapping
from syncd.policy import SyncRules
from syncd.records import Page, Record, Side
from syncd.state.rows import Link

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass(frozen=True)
class ListingShape:
    """What kind of listing a cycle runs."""

    entity: str
    dry_run: bool
    full: bool  # a sweep: both sides listed whole
    first: bool  # neither side was ever pulled: both listed whole
    changes: bool  # both sides list their changes since their cursors


@dataclass(frozen=True)
class DoneWhileListing:
    """What a strategy did beside the listings, for the stages after them."""

    handled: frozenset[int] = frozenset()  # links the cycle's plan leaves be
    applied: tuple[Action, ...] = ()  # applied already: for the report
    held: tuple[Action, ...] = ()  # counted by the guards: judged with the cycle's plan
    notes: tuple[Note, ...] = ()
    paired: tuple[Action, ...] = ()  # planned already: added to the cycle's plan
    decided: Mapping[Side, frozenset[str]] = field(default_factory=dict)  # done with
    set_aside: Mapping[Side, tuple[str, ...]] = field(default_factory=dict)  # read again


class CycleAccess(Protocol):
    """What a strategy may ask of the running cycle."""

    @property
    def mapping(self) -> EntityMapping: ...

    @property
    def rules(self) -> SyncRules: ...

    @property
    def applier(self) -> Applier: ...

    def create_cutoff(self, side: Side) -> datetime: ...

    async def first_sync_alone(self) -> bool:
        """Nothing was ever linked, nothing waits in quarantine, doubt or review."""
        ...

    async def declined(self) -> frozenset[tuple[str, str]]: ...

    def creates_later(self) -> frozenset[Side]: ...

    async def links_of(self, side: Side, ids: Sequence[str]) -> dict[str, Link]: ...

    async def read(self, side: Side, ids: Sequence[str]) -> Page: ...

    async def leaves_alone(self) -> Callable[[Side, Link, Record], bool]:
        """Whether a pair is one the cycle's own plan sees to, or that needs nothing."""
        ...

    def unreadable(self, side: Side, record_id: str) -> bool: ...

    async def plan_pairs(self, pairs: list[PairState]) -> Plan: ...

    async def apply(self, actions: list[Action]) -> None: ...

    def listed_record(self, side: Side, record_id: str) -> Record | None:
        """``side``'s record as its listing brought it so far (None: not yet, or never)."""
        ...

    async def agreement(self) -> Callable[[Link, Record, Record], bool]:
        """Whether a pair needs nothing of the plan: both records at the base, nothing
        open or waiting on it."""
        ...

    def forget_listed(self, side: Side, ids: Sequence[str]) -> None: ...


class ListingWork(Protocol):
    """A strategy's work beside one cycle's listings."""

    @property
    def links_unread(self) -> bool:
        """True when nothing was ever linked, so no link needs reading."""
        ...

    def on_page(self, side: Side, page: Page) -> set[str]:
        """A page of ``side`` came: the ids of its records this work is done with."""
        ...

    async def on_side_listed(
        self, side: Side, listed: Callable[[], Page], waiting: Callable[[], Page]
    ) -> None:
        """``side`` is listed whole (``listed()``); ``waiting()`` is what the other side
        listed so far."""
        ...

    async def beside(self, listing: Awaitable[object]) -> None:
        """Wait for ``listing`` with this work beside it (the first error stops both)."""
        ...

    def outcome(self) -> DoneWhileListing: ...

    async def finish(self) -> None:
        """Wait for what goes on after the listings (a first sync's creates)."""
        ...

    async def stop(self) -> None:
        """Cancel what still runs (a failed cycle), and wait until it has stopped."""
        ...


class Pages(Protocol):
    """A listing's pages, as the pull reads them."""

    def __aiter__(self) -> Pages: ...

    async def __anext__(self) -> Page: ...

    async def aclose(self) -> None:
        """Stop: no request left running or unheard (once no one reads the pages)."""
        ...


class SpeedStrategy(Protocol):
    """How a cycle's stages are sped up; the plain strategy leaves them as they are."""

    @property
    def polls_quietly(self) -> bool:
        """An idle lane's poll that lists nothing new touches nothing else
        (:mod:`syncd.engine.speed.quiet`), where its connection remembers its lanes."""
        ...

    def pages(self, listing: AsyncIterator[Page]) -> Pages:
        """A listing's pages, asked for as the cycle begins or when first read."""
        ...

    def cycle_running(self) -> AbstractAsyncContextManager[None]:
        """Held for the whole cycle."""
        ...

    async def run_pure(self, pure: Callable[[In], Out], inputs: In) -> Out:
        """``pure(inputs)``, in the loop or beside it."""
        ...

    async def beside_listing(self, shape: ListingShape, cycle: CycleAccess) -> ListingWork:
        """The work to do beside this cycle's listings."""
        ...
