"""What only the HubSpot gateway does, against the simulator: HubSpot's traps, one by one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.config import load_settings
from syncd.connections import BUILDERS
from syncd.errors import (
    AuthError,
    OutcomeUnknownError,
    PermanentError,
    RecordError,
    TransientError,
)
from syncd.gateways.hubspot.client import ClientSettings, HubSpotClient
from syncd.gateways.hubspot.gateway import HubSpotGateway
from syncd.mapping import KNOWN_ENTITIES, EntityMapping, load_mappings
from syncd.records import Record, Side
from syncd.sim.hubspot import Fault, PropertyDef, SimConfig
from tests.gateways.contract import collect
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS, order_key
from tests.gateways.hubspot.harness import HubSpotHarness, gateway_for, harness_for

ACME = {
    "name": "Acme B.V.",
    "kvk": "12345678",
    "city": "Utrecht",
    "country": "NL",
    "payment_terms": "30",
}


@pytest.fixture
def mappings() -> dict[str, EntityMapping]:
    return load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)


@pytest.fixture
async def hs(mappings: dict[str, EntityMapping]) -> AsyncIterator[HubSpotHarness]:
    async with harness_for(mappings, page_size=100) as harness:
        yield harness


def roles(harness: HubSpotHarness, company_id: str) -> str:
    return harness.sim.company(company_id).properties.get("afas_roles", "")


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


# -- batches and 207 ------------------------------------------------------------------------


async def test_create_batch_splits_a_207_into_per_record_outcomes(hs: HubSpotHarness) -> None:
    taken = await hs.hub.create("customer", ACME, "10001")
    items = [
        ({**ACME, "name": "First"}, "10002"),
        ({**ACME, "name": "Duplicate key"}, "10001"),  # the unique property refuses it
        ({**ACME, "name": "Third"}, "10003"),
    ]
    outcomes = await hs.hub.create_batch("customer", items)
    assert hs.sim.counts["POST batch/create"] == 1
    first, duplicate, third = outcomes
    assert isinstance(first, Record)
    assert first.fields["name"] == "First"
    assert first.correlation == "10002"
    assert isinstance(duplicate, RecordError)
    assert "already has that value" in str(duplicate)
    assert isinstance(third, Record)
    found = await hs.hub.find_by_correlation("customer", ["10001", "10002", "10003"])
    assert {k: r.id for k, r in found.items()} == {
        "10001": taken.id,
        "10002": first.id,
        "10003": third.id,
    }


async def test_create_batch_sends_a_hundred_per_request(hs: HubSpotHarness) -> None:
    items = [({**ACME, "name": f"Company {n}"}, str(20000 + n)) for n in range(250)]
    outcomes = await hs.hub.create_batch("customer", items)
    assert all(isinstance(o, Record) for o in outcomes)
    assert [o.correlation for o in outcomes if isinstance(o, Record)] == [c for _, c in items]
    assert hs.sim.counts["POST batch/create"] == 3


async def test_a_bad_value_in_a_batch_is_refused_before_sending(hs: HubSpotHarness) -> None:
    hs.sim.portal.properties["payment_terms"] = PropertyDef(
        "payment_terms", "enumeration", "select", options=("net_14", "net_30")
    )
    items = [(ACME, "1"), ({**ACME, "payment_terms": "60"}, "2")]
    good, bad = await hs.hub.create_batch("customer", items)
    assert isinstance(good, Record)
    assert isinstance(bad, RecordError)
    assert bad.field == "payment_terms"
    assert "net_60" in str(bad)
    assert len(hs.sim.portal.companies) == 1


async def test_update_batch_reports_unknown_ids_and_answers_the_rest_from_the_write(
    hs: HubSpotHarness,
) -> None:
    a = await hs.seed("customer", ACME)
    b = await hs.seed("customer", {**ACME, "name": "Bee"})
    outcomes = await hs.hub.update_batch(
        "customer",
        [(a, {"city": "Delft"}, None), ("9999999999", {"city": "Delft"}, None), (b, {}, "7")],
    )
    first, missing, second = outcomes
    assert isinstance(first, Record)
    stored = (await hs.hub.read("customer", [a])).records[0]
    assert first.fields == {"city": "Delft"}  # what was written; the rest is not known
    assert stored.fields["name"] == "Acme B.V."
    assert first.modified == stored.modified
    assert isinstance(missing, RecordError)
    assert isinstance(second, Record)
    assert second.fields == {}
    assert second.correlation == "7"
    assert hs.sim.counts["POST batch/update"] == 1
    assert hs.sim.counts["POST batch/read"] == 1  # only the read above: none by update_batch


async def test_upsert_batch_creates_or_updates_by_correlation_and_keeps_other_roles(
    hs: HubSpotHarness,
) -> None:
    both = hs.sim.seed({"name": "Both", "afas_roles": "supplier", "afas_debtor_number": "10001"})
    outcomes = await hs.hub.upsert_batch(
        "customer", [("10001", {"city": "Delft"}), ("10002", {"name": "New"})]
    )
    updated, created = outcomes
    assert isinstance(updated, Record)
    assert updated.id == both
    assert roles(hs, both) == "supplier;customer"
    assert isinstance(created, Record)
    assert created.correlation == "10002"
    assert roles(hs, created.id) == "customer"


# -- rate limits ----------------------------------------------------------------------------


async def test_a_429_storm_is_retried_with_backoff_until_it_passes(hs: HubSpotHarness) -> None:
    record_id = await hs.seed("customer", ACME)
    body = {
        "status": "error",
        "message": "You have reached your ten_secondly_rolling limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": "c93e06a4-7d61-4c3e-b63f-edf486fc6e90",
        "policyName": "TEN_SECONDLY_ROLLING",
        "groupName": "publicapi:hapikey-api-calls-ten-secondly:6748263",
    }
    hs.sim.fail(Fault(method="POST", path="batch/read", status=429, body=body, count=3))
    page = await hs.hub.read("customer", [record_id])
    assert [r.id for r in page.records] == [record_id]
    assert hs.sim.counts["POST batch/read"] == 4
    assert hs.hub.status()["throttled_today"] == 3


async def test_a_429_storm_that_does_not_end_becomes_a_transient_error(
    hs: HubSpotHarness,
) -> None:
    hs.sim.configure(ten_second_limit=3)
    for _ in range(3):
        await hs.hub.read("customer", ["1"])
    with pytest.raises(TransientError) as raised:
        await hs.hub.read("customer", ["1"])
    assert raised.value.retry_after == 10.0  # TEN_SECONDLY_ROLLING
    assert hs.sim.counts["POST batch/read"] == 3 + 5  # five attempts, then it gives up


async def test_a_read_of_many_ids_sends_its_batches_side_by_side(hs: HubSpotHarness) -> None:
    ids = [await hs.seed("customer", {"name": f"Company {n}"}) for n in range(250)]
    hs.sim.configure(latency=0.05)  # long enough for the requests to meet
    hs.sim.request_log.clear()
    page = await hs.hub.read("customer", ids)
    assert sorted(r.id for r in page.records) == sorted(ids)
    reads = [e for e in hs.sim.request_log.entries if e.path.endswith("batch/read")]
    assert len(reads) == 3  # 100 ids a request
    assert any(a.started < b.finished and b.started < a.finished for a, b in pairwise(reads))


async def test_the_daily_limit_is_not_retried(hs: HubSpotHarness) -> None:
    hs.sim.configure(daily_limit=1)
    await hs.hub.read("customer", ["1"])
    with pytest.raises(TransientError) as raised:
        await hs.hub.read("customer", ["1"])
    assert raised.value.retry_after is not None
    assert raised.value.retry_after > 0
    assert hs.sim.counts["POST batch/read"] == 2


@pytest.mark.parametrize("ours", [4, 5])
async def test_the_search_limiter_keeps_under_hubspots_five_a_second(
    hs: HubSpotHarness, ours: int
) -> None:
    """Even at HubSpot's own 5, when the simulator counts each search as it arrives."""
    hs.sim.configure(search_per_second=5)
    hub = gateway_for(hs.sim.url, hs.mappings, search_per_second=ours, max_attempts=1)
    try:
        await asyncio.gather(*(collect(hub.changed_since("customer", None)) for _ in range(8)))
    finally:
        await hub.aclose()
    assert hs.sim.counts["POST search"] == 8  # no 429: nothing needed a retry


async def test_a_daily_budget_is_counted_and_enforced(hs: HubSpotHarness) -> None:
    hub = gateway_for(hs.sim.url, hs.mappings, daily_budget=2)
    try:
        await hub.read("customer", ["1"])
        await hub.read("customer", ["2"])
        with pytest.raises(TransientError, match="budget"):
            await hub.read("customer", ["3"])
        status = hub.status()
        assert status["requests_today"] == 2
        assert status["budget_left"] == 0
    finally:
        await hub.aclose()


async def test_rate_limit_headers_feed_the_status(hs: HubSpotHarness) -> None:
    hs.sim.configure(daily_limit=1000)
    await hs.hub.read("customer", ["1"])
    assert hs.hub.status()["portal_daily_remaining"] == 999


# -- merges -----------------------------------------------------------------------------------


async def test_a_merged_company_is_gone_under_its_old_id_and_found_on_the_survivor(
    hs: HubSpotHarness,
) -> None:
    kept = await hs.hub.create("customer", ACME, "10001")
    merged = await hs.hub.create("customer", {**ACME, "phone": "+31302314455"}, "10002")
    survivor = hs.sim.merge(kept.id, merged.id)
    assert survivor == kept.id
    page = await hs.hub.read("customer", [merged.id])
    assert [r.id for r in page.records] == [kept.id]  # the survivor, not the old id
    assert page.moved == {merged.id: kept.id}
    assert await hs.hub.merged_into("customer", [merged.id, kept.id]) == {merged.id: kept.id}
    _, listed, _ = await collect(hs.hub.list_all("customer"))
    assert [r.id for r in listed] == [kept.id]
    assert listed[0].fields["phone"] == "+31302314455"  # a blank filled from the merged one


async def test_a_merged_id_is_never_archived_through_its_survivor(hs: HubSpotHarness) -> None:
    kept = await hs.hub.create("customer", ACME, "10001")
    merged = await hs.hub.create("customer", ACME, "10002")
    hs.sim.merge(kept.id, merged.id)
    with pytest.raises(RecordError, match="merged into"):
        await hs.hub.deactivate("customer", merged.id)
    assert not hs.sim.company(kept.id).archived


async def test_a_merge_that_mints_a_new_id(hs: HubSpotHarness) -> None:
    a = await hs.hub.create("customer", ACME, "10001")
    b = await hs.hub.create("customer", ACME, "10002")
    survivor = hs.sim.merge(a.id, b.id, new_id=True)
    assert survivor not in (a.id, b.id)
    assert await hs.hub.merged_into("customer", [a.id, b.id]) == {a.id: survivor, b.id: survivor}
    found = await hs.hub.find_by_correlation("customer", ["10001"])
    assert found["10001"].id == survivor
    _, changed, _ = await collect(hs.hub.changed_since("customer", a.modified))
    assert [r.id for r in changed] == [survivor]


# -- archive and restore -----------------------------------------------------------------------


async def test_archived_companies_are_gone_and_restored_ones_come_back(
    hs: HubSpotHarness,
) -> None:
    created = await hs.hub.create("customer", ACME, "10001")
    hs.sim.archive(created.id)
    assert (await hs.hub.read("customer", [created.id])).records == []
    assert await hs.hub.find_by_correlation("customer", ["10001"]) == {}
    assert (await collect(hs.hub.list_all("customer")))[1] == []
    assert (await collect(hs.hub.changed_since("customer", None)))[1] == []
    with pytest.raises(RecordError):
        await hs.hub.update("customer", created.id, {"city": "Delft"})

    hs.sim.restore(created.id)
    _, changed, _ = await collect(hs.hub.changed_since("customer", created.modified))
    assert [r.id for r in changed] == [created.id]
    assert changed[0].modified is not None
    assert created.modified is not None
    assert changed[0].modified > created.modified
    assert list(await hs.hub.find_by_correlation("customer", ["10001"])) == ["10001"]


async def test_the_archived_sweep_lists_archived_companies_of_the_role(
    hs: HubSpotHarness,
) -> None:
    customers = [await hs.seed("customer", ACME) for _ in range(3)]
    supplier = await hs.seed("supplier", ACME)
    for company in (customers[0], customers[2], supplier):
        hs.sim.archive(company)
    swept = [ids async for ids in hs.hub.list_archived("customer")]
    assert [i for ids in swept for i in ids] == [customers[0], customers[2]]


async def test_deactivating_a_customer_that_is_also_a_supplier_keeps_the_company(
    hs: HubSpotHarness,
) -> None:
    both = hs.sim.seed({"name": "Both", "afas_roles": "customer;supplier"})
    await hs.hub.deactivate("customer", both)
    assert roles(hs, both) == "supplier"
    assert not hs.sim.company(both).archived
    assert (await hs.hub.read("customer", [both])).records == []
    assert [r.id for r in (await hs.hub.read("supplier", [both])).records] == [both]
    await hs.hub.deactivate("supplier", both)
    assert hs.sim.company(both).archived


async def test_a_customer_is_adopted_as_a_supplier_too(hs: HubSpotHarness) -> None:
    company = await hs.seed("customer", ACME)
    adopted = await hs.hub.adopt("supplier", company)
    assert adopted.id == company
    assert roles(hs, company) == "customer;supplier"
    await hs.hub.adopt("supplier", company)
    assert roles(hs, company) == "customer;supplier"
    assert [r.id for r in (await hs.hub.read("supplier", [company])).records] == [company]


async def test_deactivating_an_unknown_company_is_a_record_error(hs: HubSpotHarness) -> None:
    with pytest.raises(RecordError):
        await hs.hub.deactivate("customer", "9999999999")


# -- property definitions and invalid values ----------------------------------------------------


async def test_an_invalid_enumeration_value_is_refused_before_sending(
    hs: HubSpotHarness,
) -> None:
    record_id = await hs.seed("customer", ACME)
    hs.sim.portal.properties["payment_terms"] = PropertyDef(
        "payment_terms", "enumeration", "select", options=("net_14", "net_30")
    )
    with pytest.raises(RecordError) as raised:
        await hs.hub.update("customer", record_id, {"payment_terms": "60"})
    assert raised.value.field == "payment_terms"
    assert "'net_60' is not one of the allowed options: net_14, net_30" in str(raised.value)
    assert hs.sim.counts["PATCH object"] == 0


async def test_an_option_removed_after_start_is_refused_by_hubspot_naming_the_field(
    hs: HubSpotHarness,
) -> None:
    await hs.hub.start()  # the definitions are read here, with net_60 still an option
    record_id = await hs.seed("customer", ACME)
    hs.sim.portal.properties["payment_terms"] = PropertyDef(
        "payment_terms", "enumeration", "select", options=("net_14", "net_30")
    )
    with pytest.raises(RecordError) as raised:
        await hs.hub.update("customer", record_id, {"payment_terms": "60"})
    assert raised.value.field == "payment_terms"
    assert "INVALID_OPTION" in str(raised.value)
    assert hs.sim.counts["PATCH object"] == 1


@pytest.mark.parametrize(
    ("definition", "value", "reason"),
    [
        (PropertyDef("iban", "number", "number"), "NL55RABO0312457890", "not a number"),
        (PropertyDef("iban", "date", "date"), "1572480000001", "midnight UTC"),
        (PropertyDef("iban", "datetime", "date"), "yesterday", "not a datetime"),
        (PropertyDef("iban", read_only=True), "NL55RABO0312457890", "read-only"),
    ],
)
async def test_number_date_and_read_only_properties_are_checked(
    hs: HubSpotHarness, definition: PropertyDef, value: str, reason: str
) -> None:
    hs.sim.portal.properties["iban"] = definition
    record_id = await hs.seed("customer", ACME)
    with pytest.raises(RecordError, match=reason) as raised:
        await hs.hub._schemas.check("customer", {"iban": value})
    assert raised.value.field == "iban"
    assert record_id


async def test_start_reports_every_property_the_portal_lacks(hs: HubSpotHarness) -> None:
    del hs.sim.portal.properties["kvk_number"]
    hs.sim.portal.properties["afas_debtor_number"] = PropertyDef("afas_debtor_number")
    with pytest.raises(PermanentError) as raised:
        await hs.hub.start()
    assert "'kvk_number'" in str(raised.value)
    assert "unique" in str(raised.value)


async def test_a_valid_date_is_accepted(hs: HubSpotHarness) -> None:
    hs.sim.portal.properties["iban"] = PropertyDef("iban", "date", "date")
    await hs.hub._schemas.check("customer", {"iban": "2025-03-01"})
    await hs.hub._schemas.check("customer", {"iban": "1572480000000"})


# -- errors ----------------------------------------------------------------------------------


async def test_a_lost_create_is_outcome_unknown_and_found_by_its_correlation_key(
    hs: HubSpotHarness,
) -> None:
    hs.sim.fail(Fault(method="POST", path="/companies", drop=True))
    with pytest.raises(OutcomeUnknownError):
        await hs.hub.create("customer", ACME, "10001")
    found = await hs.hub.find_by_correlation("customer", ["10001"])
    assert found["10001"].fields["name"] == "Acme B.V."
    assert hs.sim.counts["POST create"] == 1  # never retried


async def test_a_read_whose_answer_is_lost_is_retried(hs: HubSpotHarness) -> None:
    record_id = await hs.seed("customer", ACME)
    hs.sim.fail(Fault(method="POST", path="batch/read", drop=True))
    page = await hs.hub.read("customer", [record_id])
    assert [r.id for r in page.records] == [record_id]
    assert hs.sim.counts["POST batch/read"] == 2


@pytest.mark.parametrize(("status", "error"), [(502, OutcomeUnknownError), (503, TransientError)])
async def test_server_errors_on_a_write(
    hs: HubSpotHarness, status: int, error: type[Exception]
) -> None:
    hs.sim.fail(Fault(method="POST", path="/companies", status=status, count=10))
    with pytest.raises(error):
        await hs.hub.create("customer", ACME, "10001")


async def test_a_refused_token_is_an_auth_error(mappings: dict[str, EntityMapping]) -> None:
    async with harness_for(mappings) as h:
        h.sim.token = "pat-eu1-right"
        with pytest.raises(AuthError) as raised:
            await h.hub.read("customer", ["1"])
        assert "pat-test-token" not in str(raised.value)


async def test_an_unreachable_portal_is_a_transient_error(
    mappings: dict[str, EntityMapping],
) -> None:
    hub = gateway_for("http://127.0.0.1:9", mappings, max_attempts=2)
    try:
        with pytest.raises(TransientError, match="cannot connect"):
            await hub.read("customer", ["1"])
    finally:
        await hub.aclose()


# -- paths, config and the builder -----------------------------------------------------------


async def test_the_dated_api_paths_serve_the_same_portal(hs: HubSpotHarness) -> None:
    dated = gateway_for(hs.sim.url, hs.mappings, api_version="2026-03")
    try:
        created = await dated.create("customer", ACME, "10001")
        assert (await hs.hub.read("customer", [created.id])).records == [created]
    finally:
        await dated.aclose()


def test_the_hubspot_kind_is_configured_and_built(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        f'[sync]\nmappings = "{SHIPPED_MAPPINGS}"\n'
        "[connections.main]\n"
        'crm = { kind = "hubspot", token = "HUBSPOT_TOKEN", api_version = "2026-03",'
        " search_settle_seconds = 120 }\n"
        'afas = { kind = "memory" }\nfixture = "systems.json"\n',
        encoding="utf-8",
    )
    settings = load_settings(tmp_path / "config.toml", env={"HUBSPOT_TOKEN": "pat-eu1-x"})
    crm = settings.connections[0].crm
    assert str(crm.options["token"]) == "$HUBSPOT_TOKEN"
    assert "pat-eu1-x" not in repr(crm)
    gateway = BUILDERS["hubspot"](crm, Side.CRM, settings.mappings)
    assert isinstance(gateway, HubSpotGateway)
    assert gateway.settle == timedelta(seconds=120)


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
