"""Keyset paging: no gaps, no overlaps, also with many records in one second and while
records change between pages."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from syncd.mapping import KNOWN_ENTITIES, EntityMapping, load_mappings
from syncd.records import Record
from syncd.sim.afas import AfasSimulator, QueryOptions, SimClock, SimOptions
from tests.gateways.afas.helpers import TOKEN, gateway, served
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS

BASE = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def mappings() -> dict[str, EntityMapping]:
    return load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)


def make_sim(precision: str = "round") -> AfasSimulator:
    return AfasSimulator(
        options=SimOptions(token=TOKEN, query=QueryOptions(precision=precision, seed=7)),
        clock=SimClock(start=BASE + timedelta(days=1), step=timedelta(milliseconds=300)),
    )


def seed_at(sim: AfasSimulator, moments: list[datetime]) -> list[str]:
    return [
        sim.data.seed("customer", {"DebtorName": f"D{i}", "ModifiedDate": m.isoformat()})
        for i, m in enumerate(moments)
    ]


def key(record: Record) -> tuple[datetime, str]:
    assert record.modified is not None
    return record.modified, record.id


async def test_more_records_in_one_second_than_fit_a_page(
    mappings: dict[str, EntityMapping],
) -> None:
    sim = make_sim()
    same = BASE + timedelta(milliseconds=200)
    ids = seed_at(sim, [same] * 11 + [BASE + timedelta(seconds=5)] * 2)
    async with served(sim) as url:
        afas = gateway(url, mappings, page_size=3)
        records = [r async for page in afas.changed_since("customer", None) for r in page.records]
        await afas.aclose()
    assert [r.id for r in records] == sorted(ids[:11]) + sorted(ids[11:])


@pytest.mark.parametrize("precision", ["round", "second"])
async def test_a_full_page_costs_no_extra_request_for_its_last_second(
    mappings: dict[str, EntityMapping], precision: str
) -> None:
    sim = make_sim(precision)
    per_second, page_size = 4, 20
    moments = [BASE + timedelta(milliseconds=1000 // per_second * n) for n in range(60)]
    ids = seed_at(sim, moments)
    async with served(sim) as url:
        afas = gateway(url, mappings, page_size=page_size)
        records = [r async for page in afas.changed_since("customer", None) for r in page.records]
        await afas.aclose()
    assert [r.id for r in records] == ids  # each once, in order
    gets = sum(n for k, n in sim.requests.items() if k.startswith("GET"))
    # Each page after the first re-reads at most the two seconds around the last one.
    advance = page_size - 2 * per_second
    assert gets <= -(-len(ids) // advance) + 1


@pytest.mark.parametrize("seed", range(6))
async def test_random_times_are_listed_exactly_once_in_order(
    mappings: dict[str, EntityMapping], seed: int
) -> None:
    rng = random.Random(seed)
    sim = make_sim(rng.choice(["round", "second"]))
    moments = [
        BASE + timedelta(seconds=rng.choice([0, 1, 2, 30]), milliseconds=rng.randrange(1000))
        for _ in range(rng.randrange(5, 40))
    ]
    ids = seed_at(sim, moments)
    page_size = rng.randrange(2, 7)
    async with served(sim) as url:
        afas = gateway(url, mappings, page_size=page_size)
        everything = [r async for p in afas.changed_since("customer", None) for r in p.records]
        assert sorted(r.id for r in everything) == sorted(ids)
        assert everything == sorted(everything, key=key)
        since = key(everything[len(everything) // 2])[0]
        later = [r async for p in afas.changed_since("customer", since) for r in p.records]
        assert later == [r for r in everything if key(r)[0] >= since]
        listed = [r async for p in afas.list_all("customer") for r in p.records]
        assert sorted(r.id for r in listed) == sorted(ids)
        await afas.aclose()


@pytest.mark.parametrize("seed", range(8))
async def test_records_changing_between_pages_leave_no_gaps(
    mappings: dict[str, EntityMapping], seed: int
) -> None:
    rng = random.Random(seed)
    sim = make_sim(rng.choice(["round", "second"]))
    moments = [
        BASE + timedelta(seconds=rng.randrange(4), milliseconds=rng.randrange(1000))
        for _ in range(rng.randrange(8, 30))
    ]
    ids = seed_at(sim, moments)
    edited: set[str] = set()
    seen: list[Record] = []
    async with served(sim) as url:
        afas = gateway(url, mappings, page_size=rng.randrange(2, 6))
        async for page in afas.changed_since("customer", None):
            seen.extend(page.records)
            for record_id in rng.sample(ids, rng.randrange(3)):  # a user edits in Profit
                sim.edit("customer", record_id, {"City": f"Zeist {len(edited)}"})
                edited.add(record_id)
        await afas.aclose()
    seen_ids = [r.id for r in seen]
    assert set(seen_ids) == set(ids)  # no gaps
    assert all(seen_ids.count(i) == 1 for i in ids if i not in edited)  # no overlaps
    assert seen == sorted(seen, key=key)  # an edited record moves on, never back


async def test_list_all_pages_on_the_key_while_records_change(
    mappings: dict[str, EntityMapping],
) -> None:
    sim = make_sim()
    ids = seed_at(sim, [BASE] * 10)
    async with served(sim) as url:
        afas = gateway(url, mappings, page_size=3)
        listed: list[str] = []
        async for page in afas.list_all("customer"):
            listed.extend(r.id for r in page.records)
            sim.edit("customer", ids[-1], {"City": "Zeist"})
        await afas.aclose()
    assert listed == sorted(ids)


async def test_read_and_find_split_long_key_lists_under_the_query_limit(
    mappings: dict[str, EntityMapping],
) -> None:
    sim = make_sim()
    ids = seed_at(sim, [BASE] * 5)
    async with served(sim) as url:
        afas = gateway(url, mappings, page_size=500)
        sim.latency = 0.05  # long enough for the calls to meet
        asked = [str(n) for n in range(20000, 20400)] + ids  # far more than one query holds
        page = await afas.read("customer", asked)
        assert [r.id for r in page.records] == ids
        gets = [e for e in sim.request_log.entries if e.method == "GET"]
        assert len(gets) > 1
        # one call per chunk, sent side by side: some are under way at the same time
        assert any(a.started < b.finished and b.started < a.finished for a, b in pairwise(gets))
        keys = [f"crm-{n}" for n in range(300)]
        assert await afas.find_by_correlation("customer", keys) == {}
        await afas.aclose()


async def test_list_all_asks_for_the_next_page_while_the_caller_holds_this_one(
    mappings: dict[str, EntityMapping],
) -> None:
    sim = make_sim()
    ids = seed_at(sim, [BASE] * 7)

    def gets() -> int:
        return sum(n for k, n in sim.requests.items() if k.startswith("GET"))

    async def gets_seen(at_least: int, tries: int) -> int:
        for _ in range(tries):
            if gets() >= at_least:
                break
            await asyncio.sleep(0.01)
        return gets()

    async with served(sim) as url:
        afas = gateway(url, mappings, page_size=3)
        pages = afas.list_all("customer")
        assert isinstance(pages, AsyncGenerator)
        first = await anext(pages)
        assert await gets_seen(2, tries=500) == 2  # the second page, before it was asked for
        await pages.aclose()  # a caller that stops early
        assert await gets_seen(3, tries=50) == 2  # no third page, nothing left running
        assert [r.id for r in first.records] == sorted(ids)[:3]
        listed = [r.id async for page in afas.list_all("customer") for r in page.records]
        await afas.aclose()
    assert listed == sorted(ids)  # every page, each once
