"""The crash campaign: ``syncd run`` as a real process, killed at random moments.

The simulators run in this process on loopback, with a little latency on every request
so a cycle lasts long enough to be caught in the act. Each round, users edit and create
companies while the daemon is down; then it is started and killed with SIGKILL at a
moment drawn from the run's seed:

* ``pull``: while it lists changes (a listing request has just reached a simulator);
* ``apply``: while a write is in flight (the simulator carries on with it regardless);
* ``commit``: just after a write was answered, while the outcome is being committed;
* ``anywhere``: after a random delay from start.

Where it is comes from the simulators' request counts. The last round sends SIGTERM
during a write instead: the daemon must finish the cycle in flight and exit 0. Then it
is started once more, without edits, until two rounds of cycles write nothing, stopped
with SIGTERM, and the invariants are checked.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from syncd.mapping import EntityMapping
from syncd.state.store import open_store
from tests.config_file import write_config
from tests.reliability.campaign.fault_campaign import check, serving
from tests.reliability.campaign.figures import Figures, RunResult
from tests.reliability.campaign.world import PROFIT_LIMIT, World

CONNECTION = "campaign"
MOMENTS = ("pull", "apply", "commit", "anywhere")
WRITE_TIMEOUT = 2.0  # seconds the daemon waits for an AFAS write
TOKENS = {"CAMPAIGN_AFAS_TOKEN": "campaign", "CAMPAIGN_HUBSPOT_TOKEN": "campaign"}
_HUBSPOT_WRITES = ("PATCH object", "POST batch/create", "POST batch/update", "POST batch/upsert")
_HUBSPOT_LISTINGS = ("POST search", "GET list")


@dataclass(frozen=True)
class CrashCampaign:
    """The size of a crash campaign."""

    runs: int = 1
    companies: int = 16
    kills: int = 5
    edits_per_round: int = 4
    creates_per_round: int = 1
    latency: float = 0.04  # seconds added to every simulator request
    converge_seconds: float = 60.0
    first_seed: int = 101


async def run_crash_campaign(
    campaign: CrashCampaign,
    mappings: Mapping[str, EntityMapping],
    mappings_dir: Path,
    workdir: Path,
) -> Figures:
    figures = Figures("crash campaign")
    for seed in range(campaign.first_seed, campaign.first_seed + campaign.runs):
        run_dir = workdir / f"crash-{seed}"
        run_dir.mkdir(parents=True, exist_ok=True)
        figures.runs.append(await crash_run(campaign, mappings, mappings_dir, run_dir, seed))
    return figures


async def crash_run(
    campaign: CrashCampaign,
    mappings: Mapping[str, EntityMapping],
    mappings_dir: Path,
    workdir: Path,
    seed: int,
) -> RunResult:
    started = time.monotonic()
    result = RunResult(seed)
    world = World(mappings, campaign.companies, seed)
    world.afas.latency = campaign.latency
    world.hubspot.configure(latency=campaign.latency)
    rng = random.Random(seed * 15_485_863)
    async with serving(world) as urls:
        config = write_config(
            workdir,
            simulator_connection(*urls),
            mappings=mappings_dir,
            sync={"overlap_seconds": 30, "entities": json.dumps(list(world.entities))},
            # room for the cycle in flight at SIGTERM to end
            daemon={"shutdown_grace_seconds": 30},
        )
        for number in range(campaign.kills + 1):
            if number:
                world.users(campaign.edits_per_round, campaign.creates_per_round)
            daemon = await start(config)
            if number < campaign.kills:
                moment = await _when(world, rng.choice(MOMENTS), rng)
                daemon.kill()
                result.faults[f"SIGKILL during {moment}"] += 1
                await daemon.wait()
            else:
                moment = await _when(world, "apply", rng)
                daemon.send_signal(signal.SIGTERM)
                result.faults[f"SIGTERM during {moment}"] += 1
                if await _exit_code(daemon, 60) != 0:
                    result.errors.append(f"SIGTERM during apply: exit {daemon.returncode}")
        await _count_cycles(workdir, result)
        await _converge(config, workdir, world.entities, result, campaign.converge_seconds)
        await _check(world, workdir, result)
    result.operations = world.operations
    result.seconds = time.monotonic() - started
    return result


def simulator_connection(afas_url: str, hubspot_url: str) -> str:
    """The campaign's connection table, on both simulators."""
    return f"""
[connections.{CONNECTION}.afas]
kind = "afas"
base_url = "{afas_url}"
token = "CAMPAIGN_AFAS_TOKEN"
write_timeout = {WRITE_TIMEOUT}
server_timeout = {PROFIT_LIMIT}
[connections.{CONNECTION}.crm]
kind = "hubspot"
base_url = "{hubspot_url}"
token = "CAMPAIGN_HUBSPOT_TOKEN"
search_settle_seconds = 0
"""


async def start(config: Path) -> asyncio.subprocess.Process:
    """``syncd run`` from its entry point, in the config's directory."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd.cli",
        "run",
        "--config",
        str(config),
        cwd=config.parent,
        env={**os.environ, **TOKENS},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


def events(workdir: Path) -> list[dict[str, object]]:
    """The status log's events (a line cut short by a kill is left out)."""
    path = workdir / "data" / "status.log"
    found: list[dict[str, object]] = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return found


# -- when to strike --------------------------------------------------------------------


def _writes(world: World) -> int:
    afas = sum(n for k, n in world.afas.requests.items() if k.split(" ")[0] in ("POST", "PUT"))
    return afas + sum(world.hubspot.counts[k] for k in _HUBSPOT_WRITES)


def _listings(world: World) -> int:
    afas = sum(n for k, n in world.afas.requests.items() if k.startswith("GET "))
    return afas + sum(world.hubspot.counts[k] for k in _HUBSPOT_LISTINGS)


async def _when(world: World, moment: str, rng: random.Random) -> str:
    """Return at the moment to strike; which moment it is ("idle" if none came)."""
    latency = world.afas.latency
    if moment == "anywhere":
        await asyncio.sleep(rng.uniform(0.5, 4.0))
        return moment
    count = _listings if moment == "pull" else _writes
    if not await _rises(count, world, 8.0):
        return "idle"  # nothing to write came within the wait
    if moment == "pull":
        await asyncio.sleep(rng.uniform(0, latency * 3))
    elif moment == "commit":
        await asyncio.sleep(latency + rng.uniform(0, 0.03))
    return moment


async def _rises(count: Callable[[World], int], world: World, seconds: float) -> bool:
    """Wait until ``count`` grows; False if it did not within ``seconds``."""
    before = count(world)
    deadline = time.monotonic() + seconds
    while count(world) == before:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.002)
    return True


# -- settling and checking ---------------------------------------------------------------


async def _converge(
    config: Path, workdir: Path, entities: Sequence[str], result: RunResult, seconds: float
) -> None:
    """Run the daemon without faults until two rounds of cycles write nothing.

    A create cut off by the last kill is in doubt for the simulated Profit's limit from
    the daemon's first cycle: its cycles count it, so they are not quiet meanwhile.
    """
    seen = len(events(workdir))
    daemon = await start(config)
    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds:
            finished = [e for e in events(workdir)[seen:] if e.get("event") == "cycle_finished"]
            quiet = _quiet_rounds(finished, entities)
            if quiet is not None:
                result.converged_after = quiet
                break
            await asyncio.sleep(0.2)
    finally:
        result.converge_seconds = time.monotonic() - started
        daemon.send_signal(signal.SIGTERM)
        if await _exit_code(daemon, 60) != 0:
            result.errors.append(f"SIGTERM when idle: exit {daemon.returncode}")


def _quiet_rounds(finished: list[dict[str, object]], entities: Sequence[str]) -> int | None:
    """Cycles per entity until the first of two quiet cycles in a row, for every entity."""
    needed = 0
    for entity in entities:
        mine = [e for e in finished if e.get("entity") == entity]
        quiet = [_quiet(e.get("counts")) for e in mine]
        at = next((i for i in range(len(quiet) - 1) if quiet[i] and quiet[i + 1]), None)
        if at is None:
            return None
        needed = max(needed, at + 1)
    return needed


def _quiet(counts: object) -> bool:
    """A cycle that wrote nothing (open conflicts are counted every cycle)."""
    return isinstance(counts, dict) and not set(counts) - {"conflicts"}


async def _count_cycles(workdir: Path, result: RunResult) -> None:
    """Cycles started and failed while kills were coming, from the state store (the
    status log misses what a kill cut off before it was shipped)."""
    store = await open_store(f"sqlite:///{workdir / 'data' / 'syncd.db'}")
    try:
        names = ("cycle_started", "cycle_failed")
        logged = await store.events(CONNECTION, limit=1_000_000, names=names)
        result.cycles = sum(e.name == "cycle_started" for e in logged)
        result.failed_cycles = sum(e.name == "cycle_failed" for e in logged)
    finally:
        await store.close()


async def _check(world: World, workdir: Path, result: RunResult) -> None:
    store = await open_store(f"sqlite:///{workdir / 'data' / 'syncd.db'}")
    try:
        await check(world, store, result)
    finally:
        await store.close()


async def _exit_code(daemon: asyncio.subprocess.Process, seconds: float) -> int | None:
    try:
        return await asyncio.wait_for(daemon.wait(), seconds)
    except TimeoutError:
        daemon.kill()
        await daemon.wait()
        return None
