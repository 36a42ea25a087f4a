"""Settling many from the status page: a filter narrows the list (changing nothing), a
bulk button first shows which records (a dry run, nothing written), and only the
confirming POST settles them, each as if alone: journalled, its own event naming who."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from syncd.clock import utc_now
from syncd.events import EventName
from syncd.records import Side
from syncd.state.rows import JournalAction, Quarantined
from syncd.state.store import StateStore
from syncd.status.desk import Desk
from syncd.status.server import StatusSource, make_app
from tests.engine.test_cycle import MAPPING, RULES, World
from tests.status.test_page_actions import TOKEN, Client, closed_events, form_token, origin

BY = "office (127.0.0.1)"


def serve(world: World, *, actions: bool) -> Client:
    source = StatusSource(world.store, [("test", "customer")], mappings={"customer": MAPPING})
    desk = Desk({"test": world.conn}, operator="office") if actions else None
    return TestClient(TestServer(make_app(source, token=TOKEN, desk=desk)))


@pytest.fixture
def world(store: StateStore) -> World:
    return World(store, RULES, MAPPING)


@pytest.fixture
async def acting(world: World) -> AsyncIterator[Client]:
    async with serve(world, actions=True) as client:
        yield client


async def conflicts(world: World, fields: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Per company name, a pair whose ``fields[name]`` both sides changed differently."""
    made = {name: world.put(Side.CRM, name=name, city="Leiden") for name in fields}
    await world.cycle()
    pairs = {name: (crm, await world.partner(Side.CRM, crm)) for name, crm in made.items()}
    for name, (crm_id, afas_id) in pairs.items():
        field = fields[name]
        world.edit(Side.CRM, crm_id, **{field: "crm " + name})
        world.edit(Side.AFAS, afas_id, **{field: "afas " + name})
    await world.cycle()
    assert len(await world.store.conflicts("test")) == len(fields)
    return pairs


def hidden_fields(page: str) -> dict[str, str]:
    """The confirmation form's fields, as the browser would post them back."""
    return dict(re.findall(r"type='hidden' name='([^']+)' value='([^']*)'", page))


async def test_the_filter_narrows_the_list_and_changes_nothing(world: World) -> None:
    await conflicts(world, {"Atlas": "city", "Bakker": "city", "Coolen": "phone"})
    async with serve(world, actions=False) as client:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        phone = await (await client.get("/conflicts?field=phone", headers=auth)).text()
        assert "open conflicts (1)" in phone
        assert "crm Coolen" in phone
        assert "Atlas" not in phone
        found = await (await client.get("/conflicts?search=BAKK", headers=auth)).text()
        assert "open conflicts (1)" in found
        assert "crm Bakker" in found
        assert "method='post'" not in found  # read-only: a filter, no bulk buttons
        bad = await client.get("/conflicts?older=soon", headers=auth)
        assert bad.status == 400
        assert "give a number and a unit" in await bad.text()
    assert len(await world.store.conflicts("test")) == 3


async def test_the_bulk_confirmation_lists_the_records_and_writes_nothing(
    world: World, acting: Client
) -> None:
    pairs = await conflicts(world, {"Atlas": "city", "Bakker": "city", "Coolen": "phone"})
    csrf = await form_token(acting, "/conflicts?field=city")
    listed = await (await acting.get("/conflicts?field=city")).text()
    assert "take AFAS for all 2 shown" in listed
    asked = await acting.post(
        "/conflicts/bulk",
        data={"field": "city", "take": "afas", "csrf": csrf},
        headers=origin(acting),
    )
    page = await asked.text()
    assert asked.status == 200
    assert "Nothing is written yet. 2 would be settled" in page
    for name in ("Atlas", "Bakker"):
        crm_id, afas_id = pairs[name]
        assert f"{name}<br><small>HubSpot {crm_id}, AFAS debtor {afas_id}</small>" in page
    assert "Coolen" not in page
    assert len(await world.store.conflicts("test")) == 3
    assert await closed_events(world.store) == []
    assert world.fields(Side.CRM, pairs["Atlas"][0])["city"] == "crm Atlas"


async def test_the_confirmed_bulk_settles_each_as_if_alone(world: World, acting: Client) -> None:
    pairs = await conflicts(world, {"Atlas": "city", "Bakker": "city", "Coolen": "phone"})
    csrf = await form_token(acting, "/conflicts")
    dry = await acting.post(
        "/conflicts/bulk",
        data={"field": "city", "take": "afas", "csrf": csrf},
        headers=origin(acting),
    )
    links = [c.link_id for c in await world.store.conflicts("test")]
    started = utc_now()
    done = await acting.post(
        "/conflicts/bulk", data=hidden_fields(await dry.text()), headers=origin(acting)
    )
    page = await done.text()
    assert "take AFAS: 2 settled, 0 skipped, 0 failed" in page
    for name in ("Atlas", "Bakker"):
        assert world.fields(Side.CRM, pairs[name][0])["city"] == f"afas {name}"
    [left] = await world.store.conflicts("test")
    assert left.field == "phone"
    closed = await closed_events(world.store)
    assert sorted(e.record or "" for e in closed) == sorted(
        pairs[n][0] for n in ("Atlas", "Bakker")
    )
    assert {e.data["by"] for e in closed} == {BY}
    journal = await world.store.recent_updates(links, started)
    written = [(e.action, e.target, e.fields) for entries in journal.values() for e in entries]
    assert sorted(written, key=str) == [
        (JournalAction.UPDATE, Side.CRM, {"city": "afas Atlas"}),
        (JournalAction.UPDATE, Side.CRM, {"city": "afas Bakker"}),
    ]


async def test_a_filter_that_narrows_nothing_needs_all(world: World, acting: Client) -> None:
    await conflicts(world, {"Atlas": "city", "Bakker": "phone"})
    csrf = await form_token(acting, "/conflicts")
    assert "all 2: no filter narrows them" in await (await acting.get("/conflicts")).text()
    bare = {"take": "crm", "csrf": csrf}
    refused = await acting.post("/conflicts/bulk", data=bare, headers=origin(acting))
    assert refused.status == 409
    assert "no filter chosen" in await refused.text()
    meant = await acting.post(
        "/conflicts/bulk", data={**bare, "all": "yes"}, headers=origin(acting)
    )
    assert "2 would be settled" in await meant.text()
    assert len(await world.store.conflicts("test")) == 2


async def test_bulk_needs_csrf_and_actions(world: World, acting: Client) -> None:
    await conflicts(world, {"Atlas": "city"})
    await form_token(acting, "/conflicts")  # the browser holds its nonce, not the form's token
    for path, form in (("/conflicts/bulk", {"take": "crm"}), ("/quarantine/bulk", {"do": "drop"})):
        missing = await acting.post(path, data={**form, "all": "yes"}, headers=origin(acting))
        assert missing.status == 403
        assert "CSRF" in await missing.text()
    async with serve(world, actions=False) as client:
        headers = {"Authorization": f"Bearer {TOKEN}", **origin(client)}
        off = await client.post(
            "/conflicts/bulk", data={"take": "crm", "all": "yes"}, headers=headers
        )
        assert off.status == 403
        assert "[status] actions" in await off.text()
    assert len(await world.store.conflicts("test")) == 1


async def hold(store: StateStore, side: Side, record_id: str, name: str, reason: str) -> None:
    async with store.transaction() as tx:
        await tx.quarantine(
            Quarantined("test", "customer", side, record_id, reason, fields={"name": name})
        )


async def test_the_quarantine_names_its_records_and_retries_and_drops_in_bulk(
    world: World, acting: Client
) -> None:
    await hold(world.store, Side.AFAS, "10007", "Bakkerij de Vries", "Postcode is niet geldig")
    await hold(world.store, Side.CRM, "901", "Smit BV", "phone: not a number")
    csrf = await form_token(acting, "/quarantine")
    page = await (await acting.get("/quarantine?side=afas")).text()
    assert "Bakkerij de Vries<br><small>AFAS debtor 10007</small>" in page
    assert "Smit BV" not in page
    assert "retry all 1 shown" in page

    asked = await acting.post(
        "/quarantine/bulk",
        data={"side": "afas", "do": "retry", "csrf": csrf},
        headers=origin(acting),
    )
    confirm = await asked.text()
    assert "1 would be settled" in confirm
    assert all(q.next_attempt is None for q in await world.store.quarantined("test"))
    # Quarantined after the confirmation was shown: not listed, so not retried unseen.
    await hold(world.store, Side.AFAS, "10008", "Jansen Bouw", "Postcode is niet geldig")
    done = await acting.post(
        "/quarantine/bulk", data=hidden_fields(confirm), headers=origin(acting)
    )
    assert "retry: 1 settled, 0 skipped, 0 failed" in await done.text()
    due = {q.record_id: q.next_attempt for q in await world.store.quarantined("test")}
    assert due["10007"] is not None
    assert due["10008"] is None
    assert due["901"] is None
    retried = await world.store.events("test", names=[str(EventName.RETRY_REQUESTED)])
    assert [(e.record, e.data["by"]) for e in retried] == [("10007", BY)]

    dropping = await acting.post(
        "/quarantine/bulk",
        data={"search": "postcode", "do": "drop", "csrf": csrf},
        headers=origin(acting),
    )
    dropped = await acting.post(
        "/quarantine/bulk", data=hidden_fields(await dropping.text()), headers=origin(acting)
    )
    assert "drop: 2 settled" in await dropped.text()
    assert [q.record_id for q in await world.store.quarantined("test")] == ["901"]
    released = await world.store.events("test", names=[str(EventName.RECORD_RELEASED)])
    assert sorted((e.record, e.data["by"]) for e in released) == [("10007", BY), ("10008", BY)]
