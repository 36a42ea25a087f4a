"""What contact cycles ask of AFAS about organisations, counted by the simulators.

Which linked company an AFAS contact's organisation is follows from the organisations of
the linked debtors and creditors. They are kept in the state store: after the first
cycle has read them, a contact cycle asks AFAS for none, yet a debtor that Profit moved
to another organisation is followed once its row is read again.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncd.engine.cycle import Connection, CycleReport, run_cycle
from syncd.gateways.afas.client import AfasClient
from syncd.gateways.afas.gateway import AfasGateway
from syncd.gateways.base import Gateway
from syncd.gateways.hubspot.client import ClientSettings
from syncd.gateways.hubspot.gateway import HubSpotGateway
from syncd.mapping import KNOWN_ENTITIES, load_mappings
from syncd.policy import SyncRules
from syncd.records import Record, Side, Value
from syncd.sim.afas.store import Organisation
from syncd.state.store import open_store
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS
from tests.reliability.campaign.fault_campaign import serving
from tests.reliability.campaign.people import CONTACT
from tests.reliability.campaign.world import World

COMPANY_TABLES = ("syncd_debtors", "syncd_creditors")
NEW_ORGANISATION = "990001"
NEWCOMER: dict[str, Value] = {
    "first_name": "Mirjam",
    "last_name": "de Wit",
    "email": "mirjam@verhuisd.example",
}


@dataclass
class Synced:
    """Both simulators with companies and people, the companies synced."""

    world: World
    conn: Connection
    crm: HubSpotGateway

    async def contacts(self, *, full: bool = False) -> tuple[CycleReport, int]:
        """A contact cycle; what it did, and how many debtors and creditors it read."""
        before = Counter(self.world.afas.requests)
        report = await run_cycle(self.conn, CONTACT, full=full)
        sent = Counter(self.world.afas.requests) - before
        return report, sum(n for kind, n in sent.items() if kind.endswith(COMPANY_TABLES))


@pytest.fixture
async def synced(tmp_path: Path) -> AsyncIterator[Synced]:
    mappings = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
    world = World(mappings, 12, seed=12)
    async with serving(world) as (afas_url, hubspot_url):
        store = await open_store(f"sqlite:///{tmp_path / 'state.db'}")
        settings = ClientSettings(base_url=hubspot_url)
        crm = HubSpotGateway("test", mappings, settings, settle_seconds=0)
        afas = AfasGateway(AfasClient(afas_url, token="test"), mappings)
        gateways: dict[Side, Gateway] = {Side.CRM: crm, Side.AFAS: afas}
        conn = Connection("test", gateways, store, mappings, SyncRules())
        try:
            await crm.start()
            for entity in ("customer", "supplier"):
                await run_cycle(conn, entity)
            yield Synced(world, conn, crm)
        finally:
            await crm.aclose()
            await afas.aclose()
            await store.close()


async def test_contact_cycles_read_no_organisation_the_company_cycles_saw(
    synced: Synced,
) -> None:
    first, read = await synced.contacts()
    assert first.counts["created_afas"]  # HubSpot's contacts under AFAS's organisations
    assert read == 0  # the company cycles' listings showed every debtor's organisation
    for _ in range(2):  # the echo of the first, then an idle cycle
        _, read = await synced.contacts()
        assert read == 0


async def test_the_organisations_a_new_process_never_saw_are_read_once(synced: Synced) -> None:
    # A restart between the company and the contact cycles: what the rows showed is gone.
    afas = synced.conn.gateways[Side.AFAS]
    assert isinstance(afas, AfasGateway)
    fresh = AfasGateway(afas.client, synced.conn.mappings)
    synced.conn = dataclasses.replace(
        synced.conn, gateways={**synced.conn.gateways, Side.AFAS: fresh}
    )
    first, read = await synced.contacts()
    assert first.counts["created_afas"]
    assert 0 < read <= 2  # a request per company entity, their links' organisations
    for _ in range(2):
        _, read = await synced.contacts()
        assert read == 0


async def test_a_debtor_moved_to_another_organisation_is_followed_when_its_row_is_read(
    synced: Synced,
) -> None:
    await synced.contacts()
    email, company = await _merged_into_a_new_organisation(synced)
    await run_cycle(synced.conn, "customer", full=True)  # the company sweep reads the debtor
    _, read = await synced.contacts()
    assert read == 0  # what the sweep's rows showed is enough
    found = await _hubspot_contact(synced.crm, email)
    assert found is not None
    assert found.fields["company"] == company


async def test_a_contact_sweep_reads_the_organisations_again(synced: Synced) -> None:
    await synced.contacts()
    email, company = await _merged_into_a_new_organisation(synced)
    # No company cycle read the debtor since; a contact sweep reads every link's organisation.
    _, read = await synced.contacts(full=True)
    assert read
    found = await _hubspot_contact(synced.crm, email)
    assert found is not None
    assert found.fields["company"] == company


async def _merged_into_a_new_organisation(synced: Synced) -> tuple[str, str]:
    """A user adds an organisation with a contact at it, and merges the organisation of
    a linked debtor into it: the debtor moves there. The contact's e-mail, and the CRM
    company of the debtor."""
    debtor, company = await _linked_debtor_alone(synced)
    data = synced.world.afas.data
    data.organisations[NEW_ORGANISATION] = Organisation(NEW_ORGANISATION, {}, data.clock.tick())
    row = synced.conn.mappings[CONTACT].to_native(Side.AFAS, NEWCOMER)
    # added a moment ago: old enough to be created in HubSpot (a newer one waits there
    # until HubSpot's search could show a twin), new enough for the cycles' overlap
    added = datetime.now(UTC) - timedelta(seconds=5)
    at = {"OrganisationId": NEW_ORGANISATION, "ModifiedDate": added}
    synced.world.afas.seed({CONTACT: [{**row, **at}]})
    data.merge_organisations(data.relation("customer", debtor).organisation, NEW_ORGANISATION)
    return str(NEWCOMER["email"]), company


async def _linked_debtor_alone(synced: Synced) -> tuple[str, str]:
    """A linked debtor whose organisation has no creditor: its number and CRM company."""
    data = synced.world.afas.data
    with_creditor = {r.organisation for r in data.relations["supplier"].values()}
    links = await synced.conn.store.get_links("test", "customer")
    return next(
        (link.afas_id, link.crm_id)
        for link in links
        if link.detached_at is None
        and data.relation("customer", link.afas_id).organisation not in with_creditor
    )


async def _hubspot_contact(crm: HubSpotGateway, email: str) -> Record | None:
    found = await crm.find_by_values(CONTACT, "email", [email])
    return found[0] if found else None
