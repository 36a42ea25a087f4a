"""Lane polls in the store, on SQLite and PostgreSQL: batches add up per lane, the later
time stays, read per connection or for all, forgotten with the connection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from syncd.errors import StateError
from syncd.state.rows import LanePoll
from syncd.state.store import StateStore

T0 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


async def record(store: StateStore, *polls: LanePoll) -> None:
    async with store.transaction() as tx:
        await tx.record_polls(polls)


async def test_a_batch_adds_its_counts_and_keeps_the_later_time(store: StateStore) -> None:
    await record(store, LanePoll("main", "customer", T0 + timedelta(minutes=5), 3))
    await record(
        store,
        LanePoll("main", "customer", T0, 2),  # written late: older than the one stored
        LanePoll("main", "supplier", T0),
    )
    await record(store, LanePoll("main", "supplier", T0 + timedelta(minutes=9), 4))

    assert await store.lane_polls() == {
        ("main", "customer"): LanePoll("main", "customer", T0 + timedelta(minutes=5), 5),
        ("main", "supplier"): LanePoll("main", "supplier", T0 + timedelta(minutes=9), 5),
    }


async def test_a_lane_twice_in_one_batch_adds_up(store: StateStore) -> None:
    later = T0 + timedelta(seconds=30)
    await record(store, LanePoll("main", "customer", later, 2), LanePoll("main", "customer", T0))

    assert await store.lane_polls("main") == {
        ("main", "customer"): LanePoll("main", "customer", later, 3)
    }


async def test_times_read_back_are_aware_utc(store: StateStore) -> None:
    at = datetime(2026, 12, 8, 13, 0, tzinfo=timezone(timedelta(hours=2)))
    await record(store, LanePoll("main", "customer", at))

    [poll] = (await store.lane_polls()).values()
    assert poll.at == at
    assert poll.at.utcoffset() == timedelta(0)


async def test_polls_are_read_per_connection(store: StateStore) -> None:
    await record(store, LanePoll("main", "customer", T0), LanePoll("other", "customer", T0, 7))

    assert list(await store.lane_polls("other")) == [("other", "customer")]
    assert await store.lane_polls("nobody") == {}
    assert len(await store.lane_polls()) == 2


async def test_naive_datetimes_are_refused(store: StateStore) -> None:
    await record(store, LanePoll("main", "customer", T0))
    with pytest.raises(StateError, match="naive datetime"):
        await record(store, LanePoll("main", "customer", datetime(2026, 12, 8, 12, 0), 9))

    assert await store.lane_polls() == {("main", "customer"): LanePoll("main", "customer", T0)}


async def test_an_empty_batch_writes_nothing(store: StateStore) -> None:
    await record(store)
    assert await store.lane_polls() == {}


async def test_forget_removes_the_connections_polls(store: StateStore) -> None:
    await record(store, LanePoll("main", "customer", T0), LanePoll("other", "customer", T0))

    await store.forget("main")

    assert list(await store.lane_polls()) == [("other", "customer")]
