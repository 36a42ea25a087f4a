"""UpdateConnector bodies, and what the gateway sends for create, update and deactivate."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from syncd.errors import RecordError
from syncd.gateways.afas.gateway import AfasGateway
from syncd.gateways.afas.payload import connector_payload
from syncd.mapping import KNOWN_ENTITIES, EntityMapping, load_mappings
from syncd.records import Record
from syncd.sim.afas import AfasSimulator
from tests.gateways.afas.helpers import gateway, served, simulator
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS


def test_paths_nest_into_objects_and_blanks_clear() -> None:
    body = connector_payload(
        "KnSalesRelationOrg",
        {"VaId": "NL1", "KnOrganisation.Nm": "Jansen", "KnOrganisation.KnBasicAddressAdr.Rs": None},
        key=("DbId", "10001"),
        defaults={
            "KnOrganisation": {"MatchOga": "9"},
            "KnOrganisation.KnBasicAddressPad": {"X": 1},
        },
    )
    assert body == {
        "KnSalesRelationOrg": {
            "Element": {
                "@DbId": "10001",
                "Fields": {"VaId": "NL1"},
                "Objects": [
                    {
                        "KnOrganisation": {
                            "Element": {
                                "Fields": {"MatchOga": "9", "Nm": "Jansen"},
                                "Objects": [
                                    {"KnBasicAddressAdr": {"Element": {"Fields": {"Rs": ""}}}}
                                ],
                            }
                        }
                    }
                ],
            }
        }
    }


def test_a_given_value_wins_over_a_default_and_always_makes_an_object() -> None:
    body = connector_payload(
        "C", {"A": 1}, defaults={"": {"A": 0, "B": 2}, "Sub": {"S": 1}}, always=["Sub"]
    )
    element = body["C"]["Element"]  # type: ignore[index]
    assert element["Fields"] == {"A": 1, "B": 2}
    assert element["Objects"] == [{"Sub": {"Element": {"Fields": {"S": 1}}}}]


@pytest.fixture
def mappings() -> dict[str, EntityMapping]:
    return load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)


@pytest.fixture
async def sent(
    mappings: dict[str, EntityMapping],
) -> AsyncIterator[tuple[AfasGateway, list[Any], AfasSimulator]]:
    sim = simulator()
    bodies: list[Any] = []
    insert, update = sim.data.insert, sim.data.update

    def record_insert(info: Any, element: Any) -> Any:
        bodies.append(("POST", json.loads(json.dumps(element))))
        return insert(info, element)

    def record_update(info: Any, element: Any) -> Any:
        bodies.append(("PUT", json.loads(json.dumps(element))))
        return update(info, element)

    sim.data.insert = record_insert  # type: ignore[method-assign]
    sim.data.update = record_update  # type: ignore[method-assign]
    async with served(sim) as url:
        afas = gateway(url, mappings)
        yield afas, bodies, sim
        await afas.aclose()


async def test_create_sends_a_new_organisation_with_the_correlation_key(
    sent: tuple[AfasGateway, list[Any], AfasSimulator],
) -> None:
    afas, bodies, _ = sent
    await afas.create(
        "supplier",
        {"name": "Houthandel", "country": "BE", "house_number": "7", "automatic_payment": "true"},
        "9000000101",
    )
    method, element = bodies[0]
    assert method == "POST"
    assert element["Fields"] == {"CuId": "EUR", "IsCr": True, "AuPa": True}
    org = element["Objects"][0]["KnOrganisation"]["Element"]
    assert org["Fields"] == {
        "PadAdr": True,
        "AutoNum": True,
        "MatchOga": "6",
        "Nm": "Houthandel",
        "XpRe": "9000000101",
    }
    address = org["Objects"][0]["KnBasicAddressAdr"]["Element"]["Fields"]
    assert address == {"CoId": "B", "HmNr": 7}  # AFAS country codes, a whole house number


async def test_create_beside_goes_under_the_organisation_of_the_other_role(
    sent: tuple[AfasGateway, list[Any], AfasSimulator],
) -> None:
    afas, bodies, sim = sent
    debtor = await afas.create("customer", {"name": "Jansen", "country": "NL"}, "1")
    [outcome] = await afas.create_beside(
        "supplier",
        [({"name": "Jansen B.V.", "city": "Zeist", "country": "NL"}, "1")],
        {"1": ("customer", debtor.id)},
    )
    method, element = bodies[-1]
    assert method == "POST"
    org = element["Objects"][0]["KnOrganisation"]["Element"]
    [organisation] = sim.data.organisations
    assert org["Fields"] == {
        "PadAdr": True,
        "MatchOga": "0",
        "BcCo": organisation,
        "Nm": "Jansen B.V.",
        "XpRe": "1",
    }
    address = org["Objects"][0]["KnBasicAddressAdr"]["Element"]["Fields"]
    assert address == {"BeginDate": "2025-03-01", "Rs": "Zeist", "CoId": "NL"}
    assert isinstance(outcome, Record)
    assert outcome.fields["name"] == "Jansen B.V."


async def test_update_sends_only_the_given_fields_and_dates_an_address_change(
    sent: tuple[AfasGateway, list[Any], AfasSimulator],
) -> None:
    afas, bodies, _ = sent
    created = await afas.create("customer", {"name": "Jansen", "country": "NL"}, "1")
    await afas.update("customer", created.id, {"vat": "NL812345678B01", "city": "Zeist"})
    method, element = bodies[1]
    assert method == "PUT"
    assert element["@DbId"] == created.id
    assert element["Fields"] == {"VaId": "NL812345678B01"}
    org = element["Objects"][0]["KnOrganisation"]["Element"]
    assert org["Fields"] == {"MatchOga": "9"}
    address = org["Objects"][0]["KnBasicAddressAdr"]["Element"]["Fields"]
    assert address == {"BeginDate": "2025-03-01", "Rs": "Zeist"}


async def test_deactivate_blocks_and_never_deletes(
    sent: tuple[AfasGateway, list[Any], AfasSimulator],
) -> None:
    afas, bodies, sim = sent
    created = await afas.create("customer", {"name": "Jansen"}, "1")
    await afas.deactivate("customer", created.id)
    assert bodies[-1] == ("PUT", {"@DbId": created.id, "Fields": {"BlTl": True}})
    assert sim.rows("customer")[0]["Blocked"] is True
    with pytest.raises(RecordError):
        await afas.update("customer", created.id, {"city": "Zeist"})  # blocked: gone to syncd


async def test_a_value_the_mapping_cannot_write_is_refused_before_sending(
    sent: tuple[AfasGateway, list[Any], AfasSimulator],
) -> None:
    afas, bodies, _ = sent
    with pytest.raises(RecordError, match="house_number"):
        await afas.create("customer", {"house_number": "12a"}, "1")
    assert bodies == []


async def test_a_put_answered_200_with_no_body_is_a_success(
    mappings: dict[str, EntityMapping],
) -> None:
    sim = simulator(put_status=200)
    async with served(sim) as url:
        afas = gateway(url, mappings)
        created = await afas.create("customer", {"name": "Jansen"}, "1")
        updated = await afas.update("customer", created.id, {"name": "Jansen & Zn"})
        assert updated.fields["name"] == "Jansen & Zn"
        await afas.aclose()
