"""The HubSpot gateway on a simulator in process, and a user who works in the portal.

The user's contacts are at companies of the portal: a contact's ``company`` is the id of
a company seeded first, made its primary company. HubSpot lets no two contacts share an
e-mail, so a contact seeded with a taken one gets it tagged (``anouk+2@...``)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from syncd.gateways.base import Gateway
from syncd.gateways.hubspot.client import ClientSettings
from syncd.gateways.hubspot.gateway import HubSpotGateway
from syncd.gateways.hubspot.properties import to_text
from syncd.mapping import EntityMapping
from syncd.records import Side, Value
from syncd.sim.hubspot import HubSpotSimulator, SimConfig
from tests.gateways.test_memory import unmappable_row

PRIMARY_COMPANY = "primary_company"
"""Where the shipped contact mapping keeps a contact's company (an association)."""

FAST = ClientSettings(
    search_per_second=1000,
    requests_per_ten_seconds=100_000,
    backoff_scale=0.01,
    timeout_seconds=5,
)
"""Client settings for tests: no throttling of our own, backoff a hundred times faster."""


def native(mapping: EntityMapping, fields: Mapping[str, Value]) -> dict[str, str]:
    """Canonical fields as HubSpot property strings ("" for blank)."""
    return {k: to_text(v) for k, v in mapping.to_native(Side.CRM, fields).items()}


def gateway_for(
    url: str,
    mappings: Mapping[str, EntityMapping],
    *,
    page_size: int = 100,
    settle: float = 0.0,
    **settings: Any,
) -> HubSpotGateway:
    base = {**FAST.__dict__, "base_url": url, **settings}
    return HubSpotGateway(
        "pat-test-token",
        mappings,
        ClientSettings(**base),
        settle_seconds=settle,
        page_size=page_size,
    )


@dataclass
class HubSpotHarness:
    """The contract's user edits the simulator's store, as a person in HubSpot would."""

    sim: HubSpotSimulator
    hub: HubSpotGateway
    mappings: Mapping[str, EntityMapping]

    @property
    def gateway(self) -> Gateway:
        return self.hub

    @property
    def page_size(self) -> int:
        return self.hub.page_size

    def role(self, entity: str) -> dict[str, str]:
        role = self.mappings[entity].crm.role
        return {role.property_name: role.value_with_role(None)} if role else {}

    async def seed(self, entity: str, fields: Mapping[str, Value]) -> str:
        values = {k: v for k, v in native(self.mappings[entity], fields).items() if v}
        if not self.is_contact(entity):
            return self.sim.seed({**values, **self.role(entity)})
        company = values.pop(PRIMARY_COMPANY, None)
        if email := values.get("email"):
            values["email"] = self.free_email(email)
        contact_id = self.sim.seed_contact(values)
        if company:
            self.sim.associate(contact_id, company, primary=True)
        return contact_id

    async def edit(self, entity: str, record_id: str, fields: Mapping[str, Value]) -> None:
        values = native(self.mappings[entity], fields)
        if not self.is_contact(entity):
            self.sim.edit(record_id, values)
            return
        if company := values.pop(PRIMARY_COMPANY, None):
            self.sim.associate(record_id, company, primary=True)
        if values:
            self.sim.edit_contact(record_id, values)

    async def seed_unmappable(self, entity: str) -> str:
        row = unmappable_row(self.mappings[entity], Side.CRM)
        values = {k: to_text(v) for k, v in row.items()}
        if self.is_contact(entity):
            return self.sim.seed_contact(values)
        return self.sim.seed({**values, **self.role(entity)})

    def is_contact(self, entity: str) -> bool:
        return self.mappings[entity].crm.options.get("object") == "contacts"

    def free_email(self, email: str) -> str:
        """``email``, or a tagged form of it that no contact of the portal has."""
        local, _, domain = email.partition("@")
        holders = self.sim.contacts.emails
        assert holders is not None, "contacts keep their e-mails unique"
        tagged = (f"{local}+{n}@{domain}" for n in itertools.count(2))
        return next(c for c in itertools.chain([email], tagged) if not holders.holders(c))

    def company_at(self, name: str) -> str:
        """A company a user made in the portal for contacts to work at; its id."""
        return self.sim.seed({"name": name, "domain": f"{name.lower()}.example"})


@asynccontextmanager
async def harness_for(
    mappings: Mapping[str, EntityMapping],
    *,
    page_size: int = 4,
    config: SimConfig | None = None,
    settle: float = 0.0,
    record: bool = False,
    **settings: Any,
) -> AsyncIterator[HubSpotHarness]:
    sim = HubSpotSimulator(config=config, record=record)
    url = await sim.start()
    hub = gateway_for(url, mappings, page_size=page_size, settle=settle, **settings)
    try:
        yield HubSpotHarness(sim, hub, mappings)
    finally:
        await hub.aclose()
        await sim.close()


ACME = {
    "name": "Acme B.V.",
    "kvk": "12345678",
    "city": "Utrecht",
    "country": "NL",
    "payment_terms": "30",
}
"""A customer as the gateway tests write it."""


def roles(harness: HubSpotHarness, company_id: str) -> str:
    return harness.sim.company(company_id).properties.get("afas_roles", "")
