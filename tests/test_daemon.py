"""``syncd run``: a real subprocess on a schedule, SIGTERM, the status log; backoff."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from syncd.config import load_settings
from syncd.daemon import Daemon, Lane, incremental_job
from syncd.daemon.trimming import MemoryHandBack
from syncd.engine.cycle import Connection, run_cycle
from syncd.engine.progress import NO_PROGRESS, SideListing
from syncd.errors import TransientError
from syncd.events import EventName
from syncd.gateways.memory import MemoryGateway
from syncd.records import Side
from syncd.state.rows import StatusEvent
from syncd.state.store import StateStore
from syncd.status.activity import STANDING
from syncd.status.running import StoredProgress
from tests.config_file import write_config
from tests.loopback import free_port


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def log_events(directory: Path) -> list[dict[str, object]]:
    path = directory / "data" / "status.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def one_lane(
    tmp_path: Path, store: StateStore, pace: Mapping[str, int] | None = None
) -> tuple[Daemon, Lane, MemoryGateway, MemoryGateway]:
    """A daemon of the demo connection's customer lane on memory sides: (daemon, lane,
    crm, afas)."""
    settings = load_settings(write_config(tmp_path, daemon=pace))
    mapping = settings.mappings
    crm, afas = MemoryGateway(Side.CRM, mapping), MemoryGateway(Side.AFAS, mapping)
    conn = Connection("demo", {Side.CRM: crm, Side.AFAS: afas}, store, mapping, settings.rules)
    daemon = Daemon(settings, stream=None)
    lane = Lane(conn, "customer", None)
    daemon.lanes = [lane]
    return daemon, lane, crm, afas


def test_run_syncs_on_a_schedule_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, status_port=port)
    command = [sys.executable, "-m", "syncd.cli", "run", "--config", str(config)]
    daemon = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            finished = [e for e in log_events(tmp_path) if e["event"] == "cycle_finished"]
            per_entity = {
                e["entity"]: sum(f["entity"] == e["entity"] for f in finished) for e in finished
            }
            # contacts wait for their companies' links, and go a cycle after them
            if len(per_entity) == 3 and min(per_entity.values()) >= 3:
                break
            time.sleep(0.2)
        status, body = get(f"http://127.0.0.1:{port}/status")
        metrics = get(f"http://127.0.0.1:{port}/metrics")[1]
        page = get(f"http://127.0.0.1:{port}/")[1]
        ready = get(f"http://127.0.0.1:{port}/readyz")[0]
        daemon.send_signal(signal.SIGTERM)
        out, _ = daemon.communicate(timeout=20)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0
    assert status == 200
    assert {row["entity"]: row["linked"] for row in json.loads(body)} == {
        "customer": 7,
        "supplier": 5,
        "contact": 7,
    }
    # Van der Linden's e-mail differs between the sides: its first link settled it.
    assert 'syncd_open_conflicts{connection="demo",entity="customer"} 0.0' in metrics
    assert ready == 200
    events = log_events(tmp_path)
    for entity in ("customer", "supplier", "contact"):  # the page charts what they did
        changed = sum(
            n
            for e in events
            if e["event"] == "cycle_finished" and e["entity"] == entity
            for kind, n in cast(dict[str, int], e["counts"]).items()
            if kind not in STANDING
        )
        assert f'aria-label="demo/{entity}: {changed} changes in the last 24 hours' in page
    names = {e["event"] for e in events}
    assert names <= {str(n) for n in EventName}
    assert {"cycle_started", "cycle_finished", "record_created", "record_linked"} <= names
    assert [json.loads(line)["id"] for line in out.splitlines()] == [e["id"] for e in events]
    # Later cycles found nothing to do: the sides had converged.
    last = [e for e in events if e["event"] == "cycle_finished"][-3:]
    assert all(e["counts"] == {} for e in last), last
    assert (tmp_path / "data" / "status.log").stat().st_mode & 0o077 == 0
    check = subprocess.run(
        [sys.executable, "-m", "syncd.cli", "check", "--config", str(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    assert check.returncode == 0, check.stdout


async def test_a_failing_side_is_reported_once_and_backed_off(
    tmp_path: Path, store: StateStore
) -> None:
    daemon, lane, _, afas = one_lane(tmp_path, store)
    for _ in range(2):
        afas.fail_next("list_all", TransientError("503 Service Unavailable", retry_after=1))

    await daemon._run_lane_cycle(lane, False)
    await daemon._run_lane_cycle(lane, False)  # backed off: not even tried
    assert afas.calls["list_all"] == 1
    lane.backoff.not_before = None
    await daemon._run_lane_cycle(lane, False)  # fails again: not reported twice
    assert daemon.failed_in_a_row() == {("demo", "customer"): 2}  # for /metrics
    lane.backoff.not_before = None
    await daemon._run_lane_cycle(lane, False)  # works
    assert daemon.failed_in_a_row() == {("demo", "customer"): 0}

    names = [
        e.name for e in await store.events("demo", names=["source_failed", "source_recovered"])
    ]
    assert names == ["source_failed", "source_recovered"]
    assert lane.backoff.failures == 0


@pytest.mark.parametrize(
    "bad",
    [
        'full_sweep_cron = "every day"',
        "max_backoff_seconds = -1",
        "busy_interval_seconds = 5",  # below AFAS's fair-use floor
        "busy_interval_seconds = 120",  # slower than interval_seconds
    ],
)
def test_bad_schedules_are_refused(tmp_path: Path, bad: str) -> None:
    from syncd.errors import ConfigError

    config = write_config(tmp_path)
    text = config.read_text(encoding="utf-8").replace(
        "jitter_seconds = 0", f"jitter_seconds = 0\n{bad}"
    )
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="daemon"):
        load_settings(config)


async def test_the_log_catches_up_with_events_a_killed_daemon_never_wrote(
    tmp_path: Path, store: StateStore
) -> None:
    settings = load_settings(write_config(tmp_path))
    mapping = settings.mappings
    gateways = {side: MemoryGateway(side, mapping) for side in Side}
    conn = Connection("demo", gateways, store, mapping, settings.rules)
    first = Daemon(settings, stream=None)
    first.lanes = [Lane(conn, "customer", None)]
    await first._catch_up_log()
    await first._run_lane_cycle(first.lanes[0], False)
    logged = [e["id"] for e in log_events(tmp_path)]
    assert logged
    # Killed after committing a cycle's events but before writing them to the file:
    await run_cycle(conn, "customer")
    first.log.close()

    again = Daemon(settings, stream=None)
    again.lanes = [Lane(conn, "customer", None)]
    await again._catch_up_log()
    await again._copy_events_to_log()
    again.log.close()

    in_store = [e.id for e in await store.events("demo")]
    assert [e["id"] for e in log_events(tmp_path)] == in_store  # each once, none missing
    assert len(in_store) > len(logged)


async def test_lanes_finishing_together_log_each_event_once(
    tmp_path: Path, store: StateStore
) -> None:
    """Each lane's cycle ships the new events as it ends; two ending at once read the
    same events from the store, and each must still be logged (and printed) once."""
    settings = load_settings(write_config(tmp_path))
    mapping = settings.mappings
    gateways = {side: MemoryGateway(side, mapping) for side in Side}
    conn = Connection("demo", gateways, store, mapping, settings.rules)
    daemon = Daemon(settings, stream=None)
    daemon.lanes = [Lane(conn, "customer", None), Lane(conn, "supplier", None)]
    await daemon._catch_up_log()
    await run_cycle(conn, "customer")
    await run_cycle(conn, "supplier")

    await asyncio.gather(daemon._copy_events_to_log(), daemon._copy_events_to_log())
    daemon.log.close()

    assert [e["id"] for e in log_events(tmp_path)] == [e.id for e in await store.events("demo")]


async def test_copying_a_cycle_s_events_to_the_log_asks_the_store_once(
    tmp_path: Path, store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each lane's cycle copies the new events as it ends: with many lanes an empty
    query after the last page was a large part of an idle cycle's cost."""
    daemon, lane, _, _ = one_lane(tmp_path, store)
    await daemon._catch_up_log()
    await run_cycle(lane.conn, "customer")
    asked = []
    events = store.events

    async def counted(*args: Any, **kwargs: Any) -> list[StatusEvent]:
        asked.append(kwargs)
        return await events(*args, **kwargs)

    monkeypatch.setattr(store, "events", counted)
    await daemon._copy_events_to_log()
    daemon.log.close()

    assert len(asked) == 1
    assert [e["id"] for e in log_events(tmp_path)] == [e.id for e in await events("demo")]


async def test_the_daemon_s_cycles_tell_the_status_page_their_whole_listings(
    tmp_path: Path, store: StateStore
) -> None:
    settings = load_settings(write_config(tmp_path))
    mapping = settings.mappings
    crm, afas = MemoryGateway(Side.CRM, mapping), MemoryGateway(Side.AFAS, mapping)
    crm.put("customer", {"name": "Atlas B.V."})
    conn = Connection("demo", {Side.CRM: crm, Side.AFAS: afas}, store, mapping, settings.rules)
    daemon = Daemon(settings, stream=None)
    lane = Lane(conn, "customer", None)
    daemon.lanes = [lane]
    seen: list[tuple[str, Side]] = []

    class Watching:
        def listing(self, lane: str, side: Side, expected: int | None) -> SideListing:
            seen.append((lane, side))
            return NO_PROGRESS.listing(lane, side, expected)

    async with StoredProgress(store, also=Watching()) as told:
        daemon.running = told
        await daemon._run_lane_cycle(lane, False)  # a first sync: both sides listed whole
        await told.written()

    assert sorted(seen) == [("demo/customer", Side.AFAS), ("demo/customer", Side.CRM)]
    assert await store.running_work(heard_since=datetime.min.replace(tzinfo=UTC)) == []


async def test_a_lane_polls_sooner_after_a_change_and_settles_back(
    tmp_path: Path, store: StateStore
) -> None:
    pace = {"interval_seconds": 60, "busy_interval_seconds": 15, "busy_for_seconds": 300}
    daemon, lane, crm, _ = one_lane(tmp_path, store, pace)
    start = datetime.now(UTC) + timedelta(days=1)  # the paused scheduler never runs it
    now = start
    daemon.clock = lambda: now
    daemon.scheduler = daemon._schedule()
    daemon.scheduler.start(paused=True)
    try:

        async def cycle_at(when: datetime) -> datetime:
            nonlocal now
            now = when
            await daemon._run_lane_cycle(lane, False)
            job = daemon.scheduler.get_job(incremental_job(lane)) if daemon.scheduler else None
            assert job is not None
            return cast(datetime, job.next_run_time)

        crm.put("customer", {"name": "Atlas B.V."})
        assert await cycle_at(start) == start + timedelta(seconds=15)  # created: busy
        quiet = start + timedelta(seconds=15)
        assert await cycle_at(quiet) == quiet + timedelta(seconds=15)  # still busy
        settled = start + timedelta(seconds=301)
        assert await cycle_at(settled) == settled + timedelta(seconds=60)  # back to interval
        crm.put("customer", {"name": "Borealis B.V."})
        again = settled + timedelta(seconds=60)
        assert await cycle_at(again) == again + timedelta(seconds=15)
    finally:
        daemon.scheduler.shutdown(wait=False)


async def test_a_hinted_cycle_never_puts_off_the_poll_but_may_bring_it_sooner(
    tmp_path: Path, store: StateStore
) -> None:
    pace = {"interval_seconds": 60, "busy_interval_seconds": 15, "busy_for_seconds": 300}
    daemon, lane, crm, _ = one_lane(tmp_path, store, pace)
    start = datetime.now(UTC) + timedelta(days=1)  # the paused scheduler never runs it
    now = start
    daemon.clock = lambda: now
    daemon.scheduler = daemon._schedule()
    daemon.scheduler.start(paused=True)

    def next_poll() -> datetime:
        job = daemon.scheduler.get_job(incremental_job(lane)) if daemon.scheduler else None
        assert job is not None
        return cast(datetime, job.next_run_time)

    async def hinted_cycle_at(when: datetime, crm_id: str) -> None:
        nonlocal now
        now = when
        async with lane.lock:
            await daemon._lane_cycle(
                lane, hinted={Side.CRM: frozenset({crm_id}), Side.AFAS: frozenset()}
            )

    try:
        await daemon._run_lane_cycle(lane, False)  # nothing to do: quiet, next in 60 s
        assert next_poll() == start + timedelta(seconds=60)
        crm_id = crm.put("customer", {"name": "Atlas B.V."})
        # a hint of a change makes the lane busy: its poll comes sooner
        await hinted_cycle_at(start + timedelta(seconds=5), crm_id)
        assert next_poll() == start + timedelta(seconds=20)
        # hints that keep coming do not put the poll off (AFAS's changes wait for it)
        for n in range(3):
            crm.edit("customer", crm_id, {"name": f"Atlas {n} B.V."})
            await hinted_cycle_at(start + timedelta(seconds=10 + n), crm_id)
            assert next_poll() == start + timedelta(seconds=20)
    finally:
        daemon.scheduler.shutdown(wait=False)


async def test_a_poll_due_during_a_hinted_cycle_waits_for_it_but_not_for_another_poll(
    tmp_path: Path, store: StateStore
) -> None:
    daemon, lane, crm, _ = one_lane(tmp_path, store)
    crm.put("customer", {"name": "Atlas B.V."})

    async with lane.lock:  # a poll or sweep in flight: this poll is skipped
        await daemon._run_lane_cycle(lane, False)
    assert await store.get_links("demo", "customer") == []

    async with lane.lock:  # as a hinted cycle holds it
        lane.hinted_in_flight = True
        poll = asyncio.create_task(daemon._run_lane_cycle(lane, False))
        await asyncio.sleep(0.05)
        assert not poll.done()
        lane.hinted_in_flight = False
    await poll  # ran right after it, not an interval later
    assert len(await store.get_links("demo", "customer")) == 1


async def test_each_poll_comes_a_random_part_of_the_jitter_after_the_interval(
    tmp_path: Path, store: StateStore
) -> None:
    """Lanes that start together must not poll together for ever: a burst of every lane's
    cycle each interval keeps the lanes at its end waiting."""
    pace = {"interval_seconds": 60, "jitter_seconds": 10}
    daemon, lane, _, _ = one_lane(tmp_path, store, pace)
    now = datetime(2026, 12, 8, tzinfo=UTC)
    daemon.clock = lambda: now
    lanes = [lane, Lane(lane.conn, "supplier", None)]
    polls = [daemon.next_poll(lane) for _ in range(20) for lane in lanes]
    assert all(now + timedelta(seconds=60) <= at <= now + timedelta(seconds=70) for at in polls)
    assert len(set(polls)) > 10


async def test_the_daemon_hands_memory_back_after_a_change_not_after_idle_cycles(
    tmp_path: Path, store: StateStore
) -> None:
    daemon, lane, crm, _ = one_lane(tmp_path, store)
    trims: list[datetime] = []
    daemon.hand_back = MemoryHandBack(daemon.clock, lambda: trims.append(daemon.clock()))

    await daemon._run_lane_cycle(lane, False)
    await daemon._run_lane_cycle(lane, False)
    assert trims == []  # nothing to sync: idle cycles
    crm.put("customer", {"name": "Atlas B.V."})
    await daemon._run_lane_cycle(lane, False)  # creates it in AFAS
    assert len(trims) == 1
    await daemon._run_lane_cycle(lane, False)
    assert len(trims) == 1
