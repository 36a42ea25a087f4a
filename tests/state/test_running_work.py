"""Running work in the store, on SQLite and PostgreSQL: told, updated, ended, and left
out (then removed) once stale."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from syncd.records import Side
from syncd.state.rows import RunningWork, WorkKind
from syncd.state.store import StateStore, open_store

T0 = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def work(key: str, side: Side = Side.CRM, *, at: datetime = T0, **more: object) -> RunningWork:
    told = RunningWork(key, "demo/customer", side, WorkKind.LISTING, at, at, "box", 41)
    return replace(told, **more)  # type: ignore[arg-type]


async def test_work_is_told_updated_and_ended(store: StateStore) -> None:
    await store.tell_work(work("a", expected=None))
    await store.tell_work(work("b", Side.AFAS, kind=WorkKind.MATCH_PLAN, expected=300))
    later = T0 + timedelta(seconds=5)
    await store.tell_work(work("a", listed=200, heard=later, expected=900))

    running = await store.running_work(heard_since=T0)

    assert running == [  # begun at once: by side
        work("b", Side.AFAS, kind=WorkKind.MATCH_PLAN, expected=300),
        work("a", listed=200, heard=later, expected=900),
    ]
    assert all(w.started.utcoffset() == timedelta(0) for w in running)
    await store.end_work("a")
    await store.end_work("gone already")  # ending twice is harmless
    assert [w.key for w in await store.running_work(heard_since=T0)] == ["b"]


async def test_stale_work_is_not_read_and_is_removed(store: StateStore) -> None:
    await store.tell_work(work("died", at=T0))
    await store.tell_work(work("lives", at=T0 + timedelta(minutes=5)))

    assert [w.key for w in await store.running_work(T0 + timedelta(minutes=1))] == ["lives"]
    await store.forget_stale_work(heard_before=T0 + timedelta(minutes=1))
    assert [w.key for w in await store.running_work(T0)] == ["lives"]


async def test_work_told_by_one_process_is_read_by_another(state_url: str) -> None:
    """Two stores opened on one database, as two processes (or replicas) open it."""
    teller, reader = await open_store(state_url), await open_store(state_url)
    try:
        await teller.tell_work(work("x", listed=50))
        assert [w.listed for w in await reader.running_work(T0)] == [50]
    finally:
        await teller.close()
        await reader.close()
