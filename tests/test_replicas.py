"""Three ``syncd run`` replicas sharing one PostgreSQL state store.

Three connections, each with its own pair of simulators (in this process, on loopback),
give six lanes (connection and entity). Every replica sends its name, the lane and its
cycle number in the User-Agent, and the simulators log each request with its start and
end, so the logs show who synced what, and when. The test checks that every lane is
synced, that no two cycles of a lane ever overlap, that the replicas share the lanes, and
that the lanes of a replica killed with SIGKILL are taken over and keep syncing.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from syncd.config import load_settings
from syncd.daemon import Daemon, Lane, incremental_job
from syncd.engine.cycle import Connection
from syncd.errors import ConfigError, StateError
from syncd.gateways.http.user_agent import PRODUCT, calling_as, user_agent
from syncd.gateways.memory import MemoryGateway
from syncd.lease import LeaseChanges
from syncd.mapping import load_mappings
from syncd.records import Side
from syncd.sim.afas import AfasSimulator
from syncd.sim.demo import seed_simulators
from syncd.sim.hubspot import HubSpotSimulator, SimConfig
from syncd.state.store import StateStore, open_store
from syncd.status.views import entity_health
from tests.config_file import write_config
from tests.loopback import free_port

ROOT = Path(__file__).resolve().parent.parent
MAPPINGS = load_mappings(ROOT / "mappings", ["customer", "supplier"])
ENTITIES = ("customer", "supplier")
CONNECTIONS = ("north", "south", "west")
REPLICAS = ("r1", "r2", "r3")
TOKENS = {"REPLICA_AFAS_TOKEN": "afas-replica-token", "REPLICA_HUBSPOT_TOKEN": "pat-replica"}
INTERVAL, LEASE_CHECK = 1, 1
CALLER = re.compile(r"\(replica (?P<replica>[^;]+); (?P<lane>[^;]+); cycle (?P<cycle>\d+)\)")


async def until(what: str, check: Callable[[], Awaitable[bool]], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.25)


@dataclass
class Systems:
    """One connection's pair of simulators."""

    name: str
    afas: AfasSimulator
    hubspot: HubSpotSimulator
    afas_url: str = ""
    hubspot_url: str = ""


@dataclass(frozen=True)
class Cycle:
    """One replica's cycle of one lane, as the simulators saw it."""

    lane: str
    replica: str
    number: int
    started: float
    finished: float


@pytest.fixture
async def systems() -> AsyncIterator[list[Systems]]:
    started: list[tuple[Systems, web.AppRunner]] = []
    for index, name in enumerate(CONNECTIONS):
        pair = Systems(name, AfasSimulator(), HubSpotSimulator(config=SimConfig(search_lag=0.3)))
        seed_simulators(pair.afas, pair.hubspot, MAPPINGS, 8, seed=100 + index)
        runner = web.AppRunner(pair.afas.app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        pair.afas_url = f"http://127.0.0.1:{runner.addresses[0][1]}/ProfitRestServices"
        pair.hubspot_url = await pair.hubspot.start()
        started.append((pair, runner))
    yield [pair for pair, _ in started]
    for pair, runner in started:
        await pair.hubspot.close()
        await runner.cleanup()


def write_replica_config(directory: Path, systems: list[Systems]) -> Path:
    connections = "".join(
        f"""
[connections.{pair.name}]
afas = {{ kind = "afas", base_url = "{pair.afas_url}", token = "REPLICA_AFAS_TOKEN" }}
[connections.{pair.name}.crm]
kind = "hubspot"
base_url = "{pair.hubspot_url}"
token = "REPLICA_HUBSPOT_TOKEN"
search_settle_seconds = 1
"""
        for pair in systems
    )
    daemon = {
        "interval_seconds": INTERVAL,
        "shutdown_grace_seconds": 10,
        "lease_check_seconds": LEASE_CHECK,
        "lease_timeout_seconds": 3,
    }
    return write_config(
        directory,
        connections,
        status_port=free_port(),
        # the lanes of companies: six, two a replica (contacts would add three)
        sync={"overlap_seconds": 30, "entities": '["customer", "supplier"]'},
        daemon=daemon,
    )


async def start_replica(
    name: str, directory: Path, config: Path, state_url: str
) -> asyncio.subprocess.Process:
    env = {**os.environ, **TOKENS, "SYNCD_STATE_URL": state_url, "SYNCD_REPLICA": name}
    with (directory / "out.log").open("wb") as out, (directory / "err.log").open("wb") as err:
        return await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "syncd.cli", "run", "--config", str(config)),
            cwd=directory,
            env=env,
            stdout=out,
            stderr=err,
        )


@pytest.mark.slow
@pytest.mark.postgres
async def test_replicas_share_the_lanes_and_take_over_from_a_dead_one(
    tmp_path: Path, postgres_url: str, systems: list[Systems]
) -> None:
    store = await open_store(postgres_url)  # migrated once, before the replicas start
    processes: dict[str, asyncio.subprocess.Process] = {}
    try:
        for name in REPLICAS:
            directory = tmp_path / name
            config = write_replica_config(directory, systems)
            processes[name] = await start_replica(name, directory, config, postgres_url)
        await _scenario(store, systems, processes, tmp_path)
    finally:
        for process in processes.values():
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        codes = {
            name: await asyncio.wait_for(process.wait(), 30) for name, process in processes.items()
        }
        await store.close()
    assert codes == {"r1": -signal.SIGKILL, "r2": 0, "r3": 0}, _stderr(tmp_path)
    for name in REPLICAS:
        text = (tmp_path / name / "out.log").read_text() + (tmp_path / name / "err.log").read_text()
        assert all(secret not in text for secret in TOKENS.values())


async def _scenario(
    store: StateStore,
    systems: list[Systems],
    processes: dict[str, asyncio.subprocess.Process],
    tmp_path: Path,
) -> None:
    lanes = {f"{pair.name}/{entity}" for pair in systems for entity in ENTITIES}

    async def every_lane_synced() -> bool:
        finished = await store.events(names=["cycle_finished"], limit=1000)
        return {f"{e.connection}/{e.entity}" for e in finished} == lanes

    await until("every lane has finished a cycle", every_lane_synced, 60)
    await _edits_cross_over(store, systems, "Zwolle")

    async def balanced() -> bool:
        owners = await _settled_owners(systems, lanes)
        return owners is not None and sorted(map(len, _by_replica(owners).values())) == [2, 2, 2]

    await until("each replica syncs two lanes", balanced, 30)
    owners = _owners(await _cycles(systems), since=time.monotonic() - 2 * INTERVAL)
    orphaned = {lane for lane, replica in owners.items() if replica == "r1"}
    assert len(orphaned) == 2

    processes["r1"].send_signal(signal.SIGKILL)
    killed = time.monotonic()  # the simulators' clock: the same monotonic clock
    await processes["r1"].wait()

    async def taken_over() -> bool:
        later = [c for c in await _cycles(systems) if c.started > killed]
        return orphaned <= {c.lane for c in later}

    await until("the dead replica's lanes are synced again", taken_over, 30)
    await _edits_cross_over(store, systems, "Leiden")

    cycles = await _cycles(systems)
    now = time.monotonic()
    _assert_no_lane_synced_twice_at_once(cycles)
    assert not [c for c in cycles if c.replica == "r1" and c.started > killed]
    takeover = {
        lane: min(c.started for c in cycles if c.lane == lane and c.started > killed) - killed
        for lane in orphaned
    }
    print(f"\ntakeover after SIGKILL, seconds per lane: {takeover}")
    # Claimed at the next lease check, synced at the next interval; the rest is slack
    # for a busy machine running eight processes.
    assert max(takeover.values()) < LEASE_CHECK + INTERVAL + 8
    takers = {c.replica for c in cycles if c.lane in orphaned and c.started > killed}
    assert takers <= {"r2", "r3"}
    acquired = await store.events(names=["lease_acquired"], limit=1000)
    assert {f"{e.connection}/{e.entity}" for e in acquired if e.data["replica"] != "r1"} >= (
        orphaned
    )
    # `syncd status` (and /status) name the replica that holds each lane. On a loaded
    # machine a renewal can come late and the lease be taken again, the status saying
    # so meanwhile: it is compared with the lanes' cycles once those settle.
    owners = _owners(cycles, since=now - 2 * INTERVAL)

    async def status_names_the_owners() -> bool:
        nonlocal owners
        settled = await _settled_owners(systems, lanes)
        if settled is None:
            return False
        owners = settled
        holders = {
            f"{pair.name}/{entity}": (await entity_health(store, pair.name, entity)).replica
            for pair in systems
            for entity in ENTITIES
        }
        return holders == owners

    await until("the status names the replica of each lane's cycles", status_names_the_owners, 15)
    # a replica syncs lanes of several connections at once
    spans = [{lane.split("/")[0] for lane in held} for held in _by_replica(owners).values()]
    assert max(map(len, spans)) >= 2


async def _edits_cross_over(store: StateStore, systems: list[Systems], city: str) -> None:
    """An AFAS user edits one record per lane; each edit must reach HubSpot."""
    expected: dict[tuple[str, str], str] = {}
    for pair in systems:
        used: set[str] = set()
        for entity in ENTITIES:
            links = sorted(await store.get_links(pair.name, entity), key=lambda k: k.afas_id)
            link = next(k for k in links if k.crm_id not in used)  # one edit per company
            used.add(link.crm_id)
            value = f"{city} {pair.name} {entity}"
            native = MAPPINGS[entity].native_name(Side.AFAS, "city")
            pair.afas.edit(entity, link.afas_id, {native: value})
            expected[(pair.name, link.crm_id)] = value

    def arrived() -> dict[tuple[str, str], str | None]:
        by_name = {pair.name: pair for pair in systems}
        return {
            (name, crm_id): by_name[name].hubspot.company(crm_id).properties.get("city")
            for name, crm_id in expected
        }

    async def all_arrived() -> bool:
        return arrived() == expected

    await until(f"every {city!r} edit has reached HubSpot", all_arrived, 30)


async def _cycles(systems: list[Systems]) -> list[Cycle]:
    """Every replica cycle the simulators saw, read through their request-log endpoints."""
    spans: dict[tuple[str, str, int], list[float]] = {}
    async with aiohttp.ClientSession() as session:
        for pair in systems:
            base = pair.afas_url.removesuffix("/ProfitRestServices")
            for url in (f"{base}/_sim/log", f"{pair.hubspot_url}/_sim/log"):
                async with session.get(url) as response:
                    entries = await response.json()
                for entry in entries:
                    caller = CALLER.search(entry["user_agent"])
                    if caller is None:
                        continue  # start-up checks, outside any cycle
                    key = (caller["lane"], caller["replica"], int(caller["cycle"]))
                    assert caller["lane"].startswith(f"{pair.name}/")  # the right systems
                    span = spans.setdefault(key, [entry["started"], entry["finished"]])
                    span[0] = min(span[0], entry["started"])
                    span[1] = max(span[1], entry["finished"])
    return sorted(
        (Cycle(lane, replica, number, *span) for (lane, replica, number), span in spans.items()),
        key=lambda c: c.started,
    )


def _replicas_of(cycles: list[Cycle], since: float) -> dict[str, set[str]]:
    """The replicas that cycled each lane since ``since``."""
    seen: dict[str, set[str]] = defaultdict(set)
    for cycle in cycles:
        if cycle.started >= since:
            seen[cycle.lane].add(cycle.replica)
    return seen


async def _settled_owners(systems: list[Systems], lanes: set[str]) -> dict[str, str] | None:
    """The one replica of each lane's cycles over the last two intervals; None while a
    lane has none, or is handed over within them."""
    recent = _replicas_of(await _cycles(systems), since=time.monotonic() - 2 * INTERVAL)
    if set(recent) != lanes or any(len(replicas) > 1 for replicas in recent.values()):
        return None
    return {lane: replicas.pop() for lane, replicas in recent.items()}


def _owners(cycles: list[Cycle], since: float) -> dict[str, str]:
    """The replica of each lane's cycles since ``since``; several would be a failure."""
    seen = _replicas_of(cycles, since)
    assert all(len(replicas) == 1 for replicas in seen.values()), dict(seen)
    return {lane: replicas.pop() for lane, replicas in seen.items()}


def _by_replica(owners: dict[str, str]) -> dict[str, list[str]]:
    lanes: dict[str, list[str]] = defaultdict(list)
    for lane, replica in owners.items():
        lanes[replica].append(lane)
    return lanes


def _assert_no_lane_synced_twice_at_once(cycles: list[Cycle]) -> None:
    by_lane: dict[str, list[Cycle]] = defaultdict(list)
    for cycle in cycles:
        by_lane[cycle.lane].append(cycle)
    for lane, ordered in by_lane.items():
        assert len(ordered) >= 3, lane
        for before, after in itertools.pairwise(ordered):
            assert before.finished <= after.started, (lane, before, after)


def _stderr(tmp_path: Path) -> str:
    return "\n".join(
        f"--- {name}\n{(tmp_path / name / 'err.log').read_text()[-3000:]}" for name in REPLICAS
    )


# --- configuration ---------------------------------------------------------------------------


def test_the_replica_name_and_lease_times_come_from_env_and_config(tmp_path: Path) -> None:
    config = write_config(tmp_path, daemon={"lease_check_seconds": 2, "lease_timeout_seconds": 20})
    settings = load_settings(config, env={"SYNCD_REPLICA": "blue-1"}, secrets=False)
    assert settings.daemon.replica == "blue-1"
    assert settings.daemon.lease_check.total_seconds() == 2
    assert settings.daemon.lease_timeout.total_seconds() == 20


def test_a_lease_timeout_too_short_to_notice_a_broken_session_is_refused(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, daemon={"lease_check_seconds": 5, "lease_timeout_seconds": 10})
    with pytest.raises(ConfigError) as raised:
        load_settings(config, env={}, secrets=False)
    assert [p.key for p in raised.value.problems] == ["daemon.lease_timeout_seconds"]


async def test_a_second_daemon_on_one_sqlite_store_refuses_to_start(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path), env={})
    first = Daemon(settings, stream=None)
    running = asyncio.create_task(first.run())

    async def first_started() -> bool:
        return bool(first.lanes)

    await until("the first daemon has started", first_started, 10)
    with pytest.raises(StateError, match="already uses the SQLite state store"):
        await Daemon(settings, stream=None).run()
    assert not running.done()  # the first one goes on
    first.stop()
    assert await asyncio.wait_for(running, 15) == 0


def test_the_user_agent_names_the_caller_only_within_a_cycle() -> None:
    assert user_agent() == PRODUCT
    with calling_as("replica r1; north/customer; cycle 7"):
        assert user_agent() == f"{PRODUCT} (replica r1; north/customer; cycle 7)"
    assert user_agent() == PRODUCT
    assert PRODUCT.startswith("syncd/")


class _LosingLeases:
    """Leases that hold every lane until a check finds the lease session gone."""

    replica = "r9"
    shared = True

    def __init__(self) -> None:
        self.held = True

    def holds(self, lane: str) -> bool:
        return self.held

    async def check(self, locks: Mapping[str, asyncio.Lock]) -> LeaseChanges:
        self.held = False
        return LeaseChanges(lost=sorted(locks))

    async def holders(self) -> dict[str, str]:
        return {}

    async def set_lanes(self, lanes: Sequence[str]) -> None:
        return None

    async def close(self) -> None:
        return None


async def test_a_lost_lease_stops_the_cycle_in_flight(
    tmp_path: Path, store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(write_config(tmp_path), env={})
    in_cycle, callers = asyncio.Event(), []

    async def endless_cycle(*_: object, **__: object) -> None:
        callers.append(user_agent())
        in_cycle.set()
        await asyncio.Event().wait()

    monkeypatch.setattr("syncd.daemon.run_cycle", endless_cycle)
    gateways = {side: MemoryGateway(side, settings.mappings) for side in Side}
    conn = Connection("demo", gateways, store, settings.mappings, settings.rules)
    daemon = Daemon(settings, stream=None)
    daemon.leases = _LosingLeases()
    lane = Lane(conn, "customer", None)
    daemon.lanes = [lane]

    spawned = asyncio.create_task(daemon._start_cycle_task(lane, False))
    await asyncio.wait_for(in_cycle.wait(), 5)
    await daemon._check_leases()
    await asyncio.wait_for(spawned, 5)  # the job ends quietly: the cycle was cancelled

    assert lane.cycle is not None
    assert lane.cycle.cancelled()
    assert not lane.lock.locked()
    assert callers == [f"{PRODUCT} (replica r9; demo/customer; cycle 1)"]
    [lost] = await store.events("demo", names=["lease_lost"])
    assert lost.data["replica"] == "r9"
    await daemon._run_lane_cycle(lane, False)  # no lease, no cycle
    assert len(callers) == 1


class _GainingLeases(_LosingLeases):
    """Leases that another replica held until a check hands them all to this one."""

    def __init__(self) -> None:
        self.held = False

    async def check(self, locks: Mapping[str, asyncio.Lock]) -> LeaseChanges:
        self.held = True
        return LeaseChanges(acquired=sorted(locks))


async def test_a_lane_taken_over_polls_at_once_not_when_its_skipped_schedule_comes_round(
    tmp_path: Path, store: StateStore
) -> None:
    settings = load_settings(write_config(tmp_path, daemon={"interval_seconds": 60}), env={})
    gateways = {side: MemoryGateway(side, settings.mappings) for side in Side}
    conn = Connection("demo", gateways, store, settings.mappings, settings.rules)
    daemon = Daemon(settings, stream=None)
    daemon.leases = _GainingLeases()
    lane = Lane(conn, "customer", None)
    daemon.lanes = [lane]
    daemon.scheduler = daemon._schedule()
    daemon.scheduler.start(paused=True)
    try:
        job = daemon.scheduler.get_job(incremental_job(lane))
        assert job is not None
        later = datetime.now(UTC) + timedelta(seconds=50)  # its polls skipped meanwhile
        job.modify(next_run_time=later)
        await daemon._check_leases()
        assert job.next_run_time is not None
        assert job.next_run_time <= datetime.now(UTC)  # jitter 0 in tests
    finally:
        daemon.scheduler.shutdown(wait=False)
