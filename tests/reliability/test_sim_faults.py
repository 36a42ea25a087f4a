"""The faults the campaigns need from the simulators: a page that changes between
requests, a fault after some requests, and HubSpot's 429 storms (search's own body)."""

from __future__ import annotations

import aiohttp

from syncd.gateways.afas.client import token_header
from syncd.sim.afas import AfasSimulator
from syncd.sim.afas import Fault as AfasFault
from syncd.sim.hubspot import Fault as HubSpotFault
from tests.reliability.campaign.fault_campaign import serving
from tests.reliability.campaign.world import World
from tests.reliability.test_fault_campaign import MAPPINGS

AFAS_AUTH = {"Authorization": token_header("campaign")}
HUBSPOT_AUTH = {"Authorization": "Bearer campaign"}
COMPANIES = "/crm/v3/objects/companies"


def _debtor(afas: AfasSimulator) -> str:
    return str(afas.rows("customer")[0]["DebtorId"])


async def test_an_afas_user_edits_between_two_pages_of_a_listing() -> None:
    world = World(MAPPINGS, 12, seed=3)
    number = _debtor(world.afas)
    world.afas.add_fault(
        AfasFault(
            kind="edit",
            connector="syncd_debtors",
            query="orderbyfieldids=ModifiedDate",
            skip=1,
            entity="customer",
            record=number,
            fields={"City": "Giethoorn"},
        )
    )
    async with serving(world) as (afas_url, _), aiohttp.ClientSession(headers=AFAS_AUTH) as http:
        listing = f"{afas_url}/connectors/syncd_debtors?skip=0&take=2&orderbyfieldids=ModifiedDate"
        cities = []
        for _ in range(3):
            await http.get(f"{afas_url}/connectors/syncd_debtors?skip=0&take=2")  # not a match
            async with http.get(listing) as response:
                assert response.status == 200
            cities.append(_city(world.afas, number))
    assert cities[0] != "Giethoorn"  # the first page passed untouched
    assert cities[1:] == ["Giethoorn", "Giethoorn"]  # the edit landed before the second
    assert world.afas.faults == []


def _city(afas: AfasSimulator, number: str) -> object:
    return next(r["City"] for r in afas.rows("customer") if str(r["DebtorId"]) == number)


async def test_a_hubspot_user_edits_after_some_searches_and_storms_answer_429() -> None:
    world = World(MAPPINGS, 12, seed=3)
    company = next(iter(world.hubspot.portal.live())).id
    edit = {"id": company, "properties": {"city": "Giethoorn"}}
    world.hubspot.fail(HubSpotFault(method="POST", path="/search", skip=1, edit=edit))
    async with serving(world) as (_, url), aiohttp.ClientSession(url, headers=HUBSPOT_AUTH) as http:
        search = {"filterGroups": [], "properties": ["city"], "limit": 1}
        await http.post(f"{COMPANIES}/search", json=search)
        assert world.hubspot.company(company).properties.get("city") != "Giethoorn"
        async with http.post(f"{COMPANIES}/search", json=search) as response:
            assert response.status == 200
        assert world.hubspot.company(company).properties["city"] == "Giethoorn"

        world.hubspot.fail(HubSpotFault(status=429, count=3))
        policies = []
        for path, body in ((f"{COMPANIES}/search", search), (f"{COMPANIES}/batch/read", None)):
            async with http.post(path, json=body or {"inputs": []}) as response:
                assert response.status == 429
                policies.append((await response.json())["policyName"])
        async with http.get(COMPANIES) as response:
            assert response.status == 429
        async with http.get(COMPANIES) as response:
            assert response.status == 200  # the storm is over
    assert policies == ["SECONDLY", "TEN_SECONDLY_ROLLING"]
