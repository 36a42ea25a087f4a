"""The fresh read before write: a record that changed after its side listed it is read
again before the plan writes over it (found by the fault campaign, where a Profit user's
edit made while syncd paged through the creditors was overwritten)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from syncd.gateways.memory import MemoryGateway
from syncd.records import Page
from syncd.state.store import StateStore
from tests.engine.test_cycle import AFAS, CRM, MAPPING, RULES, World


class EditsAfterListing:
    """A gateway whose user edits a record just after a listing has handed it out."""

    def __init__(self, inner: MemoryGateway) -> None:
        self.inner = inner
        self.then: Callable[[], None] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def changed_since(self, entity: str, since: datetime | None) -> AsyncIterator[Page]:
        async for page in self.inner.changed_since(entity, since):
            yield page
        self._edit()

    async def list_all(self, entity: str) -> AsyncIterator[Page]:
        async for page in self.inner.list_all(entity):
            yield page
        self._edit()

    def _edit(self) -> None:
        if self.then is not None:
            self.then()
            self.then = None


async def test_a_change_made_after_the_listing_is_not_overwritten(store: StateStore) -> None:
    world = World(store, RULES, MAPPING)
    crm_id = world.put(CRM, name="Atlas", kvk="27654321", city="Delft")
    await world.cycle()
    afas_id = await world.partner(CRM, crm_id)
    afas = EditsAfterListing(world.afas)
    world.afas = afas  # type: ignore[assignment]

    world.edit(AFAS, afas_id, phone="+31152001234")  # so the AFAS listing hands it out
    world.edit(CRM, crm_id, city="Leiden")
    afas.then = lambda: world.edit(AFAS, afas_id, city="Zeist")  # after it was listed
    report = await world.cycle()

    assert afas.then is None  # the user's edit was made
    assert world.fields(AFAS, afas_id)["city"] == "Zeist"  # not overwritten by "Leiden"
    assert world.fields(CRM, crm_id)["city"] == "Leiden"
    assert world.fields(CRM, crm_id)["phone"] == "+31152001234"  # the rest still flows
    assert report.counts["conflicts"] == 1  # changed on both sides: a person decides
    assert [c.field for c in await store.conflicts("test")] == ["city"]
