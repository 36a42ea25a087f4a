"""The HubSpot gateway's searches against the simulator: the settle window of a lagging
search, crowded timestamps, and windows of any shape listed whole, once, in order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.errors import (
    PermanentError,
)
from syncd.gateways.hubspot.client import ClientSettings, HubSpotClient
from syncd.mapping import EntityMapping
from syncd.records import Record
from syncd.sim.hubspot import SimConfig
from tests.gateways.contract import collect
from tests.gateways.contract.gateway_contract import order_key
from tests.gateways.hubspot.harness import ACME, HubSpotHarness, gateway_for, harness_for

# -- search lag and the settle window ------------------------------------------------------


async def test_an_edit_made_just_before_a_cycle_is_picked_up_by_a_later_cycle(
    mappings: dict[str, EntityMapping],
) -> None:
    """Search lags 0.5 s behind writes; the gateway leaves the newest 0.6 s to later."""
    async with harness_for(mappings, config=SimConfig(search_lag=0.5), settle=0.6) as h:
        first = await h.seed("customer", ACME)
        await asyncio.sleep(0.65)
        _, seen, _ = await collect(h.hub.changed_since("customer", None))
        assert [r.id for r in seen] == [first]
        cursor = max(r.modified for r in seen if r.modified)

        await h.edit("customer", first, {"city": "Amersfoort"})  # just before a cycle
        _, seen, _ = await collect(h.hub.changed_since("customer", cursor - timedelta(seconds=5)))
        assert [r.fields["city"] for r in seen] == ["Utrecht"]  # not yet visible: stale
        cursor = max([cursor, *(r.modified for r in seen if r.modified)])

        await asyncio.sleep(0.65)  # a later cycle
        _, seen, _ = await collect(h.hub.changed_since("customer", cursor - timedelta(seconds=5)))
        assert [r.fields["city"] for r in seen] == ["Amersfoort"]


async def test_without_a_settle_window_search_lag_shows_stale_values(
    mappings: dict[str, EntityMapping],
) -> None:
    """The trap the settle window avoids: search answers with what it saw before."""
    async with harness_for(mappings, config=SimConfig(search_lag=5.0)) as h:
        record_id = await h.seed("customer", ACME)
        await h.edit("customer", record_id, {"city": "Amersfoort"})
        pages, seen, _ = await collect(h.hub.changed_since("customer", None))
        assert [r.fields["city"] for r in seen] == ["Utrecht"]
        assert all(page.hints_only for page in pages)  # the engine reads them by id
        fresh = await h.hub.read("customer", [record_id])  # batch/read does not lag
        assert [r.fields["city"] for r in fresh.records] == ["Amersfoort"]
        assert not fresh.hints_only
        listed, _, _ = await collect(h.hub.list_all("customer"))
        assert not any(page.hints_only for page in listed)  # no search index behind it


async def test_a_window_that_has_not_settled_yet_is_empty(hs: HubSpotHarness) -> None:
    hub = gateway_for(hs.sim.url, hs.mappings, settle=60)
    await hs.seed("customer", ACME)
    try:
        _, seen, _ = await collect(hub.changed_since("customer", datetime.now(UTC)))
        assert seen == []
        assert hs.sim.counts["POST search"] == 0
    finally:
        await hub.aclose()


async def test_edits_that_show_up_out_of_order_are_all_picked_up(
    mappings: dict[str, EntityMapping],
) -> None:
    """Search shows writes 0.1 to 0.4 s late, not in the order they were made."""
    config = SimConfig(search_lag=0.1, search_jitter=0.3)
    async with harness_for(mappings, config=config, settle=0.5) as h:
        ids = [await h.seed("customer", {**ACME, "city": "Utrecht"}) for _ in range(10)]
        cursor = None
        cities: dict[str, str | None] = {}
        for round_ in range(4):
            for n, record_id in enumerate(ids):
                if (n + round_) % 3 == 0:
                    await h.edit("customer", record_id, {"city": f"City {round_}"})
            await asyncio.sleep(0.2)
            since = cursor - timedelta(seconds=2) if cursor else None
            _, seen, _ = await collect(h.hub.changed_since("customer", since))
            cities.update((r.id, r.fields["city"]) for r in seen)
            stamps = [r.modified for r in seen if r.modified] + ([cursor] if cursor else [])
            cursor = max(stamps) if stamps else None
        await asyncio.sleep(0.6)
        assert cursor is not None
        _, seen, _ = await collect(h.hub.changed_since("customer", cursor - timedelta(seconds=2)))
        cities.update((r.id, r.fields["city"]) for r in seen)
        truth = {r.id: r.fields["city"] for r in (await h.hub.read("customer", ids)).records}
        assert cities == truth


# -- more than 10,000 records on one timestamp --------------------------------------------


async def test_more_than_ten_thousand_records_on_one_timestamp_are_each_listed_once(
    hs: HubSpotHarness,
) -> None:
    stamp = datetime(2025, 1, 31, 23, 59, 59, 123000, tzinfo=UTC)  # a month-end batch job
    count = 10_050
    ids = {
        hs.sim.seed({"name": f"Company {n}", "afas_roles": "customer"}, modified=stamp)
        for n in range(count)
    }
    hs.sim.seed({"name": "Only a supplier", "afas_roles": "supplier"}, modified=stamp)
    hs.hub.slice_size = 5_000  # so the window is too big to hold in one slice
    pages, records, rejected = await collect(hs.hub.changed_since("customer", stamp))
    assert rejected == []
    assert len(records) == count
    assert {r.id for r in records} == ids
    assert records == sorted(records, key=lambda r: (r.modified, r.id))
    assert all(len(p.records) <= hs.hub.page_size for p in pages)
    # the window is cut around the crowded millisecond, which is keyset-paged: one
    # search per 200 records, never an offset past the cap, two more for the cutting
    assert hs.sim.counts["POST search"] == 1 + (count // 200 + 1) + 1


async def test_a_big_window_is_read_in_slices_in_order(hs: HubSpotHarness) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    ids = {
        hs.sim.seed(
            {"name": f"C{n}", "afas_roles": "customer"},
            modified=start + timedelta(seconds=n % 37, milliseconds=n),
        )
        for n in range(500)
    }
    hs.hub.slice_size = 60
    _, records, _ = await collect(hs.hub.changed_since("customer", start))
    assert [r.id for r in records] == [r.id for r in sorted(records, key=order_key)]
    assert {r.id for r in records} == ids
    assert len(records) == len(ids)
    assert hs.sim.counts["POST search"] > 500 // 60


async def test_paging_search_past_ten_thousand_is_answered_with_400(hs: HubSpotHarness) -> None:
    client = HubSpotClient("token", ClientSettings(base_url=hs.sim.url))
    try:
        with pytest.raises(PermanentError, match="10000"):
            await client.call(
                "POST",
                "/crm/v3/objects/companies/search",
                body={"filterGroups": [], "limit": 100, "after": "10000"},
                search=True,
            )
    finally:
        await client.aclose()


# -- a property: windows of any shape are listed whole, once, in order ----------------------


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=40), min_size=20, max_size=300),
    slice_size=st.integers(min_value=1, max_value=60),
    since=st.integers(min_value=0, max_value=45),
)
def test_any_window_is_listed_whole_and_once(
    mappings: dict[str, EntityMapping], offsets: list[int], slice_size: int, since: int
) -> None:
    """Timestamps crowd on a few milliseconds; slices as small as one company."""
    start = datetime(2025, 6, 1, tzinfo=UTC)
    cut = start + timedelta(milliseconds=since)

    async def listed() -> tuple[list[str], list[Record]]:
        async with harness_for(mappings) as h:
            h.hub.slice_size = slice_size
            ids = [
                h.sim.seed(
                    {"name": f"C{n}", "afas_roles": "customer"},
                    modified=start + timedelta(milliseconds=offset),
                )
                for n, offset in enumerate(offsets)
            ]
            _, records, _ = await collect(h.hub.changed_since("customer", cut))
            return ids, records

    ids, records = asyncio.run(listed())
    expected = sorted(
        (start + timedelta(milliseconds=o), i) for o, i in zip(offsets, ids, strict=True)
    )
    assert sorted(order_key(r) for r in records) == [e for e in expected if e[0] >= cut]


# -- counting a whole listing ------------------------------------------------------------


async def test_a_whole_listing_is_counted_by_one_search_of_the_role(hs: HubSpotHarness) -> None:
    """The list endpoint tells no total; a search of one result does (its ``total``)."""
    for n in range(3):
        await hs.seed("customer", {**ACME, "name": f"Customer {n}", "kvk": f"1000000{n}"})
    for n in range(2):
        await hs.seed("supplier", {**ACME, "name": f"Supplier {n}", "kvk": f"2000000{n}"})
    await hs.seed("contact", {"first_name": "Ada", "last_name": "Smit", "email": "ada@x.nl"})
    before = sum(hs.sim.counts.values())

    counts = [await hs.hub.count_all(entity) for entity in ("customer", "supplier", "contact")]

    assert counts == [3, 2, 1]
    assert hs.sim.counts["POST search"] == 2
    assert hs.sim.counts["contacts POST search"] == 1
    assert sum(hs.sim.counts.values()) - before == 3  # nothing else asked
    _, seen, _ = await collect(hs.hub.list_all("customer"))
    assert len(seen) == 3  # what the listing brings
