"""``syncd once``, ``syncd match --plan`` and the daemon tell the state store of their
whole listings, so the status page of a daemon running elsewhere shows them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from syncd.cli import EXIT_CLEAN, main
from syncd.config import load_settings
from syncd.daemon import Daemon
from syncd.engine.progress import SideListing
from syncd.records import Side
from syncd.state.rows import RunningWork, WorkKind
from syncd.status import running
from syncd.status.running import StoredProgress, WorkStore
from tests.config_file import write_config


@dataclass
class Told:
    begun: list[tuple[str, Side, WorkKind]] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # begun, as written to the store
    ended: list[str] = field(default_factory=list)  # as written to the store


class Passing:
    """A store's running work, the starts and ends kept on the way through (a listing
    quicker than a write may end before its start was written: then neither is)."""

    def __init__(self, store: WorkStore, told: Told) -> None:
        self._store = store
        self._told = told

    async def tell_work(self, work: RunningWork) -> None:
        if work.key not in self._told.written:
            self._told.written.append(work.key)
        await self._store.tell_work(work)

    async def end_work(self, key: str) -> None:
        self._told.ended.append(key)
        await self._store.end_work(key)

    async def forget_stale_work(self, heard_before: datetime) -> None:
        await self._store.forget_stale_work(heard_before)


@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch) -> Told:
    """What the commands tell their progress, and what it writes to their store."""
    kept = Told()

    class Kept(StoredProgress):
        def __init__(self, store: WorkStore, **options: Any) -> None:
            super().__init__(Passing(store, kept), **options)
            self.kind = options.get("kind", WorkKind.LISTING)

        def listing(self, lane: str, side: Side, expected: int | None) -> SideListing:
            kept.begun.append((lane, side, self.kind))
            return super().listing(lane, side, expected)

    monkeypatch.setattr("syncd.cli.cycles.StoredProgress", Kept)
    return kept


def test_once_tells_the_store_of_a_first_sync_s_listings(
    tmp_path: Path, told: Told, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)

    assert main(["once", "--config", str(config), "--entity", "customer"]) == EXIT_CLEAN

    assert sorted(told.begun) == [("demo/customer", s, WorkKind.LISTING) for s in sorted(Side)]
    assert sorted(told.ended) == sorted(told.written)  # each begun in the store is removed


def test_a_match_plan_tells_the_store_how_far_each_side_is_listed(
    tmp_path: Path, told: Told, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    plan = tmp_path / "matches.csv"

    assert main(["match", "--config", str(config), "--plan", str(plan)]) == EXIT_CLEAN

    assert told.begun == [("demo/customer", side, WorkKind.MATCH_PLAN) for side in Side]
    assert sorted(told.ended) == sorted(told.written)


def test_a_plan_is_a_dry_run_and_tells_the_store_nothing(
    tmp_path: Path, told: Told, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    main(["plan", "--config", str(config), "--entity", "customer"])
    assert told == Told()


async def test_the_daemon_tells_its_store_once_running(tmp_path: Path) -> None:
    daemon = Daemon(load_settings(write_config(tmp_path), env={}), stream=None)
    task = asyncio.create_task(daemon.run())
    try:
        for _ in range(1000):
            if daemon.lanes and isinstance(daemon.running, StoredProgress):
                break
            await asyncio.sleep(0.01)
        assert isinstance(daemon.running, running.StoredProgress)
    finally:
        daemon.stop()
        assert await asyncio.wait_for(task, 15) == 0
