"""``syncd run`` reloads its configuration on SIGHUP: connections come and go without a
restart, a broken config is refused with the running one kept, a cycle is never cut."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from syncd.config import ConnectionSettings, Settings, load_settings
from syncd.config.changes import config_changes
from syncd.daemon import Daemon
from syncd.engine.cycle import Connection
from syncd.gateways.memory import MemoryGateway
from syncd.records import Side
from syncd.state.store import StateStore
from tests.config_file import DEMO_CONNECTION, ROOT, write_config

NORTH = """
[connections.north]
crm = { kind = "memory" }
afas = { kind = "memory" }
fixture = "north.json"
"""


async def until(what: str, check: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.1)


def rewrite(directory: Path, connections: str) -> None:
    write_config(directory, connections)


async def test_sighup_adds_and_removes_connections_in_a_running_daemon(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(ROOT / "tests" / "fixtures" / "systems.json", tmp_path / "north.json")
    daemon = Daemon(load_settings(write_config(tmp_path), env={}), stream=None)
    closed: list[StateStore] = []
    really_close = StateStore.close

    async def close(store: StateStore) -> None:
        closed.append(store)
        await really_close(store)

    monkeypatch.setattr(StateStore, "close", close)
    running = asyncio.create_task(daemon.run())

    async def connections_synced(*names: str) -> bool:
        if daemon.store is None or sorted(daemon.opened) != sorted(names):
            return False
        finished = await daemon.store.events(names=["cycle_finished"])
        return {e.connection for e in finished} >= set(names)

    def jobs() -> set[str]:
        return {job.id for job in daemon.scheduler.get_jobs()} if daemon.scheduler else set()

    try:
        await until("demo has synced", lambda: connections_synced("demo"))

        rewrite(tmp_path, DEMO_CONNECTION + NORTH)
        os.kill(os.getpid(), signal.SIGHUP)
        await until("north was added and synced", lambda: connections_synced("demo", "north"))
        assert {lane.key for lane in daemon.lanes} >= {"north/customer", "north/contact"}
        assert "north/customer/incremental" in jobs()

        rewrite(tmp_path, NORTH)
        os.kill(os.getpid(), signal.SIGHUP)

        async def demo_gone() -> bool:
            return "demo" not in daemon.opened

        await until("demo was removed", demo_gone)
        assert {lane.conn.name for lane in daemon.lanes} == {"north"}
        assert not any(job.startswith("demo/") for job in jobs())
        assert ("demo", "customer") not in daemon.shown
        # demo's lanes shared the daemon's one store; closing demo left it open for north
        assert {lane.conn.store for lane in daemon.lanes} == {daemon.store}
        assert closed == []

        (tmp_path / "config.toml").write_text(
            (tmp_path / "config.toml").read_text(encoding="utf-8")
            + '\n[connections.south]\ncrm = { kind = "nothing" }\n',
            encoding="utf-8",
        )
        with caplog.at_level(logging.ERROR, logger="syncd.daemon"):
            assert not await daemon.reload()
        assert "reload refused" in caplog.text
        assert "connections.south.crm.kind" in caplog.text  # the problem, named
        assert {lane.conn.name for lane in daemon.lanes} == {"north"}  # the old one runs on
        assert "north/customer/incremental" in jobs()
    finally:
        daemon.stop()
        assert await asyncio.wait_for(running, 20) == 0
    assert closed == [daemon.store]  # once, as the daemon stopped


async def test_a_removed_connection_s_cycle_in_flight_is_not_cut(
    tmp_path: Path, store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(write_config(tmp_path), env={})
    daemon = Daemon(settings, stream=None)
    in_cycle, finish, ended = asyncio.Event(), asyncio.Event(), []

    async def slow_cycle(*_: object, **__: object) -> None:
        in_cycle.set()
        await finish.wait()
        ended.append("ended")
        raise RuntimeError("stop here: the test only watches the cycle end")

    monkeypatch.setattr("syncd.daemon.run_cycle", slow_cycle)
    gateways = {side: MemoryGateway(side, settings.mappings) for side in Side}
    conn = Connection("demo", gateways, store, settings.mappings, settings.rules)
    monkeypatch.setattr("syncd.daemon.open_connection", _opening(conn))
    await daemon._open(settings.connections[0])
    lane = daemon.lanes[0]

    cycle = asyncio.create_task(daemon._run_lane_cycle(lane, False))
    await asyncio.wait_for(in_cycle.wait(), 5)
    closing = asyncio.create_task(daemon._close("demo"))
    await asyncio.sleep(0.2)
    assert not closing.done()  # waits for the cycle
    assert not cycle.done()
    finish.set()
    await asyncio.wait_for(closing, 5)
    await cycle
    assert ended == ["ended"]  # it ran to its end, not cancelled
    assert daemon.lanes == []
    await daemon._run_lane_cycle(lane, False)  # a retired lane starts no cycle
    assert ended == ["ended"]


async def test_a_removed_connection_s_long_cycle_holds_up_neither_the_added_ones_nor_the_reload(
    tmp_path: Path, store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An AFAS that never answers keeps a cycle in flight until the read timeout (15
    minutes): a reload removing its connection must not wait that long to add others."""
    shutil.copy(ROOT / "tests" / "fixtures" / "systems.json", tmp_path / "north.json")
    settings = load_settings(write_config(tmp_path), env={})
    daemon = Daemon(settings, stream=None)
    in_cycle, finish = asyncio.Event(), asyncio.Event()

    async def demo_hangs(conn: Connection, *_: object, **__: object) -> None:
        if conn.name == "demo":
            in_cycle.set()
            await finish.wait()
        raise RuntimeError("stop here: the test only watches the cycles")

    monkeypatch.setattr("syncd.daemon.run_cycle", demo_hangs)
    monkeypatch.setattr("syncd.daemon.open_connection", _opening_each(store, settings))
    await daemon._open(settings.connections[0])
    cycle = asyncio.create_task(daemon._run_lane_cycle(daemon.lanes[0], False))
    await asyncio.wait_for(in_cycle.wait(), 5)

    rewrite(tmp_path, NORTH)
    assert await asyncio.wait_for(daemon.reload(), 5)
    assert "north" in daemon.opened  # added while demo's cycle still runs
    assert not cycle.done()  # and that cycle is not cut
    assert "demo" in daemon.closing

    finish.set()
    await cycle
    await until("demo was closed", lambda: _closed(daemon))
    assert {lane.conn.name for lane in daemon.lanes} == {"north"}
    assert list(daemon.opened) == ["north"]
    await daemon._close("north")


async def _closed(daemon: Daemon) -> bool:
    return not daemon.closing


def _opening_each(
    store: StateStore, settings: Settings
) -> Callable[..., AbstractAsyncContextManager[tuple[Connection, None]]]:
    """open_connection, handing out a connection of memory sides on ``store``."""

    @asynccontextmanager
    async def opening(
        _: object, chosen: ConnectionSettings, **__: object
    ) -> AsyncIterator[tuple[Connection, None]]:
        gateways = {side: MemoryGateway(side, settings.mappings) for side in Side}
        yield Connection(chosen.name, gateways, store, settings.mappings, settings.rules), None

    return opening


def _opening(
    conn: Connection,
) -> Callable[..., AbstractAsyncContextManager[tuple[Connection, None]]]:
    """open_connection, handing out ``conn``."""

    @asynccontextmanager
    async def opening(*_: object, **__: object) -> AsyncIterator[tuple[Connection, None]]:
        yield conn, None

    return opening


def test_what_a_reload_changes(tmp_path: Path) -> None:
    env = {"AFAS_TOKEN": "one"}
    afas = '\n[connections.acme]\ncrm = { kind = "memory" }\nafas = { kind = "memory" }\n'
    fixture = 'fixture = "systems.json"\n'
    old = load_settings(write_config(tmp_path, DEMO_CONNECTION + afas + fixture), env=env)

    same = load_settings(write_config(tmp_path, DEMO_CONNECTION + afas + fixture), env=env)
    assert config_changes(old, same) == config_changes(old, old)
    assert config_changes(old, same).changed == ()

    fewer = load_settings(write_config(tmp_path, DEMO_CONNECTION), env=env)
    assert config_changes(old, fewer).removed == ("acme",)
    assert config_changes(fewer, old).added == ("acme",)

    slower = load_settings(write_config(tmp_path, DEMO_CONNECTION, daemon={"interval_seconds": 9}))
    assert config_changes(fewer, slower).changed == ("demo",)  # every connection restarts

    moved = write_config(tmp_path / "elsewhere", DEMO_CONNECTION)
    assert config_changes(fewer, load_settings(moved)).need_restart == ("state_url", "data_dir")


def test_a_token_rotated_in_its_file_restarts_its_connection(tmp_path: Path) -> None:
    token = tmp_path / "afas-token"
    token.write_text("first-token", encoding="utf-8")
    acme = """
[connections.acme]
crm = { kind = "hubspot", token = "HUBSPOT_TOKEN" }
afas = { kind = "afas", environment = 12345, token_file = "afas-token" }
"""
    env = {"HUBSPOT_TOKEN": "pat-1"}
    old = load_settings(write_config(tmp_path, DEMO_CONNECTION + acme), env=env)
    token.write_text("second-token", encoding="utf-8")
    new = load_settings(tmp_path / "config.toml", env=env)

    assert config_changes(old, new).changed == ("acme",)
    assert "second-token" not in f"{new!r} {new.connections!r}"


def test_syncd_run_for_one_connection_reloads_that_connection_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syncd import cli
    from syncd.cli import cycles

    shutil.copy(ROOT / "tests" / "fixtures" / "systems.json", tmp_path / "north.json")
    config = write_config(tmp_path, DEMO_CONNECTION + NORTH)
    started: list[Settings] = []

    class Recording:
        def __init__(
            self, settings: Settings, *, reread: Callable[[], Settings], **_: object
        ) -> None:
            started.append(settings)
            self.reread = reread

        async def run(self) -> int:
            started.append(self.reread())
            return 0

    monkeypatch.setattr(cycles, "Daemon", Recording)
    assert cli.main(["run", "--config", str(config), "--connection", "north"]) == 0
    assert [[c.name for c in s.connections] for s in started] == [["north"], ["north"]]
