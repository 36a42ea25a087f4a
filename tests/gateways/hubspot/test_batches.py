"""The HubSpot gateway's batch writes against the simulator: 100 a request, a 207 split
into per-record outcomes."""

from __future__ import annotations

from syncd.errors import (
    RecordError,
)
from syncd.records import Record
from syncd.sim.hubspot import PropertyDef
from tests.gateways.hubspot.harness import ACME, HubSpotHarness, roles

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
