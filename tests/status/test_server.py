"""The HTTP status surface, over a real state store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from syncd.config import load_settings
from syncd.errors import ConfigError
from syncd.state.rows import Conflict, LanePoll, Link, StatusEvent
from syncd.state.store import StateStore
from syncd.status.record_names import HubSpotPages
from syncd.status.server import StatusSource, make_app

LANES = [("demo", "customer"), ("demo", "supplier")]


async def seed(store: StateStore) -> None:
    async with store.transaction() as tx:
        atlas = Link("demo", "customer", "9001", "10001", {"name": "Atlas"}, name="Atlas & Zn")
        link = await tx.save_link(atlas)
        assert link.id is not None
        await tx.open_conflict(
            Conflict("demo", "customer", link.id, "email", None, "a@atlas.nl", "b@atlas.nl")
        )
        await tx.add_event(
            StatusEvent("demo", "customer", "cycle_finished", data={"counts": {"linked": 1}})
        )
        await tx.add_event(
            StatusEvent("demo", "supplier", "guard_tripped", data={"message": "afas listed none"})
        )


@pytest.fixture
async def client(store: StateStore) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    await seed(store)
    async with TestClient(TestServer(make_app(StatusSource(store, LANES)))) as client:
        yield client


async def test_health_and_readiness(client: TestClient[web.Request, web.Application]) -> None:
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert "demo/supplier: guard_tripped" in await ready.text()


async def test_status_json(client: TestClient[web.Request, web.Application]) -> None:
    rows = {row["entity"]: row for row in await (await client.get("/status")).json()}
    assert rows["customer"]["linked"] == 1
    assert rows["customer"]["conflicts"] == 1
    assert rows["customer"]["healthy"] is True
    assert rows["supplier"]["healthy"] is False
    assert rows["supplier"]["last_message"] == "afas listed none"


async def test_metrics_in_prometheus_format(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get("/metrics")
    text = await response.text()
    assert response.headers["Content-Type"].startswith("text/plain")
    assert 'syncd_linked_records{connection="demo",entity="customer"} 1.0' in text
    assert 'syncd_open_conflicts{connection="demo",entity="customer"} 1.0' in text
    assert 'syncd_healthy{connection="demo",entity="supplier"} 0.0' in text


async def test_the_page_shows_health_cycles_and_conflicts(
    client: TestClient[web.Request, web.Application],
) -> None:
    page = await (await client.get("/")).text()
    assert "<h1>syncd</h1>" in page
    assert "in sync" in page
    assert "guard_tripped" in page
    assert "Open conflicts (1)" in page
    assert "b@atlas.nl" in page
    assert "linked 1" in page


async def test_the_conflicts_table_names_the_record_and_links_it_to_hubspot(
    store: StateStore,
) -> None:
    await seed(store)
    pages = {"demo": HubSpotPages(4711, {"customer": "companies"})}
    async with TestClient(TestServer(make_app(StatusSource(store, LANES, pages=pages)))) as client:
        page = await (await client.get("/")).text()
    conflicts = page[page.index("Open conflicts") :]
    assert "<th>record</th>" in conflicts
    hubspot = "<a href='https://app.hubspot.com/contacts/4711/record/0-2/9001'>9001</a>"
    assert f"Atlas &amp; Zn<br><small>HubSpot {hubspot}, AFAS debtor 10001</small>" in conflicts


async def test_a_token_is_required_when_set(store: StateStore) -> None:
    app = make_app(StatusSource(store, LANES), token="s3cret")
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/status")).status == 401
        assert (await client.get("/status", headers={"Authorization": "Bearer nope"})).status == 401
        ok = await client.get("/status", headers={"Authorization": "Bearer s3cret"})
        assert ok.status == 200
        assert (await client.get("/metrics?token=s3cret")).status == 200
        assert "s3cret" not in await (await client.get("/")).text()


def test_binding_beyond_loopback_needs_a_token(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    root = Path(__file__).resolve().parents[2]
    path.write_text(
        f'[sync]\nmappings = "{root / "mappings"}"\n'
        '[connections.demo]\ncrm = { kind = "memory" }\nafas = { kind = "memory" }\n'
        '[status]\nhost = "0.0.0.0"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"status\.host"):
        load_settings(path, env={})
    path.write_text(path.read_text() + 'token_env = "TOKEN"\n', encoding="utf-8")
    settings = load_settings(path, env={"TOKEN": "t0k"})
    assert settings.status.token is not None
    assert "t0k" not in repr(settings.status)


async def test_a_lane_that_polls_quietly_shows_its_last_poll(store: StateStore) -> None:
    cycle = datetime(2026, 12, 8, 10, 2, 11, tzinfo=UTC)
    polled = datetime(2026, 12, 8, 10, 14, 55, tzinfo=UTC)
    async with store.transaction() as tx:
        for entity in ("customer", "supplier"):
            await tx.add_event(StatusEvent("demo", entity, "cycle_finished", at=cycle))
        await tx.record_polls(
            [
                LanePoll("demo", "customer", polled, 40),
                # polled before its last cycle: nothing to tell beyond the cycle
                LanePoll("demo", "supplier", cycle - timedelta(minutes=1)),
            ]
        )
    source = StatusSource(store, LANES, interval=timedelta(minutes=5))
    async with TestClient(TestServer(make_app(source))) as client:
        rows = {row["entity"]: row for row in await (await client.get("/status")).json()}
        page = await (await client.get("/")).text()

    customer = rows["customer"]
    assert customer["last_cycle"] == cycle.isoformat()
    assert customer["last_poll"] == polled.isoformat()
    assert customer["next_cycle"] == (polled + timedelta(minutes=5)).isoformat()
    assert rows["supplier"]["next_cycle"] == (cycle + timedelta(minutes=5)).isoformat()
    assert "2026-12-08 10:02:11 UTC, polled 10:14:55, nothing new since" in page
    assert page.count("polled") == 1  # not the supplier's


async def test_a_lane_known_only_by_its_quiet_polls_is_not_without_cycles(
    store: StateStore,
) -> None:
    polled = datetime(2026, 12, 8, 10, 14, 55, tzinfo=UTC)
    async with store.transaction() as tx:
        await tx.record_polls([LanePoll("demo", "customer", polled)])
    async with TestClient(TestServer(make_app(StatusSource(store, LANES)))) as client:
        page = await (await client.get("/")).text()

    customer = page[page.index("<td>customer</td>") : page.index("<td>supplier</td>")]
    assert "in sync" in customer
    assert "never, polled 2026-12-08 10:14:55, nothing new since" in customer
    assert "no cycle yet" in page[page.index("<td>supplier</td>") :]
