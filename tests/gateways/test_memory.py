"""The in-memory gateway: the contract suite on both sides, then what only it does."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syncd.errors import OutcomeUnknownError, RecordError, TransientError
from syncd.gateways.base import Gateway, OrganisationGateway
from syncd.gateways.memory import MemoryGateway
from syncd.gateways.native_tables import LOGICAL_EPOCH
from syncd.mapping import KNOWN_ENTITIES, EntityMapping, load_mappings
from syncd.records import Record, Side, Value
from tests.gateways.contract import GatewayContract, GatewayHarness, collect
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS

CRM, AFAS = Side.CRM, Side.AFAS


# -- the contract suite, on both sides ---------------------------------------------------


@dataclass
class MemoryHarness:
    """The contract's user works straight on the memory gateway's native rows."""

    memory: MemoryGateway
    mappings: Mapping[str, EntityMapping]

    @property
    def gateway(self) -> Gateway:
        return self.memory

    @property
    def page_size(self) -> int:
        return self.memory.page_size

    def native(self, entity: str, fields: Mapping[str, Value]) -> dict[str, object]:
        return self.mappings[entity].to_native(self.memory.side, fields)

    async def seed(self, entity: str, fields: Mapping[str, Value]) -> str:
        return self.memory.put(entity, self.native(entity, fields))

    async def edit(self, entity: str, record_id: str, fields: Mapping[str, Value]) -> None:
        self.memory.edit(entity, record_id, self.native(entity, fields))

    async def seed_unmappable(self, entity: str) -> str:
        return self.memory.put(entity, unmappable_row(self.mappings[entity], self.memory.side))


def unmappable_row(mapping: EntityMapping, side: Side) -> dict[str, object]:
    """A native row the mapping refuses: a bad value in the first field that checks values."""
    for candidate in ("§ not a valid value §", ["not", "one", "value"]):
        for field in mapping.fields:
            row: dict[str, object] = {field.native_name(side): candidate}
            try:
                mapping.to_canonical(side, row)
            except RecordError:
                return row
    raise AssertionError("the mapping accepts anything")


class TestMemoryGatewayContract(GatewayContract):
    @pytest.fixture(params=list(Side))
    def harness(
        self, request: pytest.FixtureRequest, mappings: dict[str, EntityMapping]
    ) -> GatewayHarness:
        return MemoryHarness(MemoryGateway(request.param, mappings, page_size=3), mappings)


# -- helpers for the memory-specific tests -------------------------------------------------


@pytest.fixture(scope="module")
def mappings() -> dict[str, EntityMapping]:
    return load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)


CUSTOMER: dict[str, Value] = {
    "name": "Bakkerij De Korenaar B.V.",
    "kvk": "30145872",
    "phone": "+31302314455",
    "house_number": "112",
    "country": "BE",
    "payment_terms": "30",
}


def gateway(
    mappings: Mapping[str, EntityMapping],
    side: Side = CRM,
    clock: Callable[[], datetime] | None = None,
    page_size: int = 100,
) -> MemoryGateway:
    return MemoryGateway(side, mappings, clock, page_size=page_size)


async def records(pages: Any) -> list[Record]:
    _, found, _ = await collect(pages)
    return found


def test_it_is_a_gateway(mappings: dict[str, EntityMapping]) -> None:
    memory: Gateway = gateway(mappings)  # mypy checks the protocol here
    assert memory.side is CRM


# -- native rows, ids and times ------------------------------------------------------------


async def test_rows_are_stored_native_under_the_mapping_names(
    mappings: dict[str, EntityMapping],
) -> None:
    afas, crm = gateway(mappings, AFAS), gateway(mappings, CRM)
    debtor = await afas.create("customer", CUSTOMER, "9000000101")
    company = await crm.create("customer", CUSTOMER, "10001")
    [afas_row] = afas.rows("customer")
    assert afas_row["DebtorId"] == debtor.id == "10001"
    assert afas_row["ExternalKey"] == "9000000101"
    assert afas_row["HouseNumber"] == 112
    assert afas_row["CountryId"] == "B"
    assert afas_row["ModifiedDate"] == debtor.modified
    [crm_row] = crm.rows("customer")
    assert crm_row["hs_object_id"] == company.id
    assert crm_row["afas_debtor_number"] == "10001"
    assert crm_row["country"] == "Belgium"
    assert crm_row["payment_terms"] == "net_30"
    assert crm_row["afas_roles"] == "customer"
    assert afas_row["Blocked"] is False
    assert crm_row["archived"] is False


async def test_ids_are_numbered_like_each_system(mappings: dict[str, EntityMapping]) -> None:
    crm, afas = gateway(mappings, CRM), gateway(mappings, AFAS)
    crm_ids = [(await crm.create(e, CUSTOMER, "x")).id for e in ("customer", "supplier")]
    assert crm_ids == ["9000000001", "9000000002"]  # one numbering for all companies
    assert (await afas.create("customer", CUSTOMER, "x")).id == "10001"
    assert (await afas.create("supplier", CUSTOMER, "x")).id == "70001"
    assert afas.put("customer", {"DebtorId": "12000"}) == "12000"
    assert (await afas.create("customer", CUSTOMER, "x")).id == "12001"


def test_put_refuses_an_id_that_exists(mappings: dict[str, EntityMapping]) -> None:
    afas = gateway(mappings, AFAS)
    afas.put("customer", {"DebtorId": "10001"})
    with pytest.raises(ValueError, match="already exists"):
        afas.put("customer", {"DebtorId": "10001"})


def test_put_needs_an_aware_modification_time(mappings: dict[str, EntityMapping]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        gateway(mappings, AFAS).put("customer", {"ModifiedDate": datetime(2025, 1, 1)})


async def test_the_logical_clock_is_deterministic_and_strictly_increasing(
    mappings: dict[str, EntityMapping],
) -> None:
    one, two = gateway(mappings), gateway(mappings)
    times = []
    for memory in (one, two):
        created = await memory.create("customer", CUSTOMER, "x")
        updated = await memory.update("customer", created.id, {"city": "Gent"})
        times.append((created.modified, updated.modified))
    assert (
        times[0]
        == times[1]
        == (
            LOGICAL_EPOCH + timedelta(seconds=1),
            LOGICAL_EPOCH + timedelta(seconds=2),
        )
    )


async def test_the_clock_continues_after_the_newest_row_put(
    mappings: dict[str, EntityMapping],
) -> None:
    memory = gateway(mappings)
    late = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    memory.put("customer", {"name": "Oud", "hs_lastmodifieddate": late})
    created = await memory.create("customer", CUSTOMER, "x")
    assert created.modified == late + timedelta(seconds=1)


async def test_a_given_clock_is_used_and_nudged_when_it_stands_still(
    mappings: dict[str, EntityMapping],
) -> None:
    now = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
    memory = gateway(mappings, clock=lambda: now)
    first = await memory.create("customer", CUSTOMER, "x")
    second = await memory.update("customer", first.id, {"city": "Gent"})
    assert first.modified == now
    assert second.modified == now + timedelta(microseconds=1)


async def test_a_naive_clock_is_refused(mappings: dict[str, EntityMapping]) -> None:
    memory = gateway(mappings, clock=lambda: datetime(2025, 6, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        await memory.create("customer", CUSTOMER, "x")


def test_page_size_must_be_positive(mappings: dict[str, EntityMapping]) -> None:
    with pytest.raises(ValueError, match="page_size"):
        gateway(mappings, page_size=0)


# -- the user API ----------------------------------------------------------------------------


async def test_edit_merges_native_changes_and_moves_the_time(
    mappings: dict[str, EntityMapping],
) -> None:
    memory = gateway(mappings, AFAS)
    record_id = memory.put("customer", {"DebtorName": "Atlas", "City": "Zwolle"})
    before = memory.row("customer", record_id)
    memory.edit("customer", record_id, {"City": "Kampen"})
    after = memory.row("customer", record_id)
    assert after["DebtorName"] == "Atlas"
    assert after["City"] == "Kampen"
    assert isinstance(before["ModifiedDate"], datetime)
    assert isinstance(after["ModifiedDate"], datetime)
    assert after["ModifiedDate"] > before["ModifiedDate"]
    with pytest.raises(ValueError, match="cannot change"):
        memory.edit("customer", record_id, {"DebtorId": "1"})
    with pytest.raises(KeyError):
        memory.edit("customer", "404", {"City": "Kampen"})


async def test_remove_hard_deletes(mappings: dict[str, EntityMapping]) -> None:
    memory = gateway(mappings)
    created = await memory.create("customer", CUSTOMER, "x")
    memory.remove("customer", created.id)
    assert memory.rows("customer") == []
    assert (await memory.read("customer", [created.id])).records == []
    with pytest.raises(KeyError):
        memory.remove("customer", created.id)


async def test_rows_are_copies_and_include_inactive_rows(
    mappings: dict[str, EntityMapping],
) -> None:
    memory = gateway(mappings, AFAS)
    created = await memory.create("customer", CUSTOMER, "x")
    await memory.deactivate("customer", created.id)
    [row] = memory.rows("customer")
    assert row["Blocked"] is True
    assert not memory.is_active("customer", created.id)
    row["DebtorName"] = "changed in the copy"
    assert memory.rows("customer")[0]["DebtorName"] == CUSTOMER["name"]


async def test_deactivate_is_idempotent_and_refuses_unknown_ids(
    mappings: dict[str, EntityMapping],
) -> None:
    memory = gateway(mappings, CRM)
    created = await memory.create("customer", CUSTOMER, "x")
    await memory.deactivate("customer", created.id)
    archived = memory.row("customer", created.id)
    await memory.deactivate("customer", created.id)
    assert memory.row("customer", created.id) == archived
    assert archived["archived"] is True
    with pytest.raises(RecordError):
        await memory.deactivate("customer", "404")


async def test_update_of_an_inactive_record_is_refused(
    mappings: dict[str, EntityMapping],
) -> None:
    memory = gateway(mappings, AFAS)
    created = await memory.create("customer", CUSTOMER, "x")
    await memory.deactivate("customer", created.id)
    with pytest.raises(RecordError, match="inactive") as caught:
        await memory.update("customer", created.id, {"city": "Gent"})
    assert caught.value.reference == created.id


async def test_a_value_the_mapping_refuses_writes_nothing(
    mappings: dict[str, EntityMapping],
) -> None:
    memory = gateway(mappings, AFAS)
    with pytest.raises(RecordError) as caught:
        await memory.create("customer", {**CUSTOMER, "kvk": "123"}, "x")
    assert caught.value.field == "kvk"
    assert memory.rows("customer") == []
    created = await memory.create("customer", CUSTOMER, "x")
    with pytest.raises(RecordError):
        await memory.update("customer", created.id, {"city": "Gent", "house_number": "12a"})
    assert "City" not in memory.row("customer", created.id)


# -- organisations (the AFAS side) ---------------------------------------------------------


async def test_a_company_row_is_at_its_organisation_or_at_one_numbered_as_itself(
    mappings: dict[str, EntityMapping],
) -> None:
    memory: OrganisationGateway = gateway(mappings, AFAS)  # mypy checks the protocol here
    assert isinstance(memory, MemoryGateway)
    own = memory.put("customer", {"DebtorId": "10001", "DebtorName": "Korenaar"})
    shared = memory.put(
        "customer", {"DebtorId": "10002", "DebtorName": "Atlas", "OrganisationId": "500"}
    )
    creditor = memory.put(
        "supplier", {"CreditorId": "70001", "CreditorName": "Atlas", "OrganisationId": "500"}
    )
    found = await memory.organisations_of("customer", [own, shared, "404"])
    assert found == {own: "10001", shared: "500"}
    assert await memory.organisations_of("supplier", [creditor]) == {creditor: "500"}


async def test_company_rows_read_show_their_organisations_once(
    mappings: dict[str, EntityMapping],
) -> None:
    memory = gateway(mappings, AFAS)
    first = memory.put("customer", {"DebtorId": "10001", "OrganisationId": "500"})
    alone = memory.put("customer", {"DebtorId": "10004"})
    assert memory.organisations_seen("customer") == {}
    await memory.read("customer", [first, alone])
    assert memory.organisations_seen("customer") == {first: "500", alone: alone}
    assert memory.organisations_seen("customer") == {}  # handed out once
    memory.edit("customer", first, {"OrganisationId": "600"})  # its organisation merged away
    listed = [r.id async for page in memory.list_all("customer") for r in page.records]
    assert listed == [first, alone]
    assert memory.organisations_seen("customer") == {first: "600", alone: alone}


async def test_the_crm_side_has_no_organisations(mappings: dict[str, EntityMapping]) -> None:
    memory = gateway(mappings, CRM)
    with pytest.raises(ValueError, match="organisations are AFAS's"):
        await memory.organisations_of("customer", ["1"])
    with pytest.raises(ValueError, match="organisations are AFAS's"):
        memory.organisations_seen("customer")


async def test_unknown_entities_and_fields_are_mistakes(
    mappings: dict[str, EntityMapping],
) -> None:
    memory = gateway(mappings)
    with pytest.raises(ValueError, match="unknown entity 'project'"):
        await memory.read("project", ["1"])
    with pytest.raises(KeyError, match="no field 'colour'"):
        await memory.find_by_values("customer", "colour", ["red"])


# -- listings ----------------------------------------------------------------------------------


async def test_equal_times_are_ordered_by_id(mappings: dict[str, EntityMapping]) -> None:
    memory = gateway(mappings, AFAS, page_size=2)
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    for record_id in ("10003", "10001", "10002"):
        memory.put("customer", {"DebtorId": record_id, "ModifiedDate": moment})
    found = await records(memory.changed_since("customer", moment))
    assert [r.id for r in found] == ["10001", "10002", "10003"]


async def test_a_record_edited_during_a_listing_comes_again_at_its_end(
    mappings: dict[str, EntityMapping],
) -> None:
    memory = gateway(mappings, AFAS, page_size=2)
    ids = [memory.put("customer", {"DebtorName": f"Firma {i}"}) for i in range(4)]
    listing = memory.changed_since("customer", None)
    first = await anext(listing)
    assert [r.id for r in first.records] == ids[:2]
    memory.edit("customer", ids[0], {"City": "Gent"})
    rest = [r.id async for page in listing for r in page.records]
    assert rest == [*ids[2:], ids[0]]


async def test_read_keeps_the_callers_order_and_drops_repeats(
    mappings: dict[str, EntityMapping],
) -> None:
    memory = gateway(mappings)
    a = memory.put("customer", {"name": "A"})
    b = memory.put("customer", {"name": "B"})
    page = await memory.read("customer", [b, a, b])
    assert [r.id for r in page.records] == [b, a]


# -- fault injection and call counts -------------------------------------------------------------


async def test_a_fault_before_the_write_writes_nothing(mappings: dict[str, EntityMapping]) -> None:
    memory = gateway(mappings)
    memory.fail_next("create", TransientError("503", retry_after=2))
    with pytest.raises(TransientError):
        await memory.create("customer", CUSTOMER, "corr-1")
    assert memory.rows("customer") == []
    assert await memory.find_by_correlation("customer", ["corr-1"]) == {}
    created = await memory.create("customer", CUSTOMER, "corr-1")  # the fault is used up
    assert memory.calls["create"] == 2
    assert memory.pending_faults() == 0
    assert [r["hs_object_id"] for r in memory.rows("customer")] == [created.id]


async def test_a_lost_response_after_the_write_leaves_it_findable(
    mappings: dict[str, EntityMapping],
) -> None:
    memory = gateway(mappings, AFAS)
    memory.fail_next("create", OutcomeUnknownError("timed out"), after_write=True)
    with pytest.raises(OutcomeUnknownError):
        await memory.create("customer", CUSTOMER, "9000000101")
    found = await memory.find_by_correlation("customer", ["9000000101"])
    assert found["9000000101"].fields["name"] == CUSTOMER["name"]


async def test_a_lost_update_response_still_applies_the_update(
    mappings: dict[str, EntityMapping],
) -> None:
    memory = gateway(mappings)
    created = await memory.create("customer", CUSTOMER, "x")
    memory.fail_next("update", OutcomeUnknownError("timed out"), after_write=True)
    memory.fail_next("deactivate", OutcomeUnknownError("timed out"), after_write=True)
    with pytest.raises(OutcomeUnknownError):
        await memory.update("customer", created.id, {"city": "Gent"})
    assert memory.row("customer", created.id)["city"] == "Gent"
    with pytest.raises(OutcomeUnknownError):
        await memory.deactivate("customer", created.id)
    assert not memory.is_active("customer", created.id)


async def test_faults_fire_in_order_and_only_for_their_operation(
    mappings: dict[str, EntityMapping],
) -> None:
    memory = gateway(mappings)
    memory.fail_next("read", TransientError("first"))
    memory.fail_next("read", TransientError("second"))
    await memory.find_by_correlation("customer", ["x"])
    for message in ("first", "second"):
        with pytest.raises(TransientError, match=message):
            await memory.read("customer", ["1"])
    assert (await memory.read("customer", ["1"])).records == []
    assert memory.calls["read"] == 3
    assert memory.calls["find_by_correlation"] == 1


async def test_a_listing_can_fail_at_its_start_or_between_pages(
    mappings: dict[str, EntityMapping],
) -> None:
    memory = gateway(mappings, page_size=2)
    for i in range(5):
        memory.put("customer", {"name": f"Firma {i}"})
    memory.fail_next("changed_since", TransientError("down"))
    with pytest.raises(TransientError):
        await records(memory.changed_since("customer", None))
    listing = memory.list_all("customer")
    await anext(listing)
    memory.fail_next("page", TransientError("page 2 lost"))
    with pytest.raises(TransientError, match="page 2 lost"):
        await anext(listing)


async def test_calls_count_requests_and_pages(mappings: dict[str, EntityMapping]) -> None:
    memory = gateway(mappings, page_size=2)
    for i in range(5):
        memory.put("customer", {"name": f"Firma {i}"})
    assert len(await records(memory.changed_since("customer", None))) == 5
    assert len(await records(memory.list_all("customer"))) == 5
    await memory.aclose()
    assert memory.calls == {"changed_since": 1, "list_all": 1, "page": 6, "aclose": 1}
    assert memory.closed


async def test_clear_faults_forgets_the_pending_ones(mappings: dict[str, EntityMapping]) -> None:
    memory = gateway(mappings)
    memory.fail_next("create", TransientError("x"))
    memory.fail_next("page", TransientError("y"))
    assert memory.pending_faults() == 2
    memory.clear_faults()
    assert memory.pending_faults() == 0
    await memory.create("customer", CUSTOMER, "x")
    assert len(await records(memory.list_all("customer"))) == 1


def test_fail_next_knows_the_operations(mappings: dict[str, EntityMapping]) -> None:
    with pytest.raises(ValueError, match="unknown operation 'craete'"):
        gateway(mappings).fail_next("craete", TransientError("x"))
