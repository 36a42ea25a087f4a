"""``syncd run`` with HubSpot's webhooks on, against both simulators: a HubSpot edit
reaches AFAS through a hinted cycle while HubSpot's search (and so polling) does not show
it yet; a forged call is refused and writes nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from syncd.config import load_settings
from syncd.daemon import Daemon
from syncd.mapping import load_mappings
from syncd.records import Side
from syncd.sim.afas import AfasSimulator
from syncd.sim.demo import seed_simulators
from syncd.sim.hubspot import HubSpotSimulator, SimConfig
from syncd.sim.hubspot.webhooks import Subscription
from syncd.state.store import open_store
from tests.config_file import write_config
from tests.loopback import free_port

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = load_mappings(ROOT / "mappings", ["customer", "supplier"])
SECRET = "hubspot-app-client-secret"
ENV = {"WH_AFAS_TOKEN": "afas-token", "WH_HUBSPOT_TOKEN": "pat-token", "WH_SECRET": SECRET}
CITY = MAPPINGS["customer"].native_name(Side.AFAS, "city")


@dataclass
class Running:
    directory: Path
    afas: AfasSimulator
    hubspot: HubSpotSimulator
    daemon: Daemon
    webhook_url: str

    async def links(self) -> dict[str, str]:
        store = await open_store(f"sqlite:///{self.directory}/data/syncd.db")
        try:
            return {k.crm_id: k.afas_id for k in await store.get_links("wh", "customer")}
        finally:
            await store.close()

    def afas_city(self, afas_id: str) -> object:
        return {str(r["DebtorId"]): r for r in self.afas.rows("customer")}[afas_id].get(CITY)

    def afas_writes(self) -> int:
        return sum(n for op, n in self.afas.requests.items() if not op.startswith("GET"))


def config(directory: Path, afas_url: str, hubspot_url: str, port: int) -> Path:
    connection = f"""
[connections.wh]
afas = {{ kind = "afas", base_url = "{afas_url}", token = "WH_AFAS_TOKEN" }}
crm = {{ kind = "hubspot", base_url = "{hubspot_url}", token = "WH_HUBSPOT_TOKEN" }}
[connections.wh.webhooks]
public_url = "http://127.0.0.1:{port}/hubspot/webhooks/wh"
client_secret_env = "WH_SECRET"
[webhooks]
port = {port}
gather_seconds = 0.1
"""
    return write_config(
        directory,
        connection,
        sync={"entities": '["customer", "supplier"]'},
        daemon={"interval_seconds": 3600},  # one poll as it starts; then hints alone
    )


async def until(what: str, check: Callable[[], Awaitable[bool]], seconds: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.1)


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    # Search shows a write a minute late: only a read by id sees an edit sooner.
    afas, hubspot = AfasSimulator(), HubSpotSimulator(config=SimConfig(search_lag=60))
    seed_simulators(afas, hubspot, MAPPINGS, 6)
    runner = web.AppRunner(afas.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    afas_url = f"http://127.0.0.1:{runner.addresses[0][1]}/ProfitRestServices"
    port = free_port()
    path = config(tmp_path, afas_url, await hubspot.start(), port)
    daemon = Daemon(load_settings(path, env=ENV), stream=None)
    task = asyncio.create_task(daemon.run())
    try:
        world = Running(
            tmp_path, afas, hubspot, daemon, f"http://127.0.0.1:{port}/hubspot/webhooks/wh"
        )
        await until("the first sync linked the customers", lambda: _linked(world))
        await hubspot.subscribe_webhooks(Subscription(world.webhook_url, SECRET, gather=0.01))
        yield world
    finally:
        daemon.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 30)
        await hubspot.close()
        await runner.cleanup()


async def _linked(world: Running) -> bool:
    return len(await world.links()) > 0 and not world.daemon.cycles_in_flight


async def test_a_webhook_brings_an_edit_to_afas_before_search_shows_it(running: Running) -> None:
    crm_id, afas_id = sorted((await running.links()).items())[0]
    running.hubspot.edit(crm_id, {"city": "Zwolle"})

    async def arrived() -> bool:
        return running.afas_city(afas_id) == "Zwolle"

    await until("the edit reached AFAS", arrived)
    assert running.daemon.webhooks_received.accepted >= 1


async def test_a_forged_call_is_refused_and_writes_nothing(running: Running) -> None:
    crm_id, afas_id = sorted((await running.links()).items())[0]
    await running.hubspot.unsubscribe_webhooks()  # only the forger calls
    writes = running.afas_writes()
    running.hubspot.edit(crm_id, {"city": "Zwolle"})
    body = f'[{{"subscriptionType": "company.propertyChange", "objectId": {crm_id}}}]'

    async with aiohttp.ClientSession() as session:
        forged = {"X-HubSpot-Signature-v3": "Zm9yZ2Vk", "X-HubSpot-Request-Timestamp": "1"}
        async with session.post(running.webhook_url, data=body, headers=forged) as reply:
            assert reply.status == 401

    # A call taken would have queued its ids before the answer: none wait, none run.
    assert all(lane.hints.waiting == 0 for lane in running.daemon.lanes)
    assert not running.daemon.cycles_in_flight
    assert running.daemon.webhooks_received.refused == 1
    assert running.afas_writes() == writes
    assert running.afas_city(afas_id) != "Zwolle"
