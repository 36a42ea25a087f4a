"""A first contact sync links on HubSpot's additional e-mails too, within one company."""

from __future__ import annotations

import pytest

from syncd.engine.cycle import Connection, run_cycle
from syncd.gateways.fixture import load_fixture
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import KNOWN_ENTITIES, load_mappings
from syncd.policy import SyncRules
from syncd.records import Side
from syncd.state.store import StateStore
from tests.gateways.contract.gateway_contract import SHIPPED_FIXTURE, SHIPPED_MAPPINGS, collect

MAPPINGS = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
CRM, AFAS = Side.CRM, Side.AFAS
JOOST = "9000000502"  # HubSpot: joost@korenaar.nl at De Korenaar (AFAS organisation 10001)


@pytest.fixture
def conn(store: StateStore) -> Connection:
    crm, afas = load_fixture(SHIPPED_FIXTURE, MAPPINGS)
    return Connection("c", {CRM: crm, AFAS: afas}, store, MAPPINGS, SyncRules())


def _gateway(conn: Connection, side: Side) -> MemoryGateway:
    gateway = conn.gateways[side]
    assert isinstance(gateway, MemoryGateway)
    return gateway


async def _linked_to(conn: Connection, crm_id: str) -> str | None:
    links = await conn.store.get_links("c", "contact")
    return next((link.afas_id for link in links if link.crm_id == crm_id), None)


async def _first_contact_sync(conn: Connection) -> None:
    for entity in ("customer", "supplier", "contact"):
        await run_cycle(conn, entity)


async def test_an_afas_contact_whose_e_mail_is_an_additional_one_in_hubspot_is_linked(
    conn: Connection,
) -> None:
    crm, afas = _gateway(conn, CRM), _gateway(conn, AFAS)
    crm.edit(
        "contact", JOOST, {"hs_additional_emails": "j.devries@ziggo.nl;J.de.Vries@Korenaar.nl"}
    )
    twin = afas.put(
        "contact",
        {
            "OrganisationId": "10001",
            "FirstName": "Joost",
            "Prefix": "de",
            "LastName": "Vries",
            "Email": "j.de.vries@korenaar.nl",
        },
    )

    await _first_contact_sync(conn)

    assert await _linked_to(conn, JOOST) == twin
    _, people, _ = await collect(afas.list_all("contact"))
    assert [p.id for p in people if p.fields["first_name"] == "Joost"] == [twin]  # no second
    # the pair takes HubSpot's work e-mail, as the mapping's first_link says
    assert afas.row("contact", twin)["Email"] == "joost@korenaar.nl"


async def test_an_additional_e_mail_at_another_company_links_nothing(conn: Connection) -> None:
    crm = _gateway(conn, CRM)
    # Els is at Moerman Koffie (organisation 10004); Joost is at De Korenaar.
    crm.edit("contact", JOOST, {"hs_additional_emails": "els@moerman-koffie.nl"})

    await _first_contact_sync(conn)

    twin = await _linked_to(conn, JOOST)
    assert twin is not None
    assert twin != "20005"
    assert _gateway(conn, AFAS).row("contact", twin)["OrganisationId"] == "10001"
