"""Amsterdam wall time with a fake Z: DST changes, midnight, second rounding."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from syncd.gateways.afas.gateway import AfasGateway
from syncd.gateways.afas.profit_time import (
    display_value,
    earliest_utc,
    filter_floor,
    filter_value,
    latest_utc,
    parse_local,
)
from syncd.mapping import KNOWN_ENTITIES, EntityMapping, load_mappings
from syncd.records import Record
from syncd.sim.afas import AfasSimulator, QueryOptions, SimClock, SimOptions
from tests.gateways.afas.helpers import TOKEN, gateway, served
from tests.gateways.contract import collect
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS


def test_the_z_is_ignored_and_the_time_is_amsterdam() -> None:
    wall = parse_local("2025-07-01T14:00:00Z")
    assert wall == datetime(2025, 7, 1, 14, 0)
    assert earliest_utc(wall) == datetime(2025, 7, 1, 12, 0, tzinfo=UTC)  # summer: +2
    winter = parse_local("2025-01-15T00:00:00Z")
    assert winter is not None
    assert earliest_utc(winter) == datetime(2025, 1, 14, 23, 0, tzinfo=UTC)  # winter: +1


@pytest.mark.parametrize("text", [None, "", "yesterday", 5])
def test_what_is_not_a_date_reads_as_none(text: object) -> None:
    assert parse_local(text) is None


def test_the_repeated_autumn_hour_reads_as_its_earliest_instant() -> None:
    wall = datetime(2025, 10, 26, 2, 30)
    assert earliest_utc(wall) == datetime(2025, 10, 26, 0, 30, tzinfo=UTC)
    assert latest_utc(wall) == datetime(2025, 10, 26, 1, 30, tzinfo=UTC)


def test_the_skipped_spring_hour_is_clamped_so_time_never_runs_backwards() -> None:
    before = earliest_utc(datetime(2025, 3, 30, 1, 59, 59))
    skipped = earliest_utc(datetime(2025, 3, 30, 2, 30))
    after = earliest_utc(datetime(2025, 3, 30, 3, 0))
    assert before < skipped <= after
    assert skipped == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)


def test_filter_values_have_no_z_and_start_a_second_early() -> None:
    since = datetime(2025, 7, 1, 12, 0, 0, 400_000, tzinfo=UTC)
    assert filter_value(filter_floor(since)) == "2025-07-01T13:59:59"


def test_a_filter_from_the_first_pass_of_the_repeated_hour_reaches_back() -> None:
    first_pass = datetime(2025, 10, 26, 0, 45, tzinfo=UTC)  # 02:45 summer time
    second_pass = datetime(2025, 10, 26, 1, 45, tzinfo=UTC)  # 02:45 winter time
    assert filter_floor(first_pass) == datetime(2025, 10, 26, 1, 44, 59)
    assert filter_floor(second_pass) == datetime(2025, 10, 26, 2, 44, 59)


def test_a_display_value_carries_the_fake_z() -> None:
    assert display_value(datetime(2025, 1, 2, 3, 4, 5)) == "2025-01-02T03:04:05Z"


# -- through the simulator -----------------------------------------------------------------


@pytest.fixture
def mappings() -> dict[str, EntityMapping]:
    return load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)


def sim_at(start: datetime, step: timedelta) -> AfasSimulator:
    return AfasSimulator(
        options=SimOptions(token=TOKEN, query=QueryOptions(precision="round")),
        clock=SimClock(start=start, step=step),
    )


async def listing(afas: AfasGateway, since: datetime | None) -> list[Record]:
    _, records, _ = await collect(afas.changed_since("customer", since))
    return records


@pytest.fixture
async def autumn(
    mappings: dict[str, EntityMapping],
) -> AsyncIterator[tuple[AfasSimulator, AfasGateway]]:
    # one write every 10 minutes from 01:50 summer time to 03:20 winter time
    sim = sim_at(datetime(2025, 10, 25, 23, 50, tzinfo=UTC), timedelta(minutes=10))
    async with served(sim) as url:
        afas = gateway(url, mappings, page_size=3)
        yield sim, afas
        await afas.aclose()


async def test_nothing_changed_in_the_repeated_hour_is_missed(
    autumn: tuple[AfasSimulator, AfasGateway],
) -> None:
    sim, afas = autumn
    ids = [sim.data.seed("customer", {"DebtorName": f"D{i}"}) for i in range(10)]
    everything = await listing(afas, None)
    assert sorted(r.id for r in everything) == sorted(ids)
    assert everything == sorted(everything, key=lambda r: (r.modified, r.id))
    # written at 00:50 UTC (02:50 summer time); everything after it must come back,
    # including the writes of 01:00-01:50 UTC, shown as 02:00-02:50 winter time
    since = datetime(2025, 10, 26, 0, 50, tzinfo=UTC)
    truly_later = ids[6:]  # the clock started at 23:50 UTC, ten minutes a write
    listed = {r.id for r in await listing(afas, since)}
    assert set(truly_later) <= listed


async def test_rounding_across_midnight(mappings: dict[str, EntityMapping]) -> None:
    # 23:59:59.7 Amsterdam time shows as 00:00:00 the next day
    sim = sim_at(datetime(2025, 1, 31, 22, 59, 59, 700_000, tzinfo=UTC), timedelta(seconds=1))
    async with served(sim) as url:
        afas = gateway(url, mappings, page_size=2)
        first = sim.data.seed("customer", {"DebtorName": "Midnight"})
        shown = sim.rows("customer")[0]["ModifiedDate"]
        assert shown == "2025-02-01T00:00:00Z"
        [record] = await listing(afas, None)
        assert record.id == first
        assert record.modified == datetime(2025, 1, 31, 23, 0, tzinfo=UTC)
        # the row is stored *before* the second it shows: a >= filter on that second
        # alone would miss it; the gateway still finds it
        assert [r.id for r in await listing(afas, record.modified)] == [first]
        assert await listing(afas, record.modified + timedelta(seconds=1)) == []
        await afas.aclose()


async def test_listing_across_the_spring_change_is_complete_and_exact(
    mappings: dict[str, EntityMapping],
) -> None:
    # one write every 10 minutes from 01:30 winter time to 04:20 summer time
    sim = sim_at(datetime(2025, 3, 30, 0, 30, tzinfo=UTC), timedelta(minutes=10))
    async with served(sim) as url:
        afas = gateway(url, mappings, page_size=3)
        ids = [sim.data.seed("customer", {"DebtorName": f"D{i}"}) for i in range(12)]
        everything = await listing(afas, None)
        assert [r.id for r in everything] == ids
        assert [r.modified for r in everything] == [
            datetime(2025, 3, 30, 0, 30, tzinfo=UTC) + timedelta(minutes=10 * i) for i in range(12)
        ]
        since = everything[4].modified  # 01:10 UTC = 03:10 summer time
        assert since is not None
        assert [r.id for r in await listing(afas, since)] == ids[4:]
        await afas.aclose()
