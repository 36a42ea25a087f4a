"""``syncd run`` reading HubSpot's Webhooks Journal, against both simulators: with no
inbound port, a HubSpot edit reaches AFAS before search (and so polling) shows it; the
offset outlives a restart; an offset the journal forgot is dropped, polling brings the
change in the gap, and reading starts again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from syncd.config import load_settings
from syncd.daemon import Daemon
from syncd.sim.afas import AfasSimulator
from syncd.sim.demo import seed_simulators
from syncd.sim.hubspot import HubSpotSimulator, SimConfig
from syncd.sim.hubspot.app_tokens import SimApp
from syncd.state.store import open_store
from tests.config_file import write_config
from tests.webhooks.test_daemon_webhooks import CITY, MAPPINGS, until

APP = SimApp(client_secret="app-secret-from-env")
ENV = {
    "JR_AFAS_TOKEN": "afas-token",
    "JR_HUBSPOT_TOKEN": "pat-token",
    "JR_APP_SECRET": APP.client_secret,
}
BATCH = "journal GET batch"


def config(directory: Path, afas_url: str, hubspot_url: str, interval: int, settle: int) -> Path:
    crm = f'base_url = "{hubspot_url}", search_settle_seconds = {settle}'
    crm += f", portal_id = {APP.portal_id}"
    connection = f"""
[connections.jr]
afas = {{ kind = "afas", base_url = "{afas_url}", token = "JR_AFAS_TOKEN" }}
crm = {{ kind = "hubspot", {crm}, token = "JR_HUBSPOT_TOKEN" }}
[connections.jr.journal]
poll_seconds = 1
client_id = "{APP.client_id}"
client_secret_env = "JR_APP_SECRET"
"""
    return write_config(
        directory,
        connection,
        sync={"entities": '["customer", "supplier"]'},
        daemon={"interval_seconds": interval},
    )


@dataclass
class World:
    directory: Path
    afas: AfasSimulator
    hubspot: HubSpotSimulator
    afas_url: str
    daemon: Daemon | None = None
    task: asyncio.Task[int] | None = field(default=None, repr=False)

    async def start(self, interval: int = 3600, settle: int = 60) -> Daemon:
        """Start syncd; by default it polls once as it starts, then reads the journal alone."""
        path = config(self.directory, self.afas_url, self.hubspot.url, interval, settle)
        self.daemon = Daemon(load_settings(path, env=ENV), stream=None)
        self.task = asyncio.create_task(self.daemon.run())
        return self.daemon

    async def stop(self) -> None:
        if self.daemon is not None and self.task is not None:
            self.daemon.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.task, 30)

    async def offset(self) -> str | None:
        store = await open_store(f"sqlite:///{self.directory}/data/syncd.db")
        try:
            return await store.get_journal_offset("jr")
        finally:
            await store.close()

    async def links(self) -> list[tuple[str, str]]:
        """(HubSpot id, AFAS id) of the linked customers."""
        store = await open_store(f"sqlite:///{self.directory}/data/syncd.db")
        try:
            links = await store.get_links("jr", "customer")
        finally:
            await store.close()
        return sorted((k.crm_id, k.afas_id) for k in links)

    async def first_link(self) -> tuple[str, str]:
        return (await self.links())[0]

    def afas_city(self, afas_id: str) -> object:
        return {str(r["DebtorId"]): r for r in self.afas.rows("customer")}[afas_id].get(CITY)

    async def edit_reaches_afas(self, crm_id: str, afas_id: str, city: str) -> None:
        self.hubspot.edit(crm_id, {"city": city})

        async def arrived() -> bool:
            return self.afas_city(afas_id) == city

        await until(f"{city} reached AFAS", arrived)

    async def synced_and_reading(self) -> None:
        """The first sync linked the customers, and the journal is read from an offset."""

        async def ready() -> bool:
            daemon, counts = self.daemon, self.hubspot.counts
            idle = daemon is not None and not daemon.cycles_in_flight
            return idle and counts["journal GET batch"] > 0

        await until("the first sync ran and the journal was read", ready)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    # Search shows a write a minute late: only a read by id sees an edit sooner.
    afas, hubspot = AfasSimulator(), HubSpotSimulator(config=SimConfig(search_lag=60), app=APP)
    seed_simulators(afas, hubspot, MAPPINGS, 6)
    runner = web.AppRunner(afas.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    await hubspot.start()
    afas_url = f"http://127.0.0.1:{runner.addresses[0][1]}/ProfitRestServices"
    running = World(tmp_path, afas, hubspot, afas_url)
    try:
        await running.start()
        await running.synced_and_reading()
        yield running
    finally:
        await running.stop()
        await hubspot.close()
        await runner.cleanup()


async def test_the_journal_brings_an_edit_before_search_with_no_inbound_port(
    world: World,
) -> None:
    crm_id, afas_id = await world.first_link()
    assert world.daemon is not None
    assert world.daemon.settings.connections[0].webhooks is None  # no receiver runs

    await world.edit_reaches_afas(crm_id, afas_id, "Zwolle")

    assert world.hubspot.counts[BATCH] >= 1
    assert world.daemon.webhooks_received.accepted == 0


async def test_the_offset_outlives_a_restart(world: World) -> None:
    crm_id, afas_id = await world.first_link()
    await world.edit_reaches_afas(crm_id, afas_id, "Zwolle")  # an entry to keep the place of
    await world.stop()
    before = await world.offset()
    assert before
    world.hubspot.edit(crm_id, {"city": "Deventer"})  # while syncd is down

    await world.start()

    async def arrived() -> bool:
        return world.afas_city(afas_id) == "Deventer"

    await until("the edit made while down reached AFAS", arrived)
    assert await world.offset() not in (None, before)


async def test_a_forgotten_offset_falls_back_to_polling(world: World) -> None:
    (crm_id, afas_id), other = (await world.links())[:2]
    await world.edit_reaches_afas(*other, "Zwolle")  # another record: search still lags it
    await world.stop()
    stale = await world.offset()
    assert stale  # a place in the journal, not "from the earliest"
    journal = world.hubspot.journal
    later = journal.clock() + journal.retention + 60
    journal.clock = lambda: later  # three days later: the offset is gone (404)
    world.hubspot.configure(search_lag=0)  # and search has long caught up
    world.hubspot.edit(crm_id, {"city": "Kampen"})  # its entry is gone too
    asked_latest = world.hubspot.counts["journal GET latest"]

    await world.start(interval=1, settle=0)  # polls often, and trusts search at once

    async def arrived() -> bool:
        return world.afas_city(afas_id) == "Kampen"

    await until("polling brought the edit", arrived)

    async def reading_again() -> bool:
        return await world.offset() not in (None, stale)

    await until("the journal is read again", reading_again)
    assert world.hubspot.counts["journal GET latest"] > asked_latest  # forgotten, restarted
