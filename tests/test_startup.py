"""``syncd run`` when a side is down, or refuses the token, as the daemon starts.

Two connections in one config: ``demo`` (in-memory systems) and ``broken``, whose
HubSpot or AFAS simulator is not listening yet (or refuses the token). The demo one must
sync, the broken one must report ``source_failed`` (in the status log, ``/readyz`` and
``syncd status``) and retry on its back-off, and recover once its side answers, with no
restart.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from syncd.config import load_settings
from syncd.connections import SideChecks
from syncd.errors import ConfigError, PermanentError
from syncd.mapping import KNOWN_ENTITIES, load_mappings
from syncd.sim.afas import AfasSimulator
from syncd.sim.demo import seed_simulators
from syncd.sim.hubspot import HubSpotSimulator
from tests.config_file import DEMO_CONNECTION, write_config
from tests.gateways.hubspot.harness import harness_for
from tests.loopback import free_port
from tests.test_daemon import log_events

ROOT = Path(__file__).resolve().parent.parent
MAPPINGS = load_mappings(ROOT / "mappings", ["customer", "supplier"])
TOKENS = {"STARTUP_AFAS_TOKEN": "afas-startup-token", "STARTUP_HUBSPOT_TOKEN": "pat-startup"}
CLASS_NAMES = ("Error:", "RetryableError", "TransientError", "AuthError", "PermanentError")


async def until(
    what: str,
    check: Callable[[], Awaitable[bool] | int],
    seconds: float,
    daemon: asyncio.subprocess.Process | None = None,
) -> None:
    deadline = time.monotonic() + seconds
    while True:
        done = check()
        if done if isinstance(done, int) else await done:  # bool too
            return
        if daemon is not None and daemon.returncode is not None:
            raise AssertionError(f"the daemon exited ({daemon.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.2)


@dataclass
class Broken:
    """The broken connection's two simulators: ``down`` is not served until ``bring_up``."""

    down: str  # "crm" or "afas"
    hubspot: HubSpotSimulator
    afas: AfasSimulator
    ports: dict[str, int]
    runner: web.AppRunner | None = None

    def url(self, side: str) -> str:
        path = "/ProfitRestServices" if side == "afas" else ""
        return f"http://127.0.0.1:{self.ports[side]}{path}"

    async def serve(self, side: str) -> None:
        if side == "crm":
            await self.hubspot.start(port=self.ports["crm"])
            return
        self.runner = web.AppRunner(self.afas.app(), access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.ports["afas"]).start()

    async def bring_up(self) -> None:
        await self.serve(self.down)

    async def close(self) -> None:
        await self.hubspot.close()
        if self.runner is not None:
            await self.runner.cleanup()


async def broken_systems(down: str, *, hubspot_token: str | None = None) -> Broken:
    hubspot = HubSpotSimulator(token=hubspot_token)
    broken = Broken(down, hubspot, AfasSimulator(), {"crm": free_port(), "afas": free_port()})
    seed_simulators(broken.afas, broken.hubspot, MAPPINGS, 6, seed=7)
    for side in ("crm", "afas"):
        if side != down:
            await broken.serve(side)
    return broken


def write_broken_config(directory: Path, broken: Broken) -> int:
    """Connection "demo" on in-memory systems (healthy), and "broken"; the status port."""
    status_port = free_port()
    broken_connection = f"""[connections.broken]
afas = {{ kind = "afas", base_url = "{broken.url("afas")}", token = "STARTUP_AFAS_TOKEN" }}
crm = {{ kind = "hubspot", base_url = "{broken.url("crm")}", token = "STARTUP_HUBSPOT_TOKEN" }}
"""
    write_config(
        directory,
        DEMO_CONNECTION + broken_connection,
        status_port=status_port,
        daemon={"max_backoff_seconds": 2},
    )
    return status_port


def lanes_with(directory: Path, event: str) -> set[str]:
    """The lanes (connection/entity) that logged ``event``."""
    return {
        f"{e['connection']}/{e['entity']}" for e in log_events(directory) if e["event"] == event
    }


async def every_lane(
    directory: Path, connection: str, event: str, daemon: asyncio.subprocess.Process
) -> None:
    lanes = {f"{connection}/{entity}" for entity in KNOWN_ENTITIES}
    await until(
        f"every lane of {connection} logs {event}",
        lambda: lanes <= lanes_with(directory, event),
        30,
        daemon,
    )


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def syncd(directory: Path, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "syncd.cli", *args, "--config", str(directory / "config.toml")),
        cwd=directory,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def start_daemon(
    directory: Path, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    with (directory / "out.log").open("wb") as out, (directory / "err.log").open("wb") as err:
        return await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "syncd.cli", "run", "--config", "config.toml"),
            cwd=directory,
            env={**os.environ, **TOKENS, **(env or {})},
            stdout=out,
            stderr=err,
        )


async def stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), 30)


def output(directory: Path) -> str:
    return (directory / "out.log").read_text() + (directory / "err.log").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("down", ["crm", "afas"])
async def test_a_side_down_at_start_stops_only_its_connection_until_it_answers(
    tmp_path: Path, down: str
) -> None:
    broken = await broken_systems(down)
    status_port = write_broken_config(tmp_path, broken)
    daemon = await start_daemon(tmp_path)
    try:
        await every_lane(tmp_path, "broken", "source_failed", daemon)
        await every_lane(tmp_path, "demo", "cycle_finished", daemon)
        assert daemon.returncode is None, output(tmp_path)
        assert not {lane for lane in lanes_with(tmp_path, "cycle_finished") if "broken" in lane}
        ready, why = await get(f"http://127.0.0.1:{status_port}/readyz")
        assert ready == 503
        # AFAS has no check before the first cycle: there the lane's cycles run and fail,
        # and its last outcome is the first failure's source_failed or a later cycle_failed.
        assert re.search(r"broken/customer: (source|cycle)_failed", why), why
        assert "demo" not in why
        code, status = await syncd(tmp_path, "status")
        assert code == 1
        lines = {
            line.split(":")[0]: line for line in map(str.strip, status.splitlines()) if "/" in line
        }
        assert "\ndemo: ok\n" in f"\n{status}", status  # a header per connection
        assert "\nbroken: 3 of 3 not ok\n" in f"\n{status}", status
        assert lines["demo/customer"].startswith("demo/customer: ok")
        assert re.search(r"broken/customer: (source|cycle)_failed", lines["broken/customer"])
        assert "cannot connect" in lines["broken/customer"]
        for text in (status, why, output(tmp_path)):
            assert not [name for name in CLASS_NAMES if name in text], text

        await broken.bring_up()
        await every_lane(tmp_path, "broken", "source_recovered", daemon)
        await every_lane(tmp_path, "broken", "cycle_finished", daemon)
        await until("it is ready", lambda: _ready(status_port), 10)
    finally:
        code = await stop(daemon)
        await broken.close()
    assert code == 0, output(tmp_path)
    events = log_events(tmp_path)
    failures = [e for e in events if e["event"] == "source_failed"]
    assert {e["reason"] for e in failures} == {"unavailable"}
    assert len(failures) == len(KNOWN_ENTITIES)  # once per lane, not at every retry
    assert not [name for name in CLASS_NAMES if name in output(tmp_path)]
    # The AFAS client retries a refused connection within the cycle, so the lane's next
    # cycles come due while it runs: normal, and none of the scheduler's business to say.
    assert "maximum number of running instances" not in output(tmp_path)
    assert "Traceback" not in output(tmp_path)


async def _ready(port: int) -> bool:
    return (await get(f"http://127.0.0.1:{port}/readyz"))[0] == 200


async def test_a_refused_token_at_start_is_reported_as_an_authentication_problem(
    tmp_path: Path,
) -> None:
    broken = await broken_systems("none", hubspot_token="another-token")
    status_port = write_broken_config(tmp_path, broken)
    daemon = await start_daemon(tmp_path)
    try:
        await every_lane(tmp_path, "demo", "cycle_finished", daemon)
        await every_lane(tmp_path, "broken", "source_failed", daemon)
        assert daemon.returncode is None, output(tmp_path)
        ready, why = await get(f"http://127.0.0.1:{status_port}/readyz")
        code, status = await syncd(tmp_path, "status")
    finally:
        code = await stop(daemon)
        await broken.close()
    assert code == 0, output(tmp_path)
    assert ready == 503
    assert "broken/customer: source_failed" in why
    failures = [e for e in log_events(tmp_path) if e["event"] == "source_failed"]
    assert {e["reason"] for e in failures} == {"authentication"}
    assert all("refused the token" in str(e["error"]) for e in failures)
    assert "refused the token" in status
    assert "Traceback" not in output(tmp_path)
    assert all(token not in output(tmp_path) + status for token in TOKENS.values())


# --- the status server's port -------------------------------------------------------------


def test_the_status_port_is_set_per_process_by_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[sync]
mappings = "{ROOT / "mappings"}"
[status]
port = 8686
[connections.demo]
crm = {{ kind = "memory" }}
afas = {{ kind = "memory" }}
""",
        encoding="utf-8",
    )
    assert load_settings(config, env={}).status.port == 8686
    assert load_settings(config, env={"SYNCD_STATUS_PORT": "0"}).status.port == 0
    assert load_settings(config, env={"SYNCD_STATUS_PORT": " 9001 "}).status.port == 9001
    for bad in ("http", "-1", "70000"):
        with pytest.raises(ConfigError) as caught:
            load_settings(config, env={"SYNCD_STATUS_PORT": bad})
        (problem,) = caught.value.problems
        assert (problem.source, problem.key) == ("environment", "SYNCD_STATUS_PORT")
        assert "0 to 65535" in problem.message


@pytest.mark.postgres
async def test_two_replicas_on_one_host_each_serve_the_status_on_a_port_of_their_own(
    tmp_path: Path, postgres_url: str
) -> None:
    replicas: dict[str, asyncio.subprocess.Process] = {}
    shared = free_port()  # one config.toml for both: one [status] port
    try:
        for name in ("r1", "r2"):
            directory = tmp_path / name
            directory.mkdir()
            write_config(directory, status_port=shared)
            env = {"SYNCD_STATE_URL": postgres_url, "SYNCD_REPLICA": name, "SYNCD_STATUS_PORT": "0"}
            replicas[name] = await start_daemon(directory, env)
        ports = {}
        for name, daemon in replicas.items():
            await until(f"{name} names its port", partial(_port, tmp_path / name), 30, daemon)
            ports[name] = _port(tmp_path / name)
        assert len(set(ports.values())) == 2
        for port in ports.values():
            assert await get(f"http://127.0.0.1:{port}/healthz") == (200, "ok\n")
    finally:
        codes = [await stop(daemon) for daemon in replicas.values()]
    assert codes == [0, 0], [output(tmp_path / name) for name in replicas]


def _port(directory: Path) -> int:
    """The status port ``syncd run`` says it bound; 0 while it has said none."""
    found = re.search(r"status server on http://127\.0\.0\.1:(\d+)/", output(directory))
    return int(found[1]) if found else 0


# --- the start checks ---------------------------------------------------------------------


async def test_a_property_created_after_a_failed_start_check_is_found_when_it_runs_again() -> None:
    async with harness_for(MAPPINGS) as hs:
        kvk = hs.sim.portal.properties.pop("kvk_number")
        checks = SideChecks([hs.hub])
        with pytest.raises(PermanentError, match="no company property 'kvk_number'"):
            await checks.run()
        assert not checks.passed
        hs.sim.portal.properties["kvk_number"] = kvk  # the operator creates it
        await checks.run()
        assert checks.passed


# --- what people read ---------------------------------------------------------------------


async def test_a_state_store_that_cannot_be_reached_is_said_without_class_names(
    tmp_path: Path,
) -> None:
    write_config(tmp_path)
    nowhere = f"postgresql+asyncpg://syncd@127.0.0.1:{free_port()}/syncd"
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "syncd.cli", "status", "--config", "config.toml"),
        cwd=tmp_path,
        env={**os.environ, "SYNCD_STATE_URL": nowhere},
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    said = err.decode()
    assert process.returncode == 2
    assert said.startswith("syncd: ")
    assert "127.0.0.1" in said
    assert not [name for name in CLASS_NAMES if name in said], said
