"""The apply phase's write lanes: batches kept in flight per side, both sides at once,
and every intent in the journal before its request is sent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import pytest

from syncd.engine.actions import Action, Create
from syncd.engine.apply.applier import Applier
from syncd.engine.apply.lanes import IN_FLIGHT
from syncd.errors import TransientError
from syncd.gateways.base import BatchOutcome
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import load_mappings
from syncd.records import Record, Side, Value
from syncd.state.store import StateStore
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS

ENTITY = "customer"
CONNECTION = "lanes"
PATIENCE = 10.0  # seconds a held batch waits before the test gives up waiting for company


class Flight:
    """The batches in flight on both sides, and whether one has failed."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.failed = False
        self.changed = asyncio.Condition()

    async def enter(self, name: str) -> None:
        async with self.changed:
            self.names.append(name)
            self.changed.notify_all()

    async def leave(self, name: str, *, failed: bool = False) -> None:
        async with self.changed:
            self.names.remove(name)
            self.failed |= failed
            self.changed.notify_all()

    async def wait_for(self, count: int) -> None:
        """Until ``count`` batches are in flight or one has failed (or PATIENCE is up:
        the assertions on what was in flight then say what went wrong)."""
        async with self.changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.changed.wait_for(lambda: len(self.names) >= count or self.failed),
                    PATIENCE,
                )


class Watched(MemoryGateway):
    """A memory side that notes, for each batch it is sent, which intents were not yet
    in the journal and which batches were in flight with it. Its first ``held``
    batches wait for ``company`` batches in flight; a batch in ``fail_batches`` fails."""

    def __init__(self, side: Side, store: StateStore, flight: Flight, company: int) -> None:
        super().__init__(side, load_mappings(SHIPPED_MAPPINGS, [ENTITY]))
        self.store = store
        self.flight = flight
        self.company = company
        self.held = IN_FLIGHT
        self.fail_batches: set[int] = set()
        self.seen_in_flight: list[list[str]] = []
        self.unjournalled: list[str] = []
        self.batches = 0

    async def create_batch(
        self, entity: str, items: Sequence[tuple[Mapping[str, Value], str]]
    ) -> list[BatchOutcome]:
        number, self.batches = self.batches, self.batches + 1
        pending = {e.source_id for e in await self.store.pending_journal(CONNECTION, entity)}
        self.unjournalled += [key for _, key in items if key not in pending]
        name = f"{self.side}:{number}"
        await self.flight.enter(name)
        failed = number in self.fail_batches
        try:
            if failed:
                raise TransientError(f"{self.side} is down")
            if number < self.held:
                await self.flight.wait_for(self.company)
            self.seen_in_flight.append(list(self.flight.names))
            return await super().create_batch(entity, items)
        finally:
            await self.flight.leave(name, failed=failed)


def creates(target: Side, count: int) -> list[Action]:
    now = datetime.now(UTC)
    return [
        Create(
            target,
            Record(f"{target.other}-{n}", {"name": f"Company {n}"}, now),
            {"name": f"Company {n}"},
            {"name": f"Company {n}"},
        )
        for n in range(count)
    ]


def applier(store: StateStore, gateways: Mapping[Side, MemoryGateway]) -> Applier:
    return Applier(store, gateways, CONNECTION, ENTITY, {}, {}, lambda: datetime.now(UTC))


async def test_batches_of_both_sides_are_in_flight_together(store: StateStore) -> None:
    flight = Flight()
    everyone = len(Side) * IN_FLIGHT
    afas = Watched(Side.AFAS, store, flight, company=everyone)
    crm = Watched(Side.CRM, store, flight, company=everyone)

    counts = await applier(store, {Side.AFAS: afas, Side.CRM: crm}).apply(
        creates(Side.AFAS, 400) + creates(Side.CRM, 300)
    )

    assert counts["created_afas"] == 400
    assert counts["created_crm"] == 300
    assert (afas.batches, crm.batches) == (4, 3)
    assert afas.unjournalled == []  # write-ahead: every intent committed before its batch
    assert crm.unjournalled == []
    widest = max((names for gw in (afas, crm) for names in gw.seen_in_flight), key=len)
    by_side = {side: sum(n.startswith(f"{side}:") for n in widest) for side in Side}
    assert by_side == {Side.AFAS: IN_FLIGHT, Side.CRM: IN_FLIGHT}
    assert await store.pending_journal(CONNECTION, ENTITY) == []
    assert await store.link_count(CONNECTION, ENTITY) == 700


async def test_a_failed_batch_stops_new_ones_and_lets_those_sent_finish(
    store: StateStore,
) -> None:
    flight = Flight()
    afas = Watched(Side.AFAS, store, flight, company=len(Side) * IN_FLIGHT + 1)
    afas.held = 10  # every batch waits until the failing one has failed
    afas.fail_batches = {0}
    crm = Watched(Side.CRM, store, flight, company=1)

    with pytest.raises(TransientError):
        await applier(store, {Side.AFAS: afas, Side.CRM: crm}).apply(creates(Side.AFAS, 1000))

    assert afas.unjournalled == []
    assert IN_FLIGHT <= afas.batches < 10  # one sent alongside the failing one; then none
    assert await store.pending_journal(CONNECTION, ENTITY) == []  # failed or done, each
    # every batch sent but the failed one finished and committed its outcome
    assert await store.link_count(CONNECTION, ENTITY) == 100 * (afas.batches - 1)
