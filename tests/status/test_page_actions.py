"""The status page's console over HTTP: read-only by default; with actions on, the token,
the page's origin and its CSRF token are required, and an action is the CLI's own."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from syncd.config import load_settings
from syncd.engine.cycle import Connection
from syncd.errors import ConfigError
from syncd.events import EventName
from syncd.records import Side
from syncd.state.rows import Quarantined, StatusEvent
from syncd.state.store import StateStore
from syncd.status.desk import Desk
from syncd.status.server import StatusSource, make_app
from tests.engine.test_cycle import MAPPING, RULES, World

TOKEN = "page-s3cret-token"
Client = TestClient[web.Request, web.Application]


async def a_conflict(world: World) -> tuple[str, str]:
    """A pair whose name both sides changed: a conflict left for a person."""
    crm_id = world.put(Side.CRM, name="Atlas")
    await world.cycle()
    afas_id = await world.partner(Side.CRM, crm_id)
    world.edit(Side.CRM, crm_id, name="Atlas Groep")
    world.edit(Side.AFAS, afas_id, name="Atlas B.V.")
    await world.cycle()
    return crm_id, afas_id


async def quarantine(store: StateStore) -> None:
    async with store.transaction() as tx:
        await tx.quarantine(
            Quarantined("test", "customer", Side.AFAS, "10007", "Postcode is niet geldig")
        )


def serve(world: World, *, actions: bool) -> TestClient[web.Request, web.Application]:
    conn: Connection = world.conn
    source = StatusSource(world.store, [("test", "customer")])
    desk = Desk({"test": conn}, operator="office") if actions else None
    return TestClient(TestServer(make_app(source, token=TOKEN, desk=desk)))


@pytest.fixture
def world(store: StateStore) -> World:
    return World(store, RULES, MAPPING)


@pytest.fixture
async def acting(world: World) -> AsyncIterator[Client]:
    async with serve(world, actions=True) as client:
        yield client


def origin(client: Client) -> dict[str, str]:
    return {"Origin": str(client.make_url("/")).rstrip("/")}


async def form_token(client: Client, path: str) -> str:
    """Opens a page with the token, as a person's first visit does; its forms' token."""
    page = await client.get(path, params={"token": TOKEN})
    found = re.search(r"name='csrf' value='([0-9a-f]+)'", await page.text())
    assert found, "the page renders its forms with a CSRF token"
    return found.group(1)


async def test_without_actions_the_page_has_no_forms_and_refuses_posts(world: World) -> None:
    await a_conflict(world)
    await quarantine(world.store)
    async with serve(world, actions=False) as client:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        for path in ("/conflicts", "/quarantine", "/guards"):
            page = await client.get(path, headers=auth)
            text = await page.text()
            assert page.status == 200
            assert "method='post'" not in text, path  # only the filter's GET form
        assert "Atlas Groep" in await (await client.get("/conflicts", headers=auth)).text()
        refused = await client.post(
            "/conflicts/1/resolve",
            data={"connection": "test", "take": "crm"},
            headers={**auth, **origin(client)},
        )
        assert refused.status == 403
        assert "[status] actions" in await refused.text()
    assert len(await world.store.conflicts("test")) == 1


async def test_actions_need_the_token(world: World, acting: Client) -> None:
    await a_conflict(world)
    assert (await acting.get("/conflicts")).status == 401
    posted = await acting.post(
        "/conflicts/1/resolve", data={"connection": "test", "take": "crm"}, headers=origin(acting)
    )
    assert posted.status == 401
    assert len(await world.store.conflicts("test")) == 1


async def test_a_post_without_the_csrf_token_or_from_elsewhere_is_refused(
    world: World, acting: Client
) -> None:
    await a_conflict(world)
    good = await form_token(acting, "/conflicts")  # the browser now holds its cookies
    resolve = {"connection": "test", "take": "crm"}
    missing = await acting.post("/conflicts/1/resolve", data=resolve, headers=origin(acting))
    assert missing.status == 403
    assert "CSRF" in await missing.text()
    forged = await acting.post(
        "/conflicts/1/resolve", data={**resolve, "csrf": "0" * 64}, headers=origin(acting)
    )
    assert forged.status == 403
    elsewhere = await acting.post(
        "/conflicts/1/resolve",
        data={**resolve, "csrf": good},
        headers={"Origin": "http://evil.example"},
    )
    assert elsewhere.status == 403
    assert "did not come from the status page" in await elsewhere.text()
    assert len(await world.store.conflicts("test")) == 1


async def test_take_hubspot_writes_afas_and_names_who_did_it(world: World, acting: Client) -> None:
    _crm_id, afas_id = await a_conflict(world)
    csrf = await form_token(acting, "/conflicts")
    [conflict] = await world.store.conflicts("test")
    done = await acting.post(
        f"/conflicts/{conflict.id}/resolve",
        data={"connection": "test", "take": "crm", "csrf": csrf},
        headers=origin(acting),
        allow_redirects=False,
    )
    assert done.status == 303
    assert done.headers["Location"].startswith("/conflicts?done=resolved")
    assert world.fields(Side.AFAS, afas_id)["name"] == "Atlas Groep"
    assert await world.store.conflicts("test") == []
    closed = await closed_events(world.store)
    assert closed[-1].data["by"] == "office (127.0.0.1)"


async def closed_events(store: StateStore) -> list[StatusEvent]:
    return await store.events("test", names=[str(EventName.CONFLICT_CLOSED)])


async def test_retry_and_drop_a_quarantined_record(world: World, acting: Client) -> None:
    await quarantine(world.store)
    csrf = await form_token(acting, "/quarantine")
    page = await (await acting.get("/quarantine")).text()
    assert "Postcode is niet geldig" in page  # the side's own message
    record = {"connection": "test", "entity": "customer", "side": "afas", "record": "10007"}
    retried = await acting.post(
        "/quarantine/retry", data={**record, "csrf": csrf}, headers=origin(acting)
    )
    assert "is due now" in await retried.text()
    [entry] = await world.store.quarantined("test")
    assert entry.next_attempt is not None
    asked = await world.store.events("test", names=[str(EventName.RETRY_REQUESTED)])
    assert asked[-1].data["by"] == "office (127.0.0.1)"
    assert asked[-1].record == "10007"

    await acting.post("/quarantine/drop", data={**record, "csrf": csrf}, headers=origin(acting))
    assert await world.store.quarantined("test") == []
    released = await world.store.events("test", names=[str(EventName.RECORD_RELEASED)])
    assert released[-1].data["by"] == "office (127.0.0.1)"


async def test_no_secret_reaches_the_page(world: World, acting: Client) -> None:
    await a_conflict(world)
    await quarantine(world.store)
    pages = [await form_token(acting, "/conflicts")]
    for path in ("/", "/conflicts", "/quarantine", "/guards", "/history?q=10007", "/status"):
        response = await acting.get(path)
        assert response.status == 200, path
        pages.append(await response.text())
        pages.extend(f"{k}={v.value}" for k, v in response.cookies.items())
    assert TOKEN not in "\n".join(pages)
    assert all(TOKEN not in c.value for c in acting.session.cookie_jar)


async def test_the_search_box_opens_a_records_history(world: World, acting: Client) -> None:
    crm_id, afas_id = await a_conflict(world)
    assert (await acting.get("/", params={"token": TOKEN})).status == 200  # the browser's cookie
    by_afas = await (await acting.get("/history", params={"q": afas_id})).text()
    by_crm = await (await acting.get("/history", params={"q": crm_id})).text()
    for text in (by_afas, by_crm):
        assert "conflict_opened" in text
        assert "record_created" in text
    unknown = await (await acting.get("/history", params={"q": "nobody"})).text()
    assert "No record nobody is known" in unknown


async def test_the_console_names_records_and_finds_them_by_name(
    world: World, acting: Client
) -> None:
    crm_id, afas_id = await a_conflict(world)  # agreed as "Atlas" before both renamed it
    assert (await acting.get("/", params={"token": TOKEN})).status == 200
    conflicts = await (await acting.get("/conflicts")).text()
    assert f"Atlas<br><small>HubSpot {crm_id}, AFAS debtor {afas_id}</small>" in conflicts
    by_name = await (await acting.get("/history", params={"q": "ATL"})).text()
    assert f"test/customer Atlas (HubSpot {crm_id}, AFAS debtor {afas_id})" in by_name
    assert "conflict_opened" in by_name


def test_actions_are_off_by_default_and_need_a_token_even_on_loopback(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    root = Path(__file__).resolve().parents[2]
    config = (
        f'[sync]\nmappings = "{root / "mappings"}"\n'
        '[connections.demo]\ncrm = { kind = "memory" }\nafas = { kind = "memory" }\n'
        "[status]\n"
    )
    path.write_text(config, encoding="utf-8")
    assert load_settings(path, env={}).status.actions is False
    path.write_text(config + "actions = true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"status\.actions") as refused:
        load_settings(path, env={})
    assert "token_env" in str(refused.value)
    path.write_text(config + 'actions = true\ntoken_env = "TOKEN"\n', encoding="utf-8")
    status = load_settings(path, env={"TOKEN": "t0k"}).status
    assert status.actions is True
    assert status.operator == "status page"


async def test_enter_a_value_writes_it_to_both_sides(world: World, acting: Client) -> None:
    crm_id, afas_id = await a_conflict(world)
    csrf = await form_token(acting, "/conflicts")
    [conflict] = await world.store.conflicts("test")
    await acting.post(
        f"/conflicts/{conflict.id}/resolve",
        data={"connection": "test", "value": "Atlas Holding", "csrf": csrf},
        headers=origin(acting),
    )
    assert world.fields(Side.CRM, crm_id)["name"] == "Atlas Holding"
    assert world.fields(Side.AFAS, afas_id)["name"] == "Atlas Holding"
    assert await world.store.conflicts("test") == []


async def test_confirm_a_tripped_guard(world: World, acting: Client) -> None:
    async with world.store.transaction() as tx:
        await tx.add_event(
            StatusEvent(
                "test",
                "customer",
                str(EventName.GUARD_TRIPPED),
                data={"guard": "delete_share", "message": "4 of 10 are gone", "count": 4},
            )
        )
    csrf = await form_token(acting, "/guards")
    assert "4 of 10 are gone" in await (await acting.get("/guards")).text()
    confirmed = await acting.post(
        "/guards/confirm",
        data={"connection": "test", "entity": "customer", "csrf": csrf},
        headers=origin(acting),
    )
    assert "confirmed" in await confirmed.text()
    [event] = await world.store.events("test", names=[str(EventName.GUARD_CONFIRMED)])
    assert event.data == {"guards": {"delete_share": 4}, "by": "office (127.0.0.1)"}
    nothing = await acting.post(
        "/guards/confirm",
        data={"connection": "test", "entity": "supplier", "csrf": csrf},
        headers=origin(acting),
    )
    assert nothing.status == 409  # nothing tripped there, and the page says so
    assert "no guard of test/supplier waits" in await nothing.text()


async def test_an_operator_with_a_token_of_their_own_is_named_in_what_they_do(
    world: World,
) -> None:
    _crm_id, afas_id = await a_conflict(world)
    source = StatusSource(world.store, [("test", "customer")])
    desk = Desk({"test": world.conn}, operator="office")
    app = make_app(source, token=TOKEN, desk=desk, operators={"Anouk": "anouks-own-t0ken"})
    async with TestClient(TestServer(app)) as client:
        page = await client.get("/conflicts", params={"token": "anouks-own-t0ken"})
        found = re.search(r"name='csrf' value='([0-9a-f]+)'", await page.text())
        assert found
        [conflict] = await world.store.conflicts("test")
        await client.post(  # with the session cookie her token set, not the token
            f"/conflicts/{conflict.id}/resolve",
            data={"connection": "test", "take": "afas", "csrf": found.group(1)},
            headers=origin(client),
        )
    assert world.fields(Side.AFAS, afas_id)["name"] == "Atlas B.V."
    closed = await closed_events(world.store)
    assert closed[-1].data["by"] == "Anouk (127.0.0.1)"
