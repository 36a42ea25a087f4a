"""A failed cycle closes a side's listing only after the pull reading it has stopped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncd.engine.cycle import Connection, run_cycle
from syncd.errors import TransientError
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import load_mapping
from syncd.policy import Guards, SyncRules
from syncd.records import Page, Side

CRM, AFAS = Side.CRM, Side.AFAS
ENTITY = "customer"
MAPPING = load_mapping(Path(__file__).resolve().parents[1] / "data" / "stateful_customer.toml")


class Stalling:
    """A memory gateway whose listings, once ``stall`` is set, bring their pages and
    then wait for the answer to one more request, which never comes."""

    def __init__(self, inner: MemoryGateway) -> None:
        self.inner = inner
        self.stall = False
        self.waiting = asyncio.Event()  # a listing is mid-request
        self.stopped = False  # that listing has ended

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def list_all(self, entity: str) -> AsyncIterator[Page]:
        return self._pages(self.inner.list_all(entity))

    def changed_since(self, entity: str, since: datetime | None) -> AsyncIterator[Page]:
        return self._pages(self.inner.changed_since(entity, since))

    async def _pages(self, pages: AsyncIterator[Page]) -> AsyncIterator[Page]:
        async for page in pages:
            yield page
        if not self.stall:
            return
        try:
            self.waiting.set()
            await asyncio.Event().wait()
        finally:
            self.stopped = True


class FailingWhileOtherWaits(Stalling):
    """Its listings, once ``stall`` is set, fail while ``other``'s waits for a page."""

    def __init__(self, inner: MemoryGateway, other: Stalling) -> None:
        super().__init__(inner)
        self.other = other

    async def _pages(self, pages: AsyncIterator[Page]) -> AsyncIterator[Page]:
        if self.stall:
            await self.other.waiting.wait()
            raise TransientError("503 Service Unavailable")
        async for page in pages:
            yield page


@pytest.mark.parametrize("first_sync", [True, False], ids=["first sync", "incremental"])
async def test_a_side_that_fails_mid_listing_stops_the_other_sides_pull_first(
    store: Any, first_sync: bool
) -> None:
    afas = Stalling(MemoryGateway(AFAS, {ENTITY: MAPPING}, page_size=2))
    crm = FailingWhileOtherWaits(MemoryGateway(CRM, {ENTITY: MAPPING}, page_size=2), afas)
    for n in range(3):
        crm.inner.put(ENTITY, MAPPING.to_native(CRM, {"name": f"CRM {n}"}))
        afas.inner.put(ENTITY, MAPPING.to_native(AFAS, {"name": f"AFAS {n}"}))
    conn = Connection(
        "test",
        {CRM: crm, AFAS: afas},
        store,
        {ENTITY: MAPPING},
        SyncRules(guards=Guards(min_records_for_share=1000)),
        overlap=timedelta(minutes=5),
    )
    if not first_sync:
        await run_cycle(conn, ENTITY)
    crm.stall = afas.stall = True

    # The cycle fails with the side's error, not with closing a listing still being read.
    with pytest.raises(TransientError):
        await run_cycle(conn, ENTITY)

    assert afas.stopped
