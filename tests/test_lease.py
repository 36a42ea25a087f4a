"""Leases against the real PostgreSQL server: shares, hand-overs, dead sessions; SQLite's lock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from syncd.errors import StateError
from syncd.lease import PostgresLeases, SoleLeases, fair_share, lock_id, open_leases

LANES = ["acme/customer", "acme/supplier", "beta/customer", "beta/supplier"]
CHECK = timedelta(seconds=2)

on_postgres = pytest.mark.postgres

Opener = Callable[[str], Awaitable[PostgresLeases]]


@pytest.fixture
async def replica(postgres_url: str) -> AsyncIterator[Opener]:
    """Opens replicas by name on the test database; all closed after the test."""
    opened: list[PostgresLeases] = []

    async def open_one(name: str) -> PostgresLeases:
        leases = await open_leases(postgres_url, LANES, replica=name, lease_check=CHECK)
        assert isinstance(leases, PostgresLeases)
        opened.append(leases)
        return leases

    yield open_one
    for leases in opened:
        await leases.close()


def locks() -> dict[str, asyncio.Lock]:
    return {lane: asyncio.Lock() for lane in LANES}


def held(leases: PostgresLeases) -> set[str]:
    return {lane for lane in LANES if leases.holds(lane)}


async def settle(*replicas: PostgresLeases, lane_locks: dict[str, asyncio.Lock]) -> None:
    for _ in range(3):  # a hand-back needs one check, the claim of it the next
        for leases in replicas:
            await leases.check(lane_locks)


def test_shares_cover_every_lane() -> None:
    for lanes in range(0, 12):
        for replicas in range(1, 6):
            share = fair_share(lanes, replicas)
            assert share * replicas >= lanes  # together they hold every lane
            assert (share - 1) * replicas < lanes or share == 0  # and no more than needed
    assert fair_share(4, 0) == 4  # no replica counted yet: this one takes what it can


@on_postgres
async def test_live_replicas_split_the_lanes_with_none_held_twice(replica: Opener) -> None:
    one, two = await replica("one"), await replica("two")
    lane_locks = locks()

    first, second = await one.check(lane_locks), await two.check(lane_locks)

    assert len(first.acquired) == len(second.acquired) == 2
    assert held(one).isdisjoint(held(two))
    assert held(one) | held(two) == set(LANES)
    assert await one.holders() == {
        **dict.fromkeys(held(one), "one"),
        **dict.fromkeys(held(two), "two"),
    }


@on_postgres
async def test_a_replica_that_joins_gets_its_share_from_the_others(replica: Opener) -> None:
    one = await replica("one")
    lane_locks = locks()
    await one.check(lane_locks)
    assert held(one) == set(LANES)  # alone, it syncs everything

    two = await replica("two")
    assert (await two.check(lane_locks)).acquired == []  # nothing free yet
    released = (await one.check(lane_locks)).released
    acquired = (await two.check(lane_locks)).acquired

    assert len(released) == 2
    assert sorted(acquired) == sorted(released)
    assert held(one).isdisjoint(held(two))
    assert len(held(one)) == len(held(two)) == 2


@on_postgres
async def test_a_lane_in_a_cycle_is_not_handed_back(replica: Opener) -> None:
    one = await replica("one")
    lane_locks = locks()
    await one.check(lane_locks)
    busy = sorted(LANES)[-1]  # the first one it would hand back
    await replica("two")

    async with lane_locks[busy]:
        released = (await one.check(lane_locks)).released

    assert busy not in released
    assert one.holds(busy)
    assert len(released) == 2


@on_postgres
async def test_a_replica_whose_lanes_are_all_in_cycles_hands_back_as_those_end(
    replica: Opener,
) -> None:
    one = await replica("one")
    lane_locks = locks()
    await one.check(lane_locks)
    two = await replica("two")
    for lock in lane_locks.values():
        await lock.acquire()  # every lane in a cycle at one's check

    checking = asyncio.create_task(one.check(lane_locks))
    await asyncio.sleep(0.3)
    assert not checking.done()
    assert held(one) == set(LANES)  # nothing handed back in the middle of a cycle
    ending = sorted(LANES, reverse=True)[:2]  # the ones it hands back first
    for lane in ending:
        lane_locks[lane].release()  # their cycles end
    changes = await asyncio.wait_for(checking, 5)

    assert changes.released == ending
    assert held(one) == set(LANES) - set(ending)
    assert sorted((await two.check(lane_locks)).acquired) == sorted(ending)


@on_postgres
async def test_the_lanes_of_a_dead_replica_are_taken_over(
    replica: Opener, postgres_url: str
) -> None:
    one, two, three = await replica("one"), await replica("two"), await replica("three")
    lane_locks = locks()
    await settle(one, two, three, lane_locks=lane_locks)
    orphaned = held(one)  # 4 lanes, 3 replicas: shares of 2, and "one" claimed first
    assert len(orphaned) == 2

    await _kill_session(postgres_url, "one")  # as when its process dies
    await settle(two, three, lane_locks=lane_locks)

    assert orphaned <= held(two) | held(three)
    assert held(two) | held(three) == set(LANES)
    assert held(two).isdisjoint(held(three))


@on_postgres
async def test_a_replica_whose_session_breaks_stops_and_comes_back(
    replica: Opener, postgres_url: str
) -> None:
    one = await replica("one")
    lane_locks = locks()
    await one.check(lane_locks)

    await _kill_session(postgres_url, "one")
    lost = await one.check(lane_locks)

    assert sorted(lost.lost) == sorted(LANES)
    assert held(one) == set()
    again = await one.check(lane_locks)  # a new session, the same lanes free
    assert sorted(again.acquired) == sorted(LANES)


@on_postgres
async def test_two_replicas_with_one_name_are_refused(replica: Opener) -> None:
    await replica("same")
    with pytest.raises(StateError, match="another replica called 'same'"):
        await replica("same")


@on_postgres
async def test_an_unreachable_store_is_a_state_error_without_the_password() -> None:
    url = "postgresql://syncd:s3cret-pw@127.0.0.1:1/state"
    with pytest.raises(StateError) as raised:
        await open_leases(url, LANES, replica="one", lease_check=CHECK)
    assert "s3cret-pw" not in str(raised.value)


async def _kill_session(url: str, name: str) -> None:
    """End a replica's lease session from the server side."""
    conn = await asyncpg.connect(url)
    try:
        ended = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            f"syncd replica {name}",
        )
    finally:
        await conn.close()
    assert ended
    await asyncio.sleep(0.2)  # the server frees the locks as the backend exits


# --- SQLite ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["sqlite:///{tmp}/data/syncd.db"])
async def test_a_second_daemon_on_one_sqlite_store_is_refused(url: str, tmp_path: Path) -> None:
    url = url.format(tmp=tmp_path)
    first = await open_leases(url, LANES, replica="one")
    assert isinstance(first, SoleLeases)
    assert all(first.holds(lane) for lane in LANES)
    assert (await first.check(locks())).acquired == []  # nothing to divide

    with pytest.raises(StateError, match="replica one, pid"):
        await open_leases(url, LANES, replica="two")
    await first.close()

    second = await open_leases(url, LANES, replica="two")  # free again once closed
    await second.close()


async def test_private_memory_stores_need_no_lock() -> None:
    one = await open_leases("sqlite:///:memory:", LANES, replica="one")
    two = await open_leases("sqlite:///:memory:", LANES, replica="two")
    assert one.holds(LANES[0])
    assert two.holds(LANES[0])
    await one.close()
    await two.close()


def test_lock_ids_are_stable_and_fit_an_int4() -> None:
    ids = [lock_id(lane) for lane in LANES]
    assert ids == [lock_id(lane) for lane in LANES]
    assert len(set(ids)) == len(ids)
    assert all(0 <= i < 2**31 for i in ids)
