"""Writing many relations at once: one request per record (AFAS has no batch), side by
side, and one read back for them all."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import pytest

from syncd.errors import OutcomeUnknownError, RecordError
from syncd.gateways.afas.client import Limits
from syncd.mapping import EntityMapping, load_mappings
from syncd.records import Record, Side, Value
from syncd.sim.afas import AfasSimulator, SimOptions
from tests.gateways.afas.helpers import TOKEN, gateway, served, simulator
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS

ENTITY = "customer"
GET = "GET /ProfitRestServices/connectors/syncd_debtors"
POST = "POST /ProfitRestServices/connectors/KnSalesRelationOrg"
PUT = "PUT /ProfitRestServices/connectors/KnSalesRelationOrg"


@pytest.fixture
def mappings() -> dict[str, EntityMapping]:
    return load_mappings(SHIPPED_MAPPINGS, [ENTITY])


def company(name: str, **more: Value) -> dict[str, Value]:
    return {"name": name, "country": "NL", "city": "Zwolle", **more}


async def test_create_batch_sends_one_post_each_and_reads_them_back_at_once(
    mappings: Mapping[str, EntityMapping],
) -> None:
    sim = simulator()
    items: list[tuple[Mapping[str, Value], str]] = [
        (company("Bakkerij Noord"), "901"),
        (company("Nergensland B.V.", country="ZZ"), "902"),  # no country AFAS knows
        (company("Drukkerij Zuid"), "903"),
    ]
    async with served(sim) as url:
        afas = gateway(url, mappings, page_size=50)
        outcomes = await afas.create_batch(ENTITY, items)
        await afas.aclose()
    first, refused, third = outcomes
    assert isinstance(first, Record)
    assert first.fields["name"] == "Bakkerij Noord"
    assert first.correlation == "901"
    assert isinstance(refused, RecordError)
    assert refused.field == "country"
    assert isinstance(third, Record)
    assert third.correlation == "903"
    assert sim.requests == Counter({POST: 2, GET: 1})


async def test_update_batch_writes_each_and_returns_them_as_stored(
    mappings: Mapping[str, EntityMapping],
) -> None:
    sim = simulator()
    numbers = sim.seed({ENTITY: [mappings[ENTITY].to_native(Side.AFAS, company(n)) for n in "AB"]})
    async with served(sim) as url:
        afas = gateway(url, mappings, page_size=50)
        items = [(number, {"city": f"Giethoorn {number}"}, None) for number in numbers[ENTITY]]
        outcomes = await afas.update_batch(ENTITY, items)
        await afas.aclose()
    assert [o.fields["city"] for o in outcomes if isinstance(o, Record)] == [
        f"Giethoorn {number}" for number in numbers[ENTITY]
    ]
    assert sim.requests == Counter({PUT: 2, GET: 1})


async def test_a_failed_write_next_to_one_that_went_through_is_an_unknown_outcome(
    mappings: Mapping[str, EntityMapping],
) -> None:
    # Profit takes one request at a time here and each takes a while: the second create
    # keeps finding it busy (a lock, retried, then given up) while the first goes through.
    sim = AfasSimulator(options=SimOptions(token=TOKEN, max_parallel=1))
    sim.latency = 1.0
    items: list[tuple[Mapping[str, Value], str]] = [
        (company("Bakkerij Noord"), "901"),
        (company("Drukkerij Zuid"), "902"),
    ]
    async with served(sim) as url:
        afas = gateway(url, mappings, page_size=50, limits=Limits(concurrency=2))
        with pytest.raises(OutcomeUnknownError, match="1 of 2"):
            await afas.create_batch(ENTITY, items)
        await afas.aclose()
    assert len(sim.rows(ENTITY)) == 1
