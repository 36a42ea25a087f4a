"""HubSpot's batch updates answer from the write itself: no read-back, and what HubSpot
stored otherwise than it was written still reaches the engine as altered."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from syncd.engine.actions import Update
from syncd.engine.apply.side_writes import altered_fields
from syncd.errors import RecordError
from syncd.mapping import KNOWN_ENTITIES, EntityMapping, FieldMap, load_mappings
from syncd.records import Record, Side, Value
from syncd.sim.hubspot import PropertyDef
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS
from tests.gateways.hubspot.harness import HubSpotHarness, harness_for

ACME = {"name": "Acme B.V.", "kvk": "12345678", "city": "Utrecht", "country": "NL"}

LAST_VISIT = FieldMap("last_visit", crm="last_visit", afas="LastVisit", afas_update="LastVisit")
"""A field on a HubSpot datetime property: HubSpot stores a datetime in its own form."""


@pytest.fixture
def mappings() -> dict[str, EntityMapping]:
    shipped = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
    customer = shipped["customer"]
    with_visit = dataclasses.replace(customer, fields=(*customer.fields, LAST_VISIT))
    return {**shipped, "customer": with_visit}


@pytest.fixture
async def hs(mappings: dict[str, EntityMapping]) -> AsyncIterator[HubSpotHarness]:
    async with harness_for(mappings, page_size=100) as harness:
        harness.sim.portal.properties["last_visit"] = PropertyDef(
            "last_visit", "datetime", "date", "Last visit"
        )
        await harness.hub.start()  # the property definitions, read before counting
        yield harness


def update_of(company_id: str, fields: dict[str, Value]) -> Update:
    return Update(
        pair=(company_id, "10001"), target=Side.CRM, fields=fields, decisions=(), before={}
    )


async def test_each_hundred_updates_take_one_request_and_nothing_is_read_back(
    hs: HubSpotHarness,
) -> None:
    ids = [await hs.seed("customer", {**ACME, "name": f"Company {n}"}) for n in range(250)]
    hs.sim.counts.clear()
    sent = hs.hub.requests_sent
    items = [(company_id, {"city": f"City {n}"}, None) for n, company_id in enumerate(ids)]
    outcomes = await hs.hub.update_batch("customer", items)
    assert hs.hub.requests_sent - sent == 3
    assert dict(hs.sim.counts) == {"POST batch/update": 3}
    assert [o.id for o in outcomes if isinstance(o, Record)] == ids
    assert [o.fields for o in outcomes if isinstance(o, Record)] == [
        {"city": f"City {n}"} for n in range(250)
    ]
    assert all(hs.sim.company(i).properties["city"] == f"City {n}" for n, i in enumerate(ids))


async def test_a_value_stored_otherwise_than_written_shows_up_as_altered(
    hs: HubSpotHarness,
) -> None:
    company = await hs.seed("customer", ACME)
    written: dict[str, Value] = {"city": "Delft", "last_visit": "2025-03-01T10:00:00Z"}
    [outcome] = await hs.hub.update_batch("customer", [(company, written, None)])
    assert isinstance(outcome, Record)
    stored = hs.sim.company(company).properties["last_visit"]
    assert stored == "2025-03-01T10:00:00.000Z"  # HubSpot's own form of the datetime
    assert altered_fields(update_of(company, written), outcome) == {"last_visit": stored}
    assert set(outcome.fields) == {"city", "last_visit"}


@pytest.mark.parametrize("unset_as_null", [True, False])
async def test_a_cleared_value_or_an_unwritten_one_is_never_altered(
    hs: HubSpotHarness, unset_as_null: bool
) -> None:
    hs.sim.configure(unset_as_null=unset_as_null)
    company = await hs.seed("customer", ACME)
    written: dict[str, Value] = {"city": None, "name": "Acme Holding B.V."}
    [outcome] = await hs.hub.update_batch("customer", [(company, written, None)])
    assert isinstance(outcome, Record)
    assert "kvk" not in outcome.fields  # unwritten: unknown, not taken for a blank
    assert outcome.fields.get("city") is None
    assert altered_fields(update_of(company, written), outcome) == {}
    assert "city" not in hs.sim.company(company).properties


async def test_an_item_refused_in_a_207_is_a_record_error_and_the_rest_are_written(
    hs: HubSpotHarness,
) -> None:
    first = await hs.seed("customer", ACME)
    second = await hs.seed("customer", {**ACME, "name": "Bee"})
    outcomes = await hs.hub.update_batch(
        "customer",
        [
            (first, {"city": "Delft"}, "10001"),
            (second, {"city": "Gouda"}, "10001"),  # the unique key the first one just took
            ("9999999999", {"city": "Delft"}, None),
        ],
    )
    written, duplicate, unknown = outcomes
    assert isinstance(written, Record)
    assert written.correlation == "10001"
    assert isinstance(duplicate, RecordError)
    assert "already has that value" in str(duplicate)
    assert isinstance(unknown, RecordError)
    assert hs.sim.company(first).properties["city"] == "Delft"
    assert hs.sim.company(second).properties["city"] == "Utrecht"  # refused: not written
    assert hs.sim.counts["POST batch/update"] == 1
