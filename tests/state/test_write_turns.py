"""On SQLite, a process's write transactions take turns in the order they asked, instead
of racing in SQLite's busy handler (where a lane's small write waited behind a first
sync's writes for up to 20 s)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from syncd.errors import StateError
from syncd.records import Side
from syncd.state.rows import StatusEvent
from syncd.state.store import StateStore, open_store
from syncd.state.write_turns import WriteTurns


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[StateStore]:
    store = await open_store(f"sqlite:///{tmp_path / 'state.db'}")
    yield store
    await store.close()


async def test_writes_wait_for_their_turn_in_the_order_they_asked(
    sqlite_store: StateStore,
) -> None:
    first_in, let_go, order = asyncio.Event(), asyncio.Event(), []

    async def write(n: int) -> None:
        async with sqlite_store.transaction() as tx:
            await tx.add_event(StatusEvent(f"lane{n}", "customer", "cycle_started", data={}))
            await tx.flush_events()  # SQLite's writer lock taken
            order.append(n)
            if n == 0:
                first_in.set()
                await let_go.wait()

    holding = asyncio.create_task(write(0))
    await first_in.wait()
    waiting = []
    for n in range(1, 6):
        waiting.append(asyncio.create_task(write(n)))
        await asyncio.sleep(0)  # each asks before the next
    await asyncio.sleep(0.05)
    # they wait here, not in SQLite's busy handler with a connection each
    assert order == [0]
    assert sqlite_store._db.engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    reading = await sqlite_store.get_cursor("lane1", "customer", Side.AFAS)  # reads go on
    assert reading is None
    let_go.set()
    await asyncio.gather(holding, *waiting)
    assert order == [0, 1, 2, 3, 4, 5]
    assert len(await sqlite_store.events(names=["cycle_started"])) == 6


async def test_a_turn_never_given_fails_as_a_locked_database_would() -> None:
    turns = WriteTurns(patience=0.05)
    async with turns.turn("cannot save a link"):
        with pytest.raises(StateError, match="cannot save a link: the other writes"):
            async with turns.turn("cannot save a link"):
                pass
