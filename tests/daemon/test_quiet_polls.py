"""The daemon's quiet polls (engine/speed/quiet.py): logged but not in the store's events,
written to the store a batch at a time, and made whole again by what the store shows
of the connection (an operator's action, a replica's lease)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from syncd.engine.speed.quiet import QuietLanes
from syncd.events import EventName
from syncd.state.rows import StatusEvent
from syncd.state.store import StateStore
from tests.test_daemon import log_events, one_lane


async def test_idle_polls_are_quiet_logged_counted_and_disturbed_by_the_connections_events(
    tmp_path: Path, store: StateStore
) -> None:
    daemon, lane, _, _ = one_lane(tmp_path, store)
    lane.conn = dataclasses.replace(lane.conn, quiet=QuietLanes(), overlap=timedelta(0))
    daemon.store = store

    for _ in range(3):  # a whole cycle (no customer on either side), then two quiet polls
        await daemon._run_lane_cycle(lane, False)

    names = [e.name for e in await store.events("demo")]
    assert names == [EventName.CYCLE_STARTED, EventName.CYCLE_FINISHED]
    logged = [e["event"] for e in log_events(tmp_path)]
    assert logged == [*names, EventName.POLL_QUIET, EventName.POLL_QUIET]
    await daemon._flush_quiet_polls()
    [polls] = (await store.lane_polls("demo")).values()
    assert polls.polls == 2

    await _add_event(store, "elsewhere", EventName.RETRY_REQUESTED)
    await daemon._watch_store()
    await daemon._run_lane_cycle(lane, False)  # another connection's event: still quiet
    assert len(await store.events("demo")) == 2

    await _add_event(store, "demo", EventName.RETRY_REQUESTED)  # an operator, elsewhere
    await daemon._watch_store()
    await daemon._run_lane_cycle(lane, False)
    names = [e.name for e in await store.events("demo")]
    assert names[2:] == [EventName.RETRY_REQUESTED, EventName.CYCLE_STARTED, "cycle_finished"]
    await daemon._run_lane_cycle(lane, False)
    assert log_events(tmp_path)[-1]["event"] == EventName.POLL_QUIET


async def _add_event(store: StateStore, connection: str, name: EventName) -> None:
    async with store.transaction() as tx:
        await tx.add_event(StatusEvent(connection, "customer", name, data={"by": "Anouk"}))
