"""Roles an existing portal already says: a single select (relation_role) or HubSpot's own
``type``, against the simulator, which refuses an option a property does not have."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from syncd.errors import PermanentError, RecordError
from syncd.mapping import EntityMapping, load_mapping, load_mappings
from syncd.records import Record
from tests.gateways.hubspot.harness import HubSpotHarness, harness_for

EXAMPLE = Path(__file__).resolve().parents[3] / "mappings" / "examples" / "existing-portal"
ROLE_OPTIONS = (
    'role_options = { customer = ["customer"], supplier = ["supplier"], '
    'both = ["customer", "supplier"] }'
)


@pytest.fixture
async def hs() -> AsyncIterator[HubSpotHarness]:
    async with harness_for(load_mappings(EXAMPLE, ["customer", "supplier"])) as harness:
        yield harness


def role(hs: HubSpotHarness, company: str, prop: str = "relation_role") -> str:
    return hs.sim.company(company).properties.get(prop) or ""


async def test_the_portal_is_ready_with_its_own_single_select(hs: HubSpotHarness) -> None:
    await hs.hub.start()


async def test_companies_are_customers_by_every_option_that_means_it(hs: HubSpotHarness) -> None:
    ids = {
        v: hs.sim.seed({"name": v, "relation_role": v}) for v in ("customer", "both", "supplier")
    }
    hs.sim.seed({"name": "No role"})
    page = await hs.hub.read("customer", list(ids.values()))
    assert sorted(str(r.fields["name"]) for r in page.records) == ["both", "customer"]
    listed = [
        str(r.fields["name"])
        async for p in hs.hub.changed_since("customer", None)
        for r in p.records
    ]
    assert sorted(listed) == ["both", "customer"]


async def test_a_created_customer_gets_the_option_that_means_customer(hs: HubSpotHarness) -> None:
    created = await hs.hub.create("customer", {"name": "Nieuw B.V."}, "10001")
    assert role(hs, created.id) == "customer"


async def test_a_customer_that_becomes_a_supplier_too_gets_both(hs: HubSpotHarness) -> None:
    company = hs.sim.seed({"name": "Klant", "relation_role": "customer"})
    adopted = await hs.hub.adopt("supplier", company)
    assert isinstance(adopted, Record)
    assert role(hs, company) == "both"
    [outcome] = await hs.hub.upsert_batch("customer", [("10001", {"name": "Upserted"})])
    assert isinstance(outcome, Record)
    assert role(hs, outcome.id) == "customer"


async def test_a_both_that_stops_being_a_customer_stays_a_supplier(hs: HubSpotHarness) -> None:
    company = hs.sim.seed({"name": "Beide", "relation_role": "both"})
    await hs.hub.deactivate("customer", company)
    assert role(hs, company) == "supplier"
    assert not hs.sim.company(company).archived
    await hs.hub.deactivate("supplier", company)
    assert hs.sim.company(company).archived  # no role left


async def test_hubspots_own_type_says_a_supplier_by_vendor(tmp_path: Path) -> None:
    text = (EXAMPLE / "supplier.toml").read_text(encoding="utf-8")
    text = text.replace('role_property = "relation_role"', 'role_property = "type"')
    text = text.replace(ROLE_OPTIONS, 'role_options = { VENDOR = ["supplier"] }')
    (tmp_path / "supplier.toml").write_text(text, encoding="utf-8")
    mappings: dict[str, EntityMapping] = {"supplier": load_mapping(tmp_path / "supplier.toml")}
    async with harness_for(mappings) as hs:
        await hs.hub.start()
        prospect = hs.sim.seed({"name": "Prospect", "type": "PROSPECT"})
        vendor = hs.sim.seed({"name": "Leverancier", "type": "VENDOR"})
        page = await hs.hub.read("supplier", [prospect, vendor])
        assert [r.id for r in page.records] == [vendor]
        created = await hs.hub.create("supplier", {"name": "Nieuw"}, "70001")
        assert role(hs, created.id, "type") == "VENDOR"
        await hs.hub.adopt("supplier", prospect)
        assert role(hs, prospect, "type") == "VENDOR"
        await hs.hub.deactivate("supplier", vendor)
        assert hs.sim.company(vendor).archived


async def test_a_mapping_that_says_an_option_the_portal_lacks_is_refused_at_start(
    tmp_path: Path,
) -> None:
    text = (EXAMPLE / "supplier.toml").read_text(encoding="utf-8")
    text = text.replace('role_property = "relation_role"', 'role_property = "type"')
    text = text.replace(ROLE_OPTIONS, 'role_options = { SUPPLIER = ["supplier"] }')
    (tmp_path / "supplier.toml").write_text(text, encoding="utf-8")
    async with harness_for({"supplier": load_mapping(tmp_path / "supplier.toml")}) as hs:
        with pytest.raises(PermanentError, match="'type' has no option 'SUPPLIER'"):
            await hs.hub.start()
        with pytest.raises(RecordError, match="SUPPLIER"):
            await hs.hub.create("supplier", {"name": "Nieuw"}, "70001")


async def test_the_simulator_knows_types_options_and_refuses_others_as_hubspot_does(
    hs: HubSpotHarness,
) -> None:
    url = hs.hub._client.settings.base_url
    auth = {"Authorization": "Bearer pat-test-token"}
    async with aiohttp.ClientSession(headers=auth) as http:
        async with http.get(f"{url}/crm/v3/properties/companies") as reply:
            definitions = (await reply.json())["results"]
        [definition] = [d for d in definitions if d["name"] == "type"]
        options = [o["value"] for o in definition["options"]]
        assert options == ["PROSPECT", "PARTNER", "RESELLER", "VENDOR", "OTHER"]
        body = {"properties": {"name": "X", "type": "CUSTOMER"}}
        async with http.post(f"{url}/crm/v3/objects/companies", json=body) as reply:
            assert reply.status == 400
            error = await reply.json()
    assert error["category"] == "VALIDATION_ERROR"
    assert error["message"].startswith("Property values were not valid: ")
    assert "CUSTOMER was not one of the allowed options" in error["message"]
    assert error["errors"][0]["code"] == "INVALID_OPTION"


async def test_a_whole_listing_shows_other_roles_companies_with_their_times(
    hs: HubSpotHarness,
) -> None:
    """Companies without the role come by their match keys and modification time: a
    portal with no supplier yet still gives the supplier lane a cursor (stages.listings)."""
    hs.sim.seed({"name": "Klant", "relation_role": "customer"})
    pages = [page async for page in hs.hub.list_all("supplier")]
    assert [r.fields["name"] for p in pages for r in p.records] == []
    [other] = [r for p in pages for r in p.others]
    assert other.fields["name"] == "Klant"
    assert other.modified is not None
