"""The page's charts and progress after and during real cycles against both simulators."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from syncd.engine.cycle import run_cycle
from syncd.engine.progress import NO_PROGRESS, SideListing
from syncd.mapping import load_mappings
from syncd.policy import SyncRules
from syncd.records import Page, Side
from syncd.sim.afas import AfasSimulator, SimOptions
from syncd.sim.demo import seed_simulators
from syncd.sim.hubspot.settings import SimConfig
from syncd.state.store import open_store
from syncd.status.activity import changes_of, requests_of
from syncd.status.running import StoredProgress
from syncd.status.server import StatusSource, make_app
from tests.gateways.afas.helpers import TOKEN, gateway, served
from tests.gateways.hubspot.harness import harness_for
from tests.two_simulators import TwoSimulators

ROOT = Path(__file__).resolve().parents[2]
ENTITIES = ("customer", "supplier")
PAGE = 4  # records per listing page: a few pages each
Client = TestClient[web.Request, web.Application]
ROW = "<td>test/customer</td><td>crm</td><td>listing</td><td class='num'>"


class CrmListed:
    """Watches the listings beside the page: tells once the CRM side has listed some."""

    def __init__(self) -> None:
        self.some = asyncio.Event()

    def listing(self, lane: str, side: Side, expected: int | None) -> SideListing:
        return self if side is Side.CRM else NO_PROGRESS.listing(lane, side, expected)

    def listed(self, count: int) -> None:
        self.some.set()

    def done(self) -> None:
        pass


class HeldAfterOnePage:
    """A gateway's whole listing, held after its first page until let go: the cycle is
    mid-listing for as long as the test reads the page."""

    def __init__(self, list_all: Callable[[str], AsyncIterator[Page]]) -> None:
        self._list_all = list_all
        self.holding = asyncio.Event()
        self.go_on = asyncio.Event()

    async def list_all(self, entity: str) -> AsyncIterator[Page]:
        pages = 0
        async for page in self._list_all(entity):
            if pages:
                self.holding.set()
                await self.go_on.wait()
            yield page
            pages += 1


World = tuple[TwoSimulators, StoredProgress, CrmListed, Client]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """Both simulators seeded, a little slow to answer; the status server over the store."""
    mappings = load_mappings(ROOT / "mappings", list(ENTITIES))
    store = await open_store(f"sqlite:///{tmp_path}/state.db")
    sim = AfasSimulator(options=SimOptions(token=TOKEN))
    try:
        async with (
            served(sim) as url,
            harness_for(mappings, page_size=PAGE, config=SimConfig(latency=0.02)) as hs,
        ):
            seed_simulators(sim, hs.sim, mappings, 24)
            sim.latency = 0.02
            afas = gateway(url, mappings, page_size=PAGE)
            await hs.hub.start()
            two = TwoSimulators(hs, afas, sim, store, mappings, SyncRules())
            crm_listed = CrmListed()
            source = StatusSource(store, [("test", e) for e in ENTITIES])
            async with (
                StoredProgress(store, also=crm_listed, every=timedelta(0)) as running,
                TestClient(TestServer(make_app(source))) as client,
            ):
                yield two, running, crm_listed, client
            await afas.aclose()
    finally:
        await store.close()


async def page(client: Client) -> str:
    return await (await client.get("/")).text()


async def test_the_page_charts_what_real_cycles_did_and_the_budget_they_used(
    world: World,
) -> None:
    two, _, _, client = world
    changed, sent = {}, {}
    for entity in ENTITIES:
        await two.cycle(entity)
        [event] = await two.store.events("test", entity=entity, names=["cycle_finished"])
        changed[entity] = sum(changes_of(event).values())
        sent[entity] = requests_of(event)
    assert changed["customer"] > 0

    text = await page(client)

    assert "<h2>Last 24 hours</h2>" in text
    for entity in ENTITIES:
        label = f"test/{entity}: {changed[entity]:,} changes in the last 24 hours, per hour"
        assert f'aria-label="{label}"' in text
        crm, afas = sent[entity]["crm"], sent[entity]["afas"]
        label = (
            f"test/{entity}: requests in the last 24 hours, per hour (crm {crm:,}, afas {afas:,})"
        )
        assert f'aria-label="{label}"' in text
    used = two.hs.hub.status()
    today, budget = used["requests_today"], used["daily_budget"]
    assert isinstance(today, int)
    assert today >= sent["customer"]["crm"] + sent["supplier"]["crm"] > 0
    assert isinstance(budget, int)
    assert f"test, crm: {today:,} of {budget:,}" in text  # the budget bar's label
    assert "<details><summary>per hour</summary>" in text
    assert "Running now" not in text  # nothing runs between cycles


async def showing(client: Client, pattern: str) -> str:
    """The page, once it shows ``pattern`` (the store is told by a task of its own)."""
    for _ in range(500):
        text = await page(client)
        if re.search(pattern, text):
            return text
        await asyncio.sleep(0.01)
    raise AssertionError(f"the page never showed {pattern!r}:\n{text}")


async def while_running(
    cycle: Awaitable[object], two: TwoSimulators, crm_listed: CrmListed, client: Client
) -> str:
    """The page read while the cycle's whole CRM listing is under way, some listed."""
    held = HeldAfterOnePage(two.hs.hub.list_all)
    crm_listed.some.clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(two.hs.hub, "list_all", held.list_all)
        task = asyncio.ensure_future(cycle)
        try:
            await asyncio.wait_for(held.holding.wait(), 60)
            await asyncio.wait_for(crm_listed.some.wait(), 60)
            return await showing(client, ROW + r"[1-9]")
        finally:
            held.go_on.set()
            await task


async def test_a_slow_first_sync_and_sweep_show_their_progress_on_the_page(world: World) -> None:
    two, running, crm_listed, client = world

    customers = await two.hs.hub.count_all("customer")
    assert customers  # the role's companies, as search counts them

    first = run_cycle(two.conn, "customer", progress=running)
    text = await while_running(first, two, crm_listed, client)
    assert "<h2>Running now</h2>" in text
    # HubSpot's search counted the first sync's total
    assert re.search(ROW + rf"[1-9][\d,]* of about {customers:,}</td>", text)
    await showing(client, "(?s)^(?!.*Running now)")  # done: gone from the page

    linked = await two.store.link_count("test", "customer")
    sweep = run_cycle(two.conn, "customer", full=True, progress=running)
    text = await while_running(sweep, two, crm_listed, client)
    assert re.search(ROW + rf"[1-9][\d,]* of about {linked:,}</td>", text)
    await showing(client, "(?s)^(?!.*Running now)")
