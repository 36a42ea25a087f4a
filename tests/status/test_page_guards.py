"""The guards page: per lane, each tripped guard, then what its held-back plan would
write, record by record; confirming is the CLI's own confirmation."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from syncd.engine import held_plan
from syncd.engine.cycle import Connection
from syncd.state.rows import StatusEvent
from syncd.state.store import StateStore
from syncd.status.desk import Desk
from syncd.status.server import StatusSource, make_app
from tests.engine.test_guards import ENTITY, RULES, Systems

TOKEN = "guards-s3cret"


async def a_mass_delete(store: StateStore) -> list[str]:
    """Six linked companies, three of them deleted in HubSpot: the guard holds the plan."""
    systems = Systems(store)
    ids = await systems.linked_then_deleted(6, 3)
    assert not (await systems.cycle()).applied
    return ids


def serve(store: StateStore, *, actions: bool) -> TestClient[web.Request, web.Application]:
    source = StatusSource(store, [("test", ENTITY)])
    conn = Connection("test", {}, store, {}, RULES)  # confirming touches the store only
    desk = Desk({"test": conn}, operator="office") if actions else None
    return TestClient(TestServer(make_app(source, token=TOKEN, desk=desk)))


async def test_the_page_shows_what_the_held_plan_would_write(store: StateStore) -> None:
    ids = await a_mass_delete(store)
    async with serve(store, actions=True) as client:
        page = await (await client.get("/guards", params={"token": TOKEN})).text()
        csrf = re.search(r"name='csrf' value='([0-9a-f]+)'", page)
        assert csrf is not None
        origin = str(client.make_url("/")).rstrip("/")
        confirmed = await client.post(
            "/guards/confirm",
            data={"connection": "test", "entity": ENTITY, "csrf": csrf.group(1)},
            headers={"Origin": origin},
        )
        assert "Guards of test/customer confirmed" in await confirmed.text()

    assert "<h2>test/customer</h2>" in page
    assert "<td>delete_share</td><td>3 of 6 linked customer records are gone" in page
    assert "would write: deactivate AFAS 3." in page
    for n, crm_id in enumerate(ids[:3]):
        assert re.search(
            f"<td>deactivate AFAS</td><td>Firma {n}<br><small>HubSpot {crm_id}, ", page
        )
    assert "Firma 3" not in page  # not deleted: nothing to write
    assert "more" not in page
    [event] = await store.events("test", names=["guard_confirmed"])
    assert event.data["guards"] == {"delete_share": 3}


async def test_a_big_plan_shows_its_first_writes_and_how_many_more(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(held_plan, "SHOWN", 2)
    await a_mass_delete(store)
    async with serve(store, actions=False) as client:
        page = await (await client.get("/guards", params={"token": TOKEN})).text()

    assert page.count("<td>deactivate AFAS</td>") == 2
    assert "would write: deactivate AFAS 3." in page
    assert "and 1 more" in page
    assert "method='post'" not in page  # read-only: no confirm button


async def test_a_guard_whose_plan_was_not_kept_points_to_syncd_plan(store: StateStore) -> None:
    async with store.transaction() as tx:
        await tx.add_event(
            StatusEvent("test", ENTITY, "guard_tripped", data={"guard": "empty_side", "count": 4})
        )
    async with serve(store, actions=False) as client:
        page = await (await client.get("/guards", params={"token": TOKEN})).text()
    assert "<td>empty_side</td>" in page
    assert "not kept; &#x27;syncd plan&#x27; shows it" in page
