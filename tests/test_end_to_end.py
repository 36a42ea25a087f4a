"""``syncd run`` as a subprocess against both simulators: users edit, syncd converges.

The simulators run in this test's process on loopback; the daemon is a real process
started from its entry point, stopped with SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from syncd.gateways.afas.client import token_header
from syncd.mapping import load_mappings
from syncd.records import Side
from syncd.sim.afas import AfasSimulator
from syncd.sim.demo import seed_simulators
from syncd.sim.hubspot import HubSpotSimulator, SimConfig
from syncd.state.store import open_store
from tests.config_file import write_config
from tests.loopback import free_port

ROOT = Path(__file__).resolve().parent.parent
MAPPINGS = load_mappings(ROOT / "mappings", ["customer", "supplier"])
SECRETS = {"E2E_AFAS_TOKEN": "afas-s3cret-token", "E2E_HUBSPOT_TOKEN": "pat-s3cret-token"}


def write_e2e_config(directory: Path, afas_url: str, hubspot_url: str, status_port: int) -> Path:
    connection = f"""
[connections.e2e]
afas = {{ kind = "afas", base_url = "{afas_url}", token = "E2E_AFAS_TOKEN" }}
[connections.e2e.crm]
kind = "hubspot"
base_url = "{hubspot_url}"
token = "E2E_HUBSPOT_TOKEN"
search_settle_seconds = 1
"""
    return write_config(
        directory,
        connection,
        status_port=status_port,
        sync={"overlap_seconds": 30},
        daemon={"shutdown_grace_seconds": 10},
    )


def events(directory: Path) -> list[dict[str, object]]:
    path = directory / "data" / "status.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def until(what: str, check: Callable[[], Awaitable[bool]], seconds: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.25)


async def test_the_daemon_keeps_both_simulators_in_step(tmp_path: Path) -> None:
    afas, hubspot = AfasSimulator(), HubSpotSimulator(config=SimConfig(search_lag=0.3))
    seed_simulators(afas, hubspot, MAPPINGS, 40)
    runner = web.AppRunner(afas.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    afas_url = f"http://127.0.0.1:{runner.addresses[0][1]}/ProfitRestServices"
    hubspot_url = await hubspot.start()
    status_port = free_port()
    config = write_e2e_config(tmp_path, afas_url, hubspot_url, status_port)
    daemon = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd.cli",
        "run",
        "--config",
        str(config),
        cwd=tmp_path,
        env={**os.environ, **SECRETS},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    served = ""
    try:
        served = await _scenario(tmp_path, afas, hubspot, status_port)
    finally:
        if daemon.returncode is None:
            daemon.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(daemon.communicate(), 30)
        await hubspot.close()
        await runner.cleanup()
    assert daemon.returncode == 0, err.decode()
    # Every output of the run: its stdout and stderr, the status log, what the status
    # server served, and the state store's files (bytes, WAL included).
    outputs = out + err + served.encode()
    for written in (tmp_path / "data").iterdir():
        outputs += written.read_bytes()
    assert b"cycle_finished" in outputs
    for secret in SECRETS.values():
        assert secret.encode() not in outputs
        assert token_header(secret).split()[1].encode() not in outputs


def _counts(event: dict[str, object]) -> dict[str, int]:
    counts = event.get("counts")
    return counts if isinstance(counts, dict) else {}


async def _linked(tmp_path: Path, entity: str) -> dict[str, str]:
    store = await open_store(f"sqlite:///{tmp_path}/data/syncd.db")
    try:
        return {k.crm_id: k.afas_id for k in await store.get_links("e2e", entity)}
    finally:
        await store.close()


async def _scenario(
    tmp_path: Path, afas: AfasSimulator, hubspot: HubSpotSimulator, status_port: int
) -> str:
    """Users edit on both sides; returns what the status server served meanwhile."""

    async def settled() -> bool:
        finished = [e for e in events(tmp_path) if e["event"] == "cycle_finished"]
        quiet = [e for e in finished[-2:] if not set(_counts(e)) - {"conflicts"}]
        return len(finished) >= 4 and len(quiet) == 2

    await until("the first run has settled", settled)
    links = await _linked(tmp_path, "customer")
    assert links
    crm_id, afas_id = sorted(links.items())[0]
    other_crm, other_afas = sorted(links.items())[-1]
    hubspot.edit(crm_id, {"city": "Zwolle"})  # a user in HubSpot
    afas.edit(
        "customer", other_afas, {MAPPINGS["customer"].native_name(Side.AFAS, "city"): "Leiden"}
    )

    city = MAPPINGS["customer"].native_name(Side.AFAS, "city")

    async def both_arrived() -> bool:
        in_afas = {str(r["DebtorId"]): r for r in afas.rows("customer")}
        return (
            in_afas[afas_id][city] == "Zwolle"
            and hubspot.company(other_crm).properties.get("city") == "Leiden"
        )

    await until("both edits have crossed over", both_arrived)
    await until("it is quiet again", settled)

    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{status_port}/status") as response:
            health = {row["entity"]: row for row in await response.json()}
        async with session.get(f"http://127.0.0.1:{status_port}/metrics") as response:
            metrics = await response.text()
        async with session.get(f"http://127.0.0.1:{status_port}/") as response:
            page = await response.text()
    assert health["customer"]["healthy"]
    assert health["customer"]["linked"] == len(await _linked(tmp_path, "customer"))
    assert 'syncd_linked_records{connection="e2e",entity="supplier"}' in metrics
    assert 'syncd_request_budget_left{connection="e2e",side="crm"}' in metrics
    assert "budget_left" in health["customer"]["requests"]["crm"]

    names = {e["event"] for e in events(tmp_path)}
    assert {"cycle_finished", "record_linked", "record_created", "record_changed"} <= names
    changed = {e["record"] for e in events(tmp_path) if e["event"] == "record_changed"}
    assert {afas_id, other_crm} <= changed
    # No company twice: every record on either side is linked exactly once.
    for entity in ("customer", "supplier"):
        links = await _linked(tmp_path, entity)
        assert len(afas.rows(entity)) == len(links) == len(set(links.values()))
    return json.dumps(health) + metrics + page


async def test_the_demo_runs_from_its_entry_point(tmp_path: Path) -> None:
    afas_port, hubspot_port, status_port = free_port(), free_port(), free_port()
    config = tmp_path / "config.toml"
    shipped = (ROOT / "config.toml").read_text(encoding="utf-8")
    config.write_text(
        shipped.replace('mappings = "mappings"', f'mappings = "{ROOT / "mappings"}"')
        .replace("127.0.0.1:8701", f"127.0.0.1:{afas_port}")
        .replace("127.0.0.1:8702", f"127.0.0.1:{hubspot_port}")
        .replace("port = 8686", f"port = {status_port}"),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_DEMO_")}
    demo = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd.cli",
        "demo",
        "--config",
        str(config),
        "--companies",
        "40",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:

        async def synced() -> bool:
            done = {e["entity"] for e in events(tmp_path) if e["event"] == "cycle_finished"}
            return done == {"customer", "supplier", "contact"}

        await until("the demo's first cycles are done", synced)
    finally:
        demo.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(demo.communicate(), 30)
    assert demo.returncode == 0, err.decode()
    assert "syncd demo: 40 Dutch companies" in err.decode()  # the banner: stdout is events'
    assert all(json.loads(line)["event"] for line in out.decode().splitlines())
    names = {e["event"] for e in events(tmp_path)}
    assert {"record_linked", "record_created", "record_changed"} <= names
    # The demo's companies whose phone numbers differ between the sides take the CRM's
    # (first_link = "crm" in the shipped mappings): a first run opens no conflicts.
    assert "conflict_opened" not in names


async def test_a_first_run_against_both_simulators_creates_nothing_twice(
    tmp_path: Path,
) -> None:
    """Overlapping systems, the match plan applied, one cycle: every company once per side."""
    from syncd.config import load_settings
    from syncd.connections import open_connection
    from syncd.engine.cycle import run_cycle
    from syncd.engine.review import apply_match_plan, match_plan

    afas, hubspot = AfasSimulator(), HubSpotSimulator(config=SimConfig(search_lag=0.2))
    seed_simulators(afas, hubspot, MAPPINGS, 80)
    runner = web.AppRunner(afas.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    afas_url = f"http://127.0.0.1:{runner.addresses[0][1]}/ProfitRestServices"
    config = write_e2e_config(tmp_path, afas_url, await hubspot.start(), free_port())
    config.write_text(
        config.read_text().replace(
            "overlap_seconds = 30", "overlap_seconds = 30\nreview_first = true"
        )
    )
    settings = load_settings(config, env=SECRETS)
    await asyncio.sleep(1.5)  # older than HubSpot's search lag, as records of a first run are
    try:
        async with open_connection(settings, settings.connections[0]) as (conn, _):
            for entity in ("customer", "supplier"):
                plan = await match_plan(conn, entity)
                kept = [(p.crm.id, p.afas.id) for p in plan if p.keep]
                assert kept  # the companies on both sides
                await apply_match_plan(conn, entity, kept)
                await run_cycle(conn, entity)
                kvk = MAPPINGS[entity].native_name(Side.AFAS, "kvk")
                afas_kvks = [str(r[kvk]) for r in afas.rows(entity)]
                crm_kvks = [
                    c.properties.get("kvk_number")
                    for c in hubspot.portal.live()
                    if entity in (c.properties.get("afas_roles") or "").split(";")
                ]
                links = await conn.store.get_links("e2e", entity)
                assert len(afas_kvks) == len(set(afas_kvks)) == len(links)
                assert len(crm_kvks) == len(set(crm_kvks)) == len(links)
                assert set(afas_kvks) == set(crm_kvks)
    finally:
        await hubspot.close()
        await runner.cleanup()
