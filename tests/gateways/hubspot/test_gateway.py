"""What only the HubSpot gateway does, against the simulator: HubSpot's traps, one by one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from syncd.config import load_settings
from syncd.connections import BUILDERS
from syncd.errors import (
    AuthError,
    OutcomeUnknownError,
    PermanentError,
    RecordError,
    TransientError,
)
from syncd.gateways.hubspot.gateway import HubSpotGateway
from syncd.gateways.hubspot.options import HubSpotOptions
from syncd.mapping import EntityMapping
from syncd.records import Side
from syncd.sim.hubspot import Fault, PropertyDef
from tests.gateways.contract import collect
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS
from tests.gateways.hubspot.harness import ACME, HubSpotHarness, gateway_for, harness_for, roles

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
    assert str(crm.options_as(HubSpotOptions).token) == "$HUBSPOT_TOKEN"
    assert "pat-eu1-x" not in repr(crm)
    gateway = BUILDERS["hubspot"](crm, Side.CRM, settings.mappings)
    assert isinstance(gateway, HubSpotGateway)
    assert gateway.settle == timedelta(seconds=120)
