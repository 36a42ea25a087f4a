"""A create whose answer never came may still be saved later (AFAS goes on with a write
whose caller gave up): within the side's ``outcome_window`` it is not sent again, so a
late save does not leave the company twice on that side (found by the fault campaign)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from syncd.errors import OutcomeUnknownError
from syncd.gateways.memory import MemoryGateway
from syncd.records import Record, Value
from syncd.state.store import StateStore
from tests.engine.test_cycle import AFAS, CRM, ENTITY, MAPPING, RULES, World


class SavesLate:
    """A side that answers no create, and saves each one only when told to."""

    def __init__(self, inner: MemoryGateway, window: timedelta) -> None:
        self.inner = inner
        self.outcome_window = window
        self.unsaved: list[tuple[Mapping[str, Value], str]] = []

    def __getattr__(self, name: str) -> Any:
        if name == "create_batch":  # one create per request, so each can be held back
            raise AttributeError(name)
        return getattr(self.inner, name)

    async def create(self, entity: str, fields: Mapping[str, Value], correlation: str) -> Record:
        self.unsaved.append((fields, correlation))
        raise OutcomeUnknownError("no answer within the timeout")

    async def save(self) -> None:
        for fields, correlation in self.unsaved:
            await self.inner.create(ENTITY, fields, correlation)
        self.unsaved.clear()


def _late(world: World, window: timedelta) -> SavesLate:
    late = SavesLate(world.afas, window)
    world.afas = late  # type: ignore[assignment]
    return late


async def test_a_create_saved_after_the_next_cycle_is_linked_not_repeated(
    store: StateStore,
) -> None:
    world = World(store, RULES, MAPPING)
    crm_id = world.put(CRM, name="Atlas", kvk="27654321")
    late = _late(world, timedelta(minutes=10))

    first = await world.cycle()
    assert first.counts["outcome_unknown"] == 1
    second = await world.cycle()  # not found yet, but it may still be saved: wait
    assert len(late.unsaved) == 1  # not sent again
    assert not second.counts["created_afas"]

    await late.save()  # Profit finishes the write it had in hand
    await world.cycle()
    assert len(world.all(AFAS)) == 1
    assert await world.partner(CRM, crm_id) == late.inner.rows(ENTITY)[0][MAPPING.afas.id]


async def test_a_create_not_saved_within_the_window_is_sent_again(store: StateStore) -> None:
    world = World(store, RULES, MAPPING)
    crm_id = world.put(CRM, name="Atlas", kvk="27654321")
    late = _late(world, timedelta(milliseconds=200))
    await world.cycle()
    late.unsaved.clear()  # that request was lost for good

    await asyncio.sleep(0.3)  # the window passes
    world.afas = late.inner
    report = await world.cycle()
    assert report.counts["created_afas"] == 1
    assert len(world.all(AFAS)) == 1
    assert await world.partner(CRM, crm_id)
