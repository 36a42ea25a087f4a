"""HubSpot's own ``hubspot-api-client`` agrees with the simulator on contacts and
associations v4: it creates a contact with its primary company, gets the 409 of a taken
e-mail, searches by ``lastmodifieddate``, and reads, adds and archives associations.

The SDK is synchronous (urllib3), so it runs in a thread against the simulator served on
a loopback port.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    BatchInputPublicAssociationMultiArchive,
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicAssociationMultiArchive,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.associations.v4 import PublicObjectId as AssociatedId
from hubspot.crm.contacts import (
    ApiException,
    AssociationSpec,
    Filter,
    FilterGroup,
    PublicAssociationsForObject,
    PublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectInputForCreate,
)

from syncd.sim.hubspot import HubSpotSimulator


def use_the_sdk(url: str, acme: str, beta: str) -> dict[str, Any]:
    client = HubSpot(access_token="pat-eu1-00000000-0000", host=url)
    contacts, associations = client.crm.contacts, client.crm.associations.v4
    seen: dict[str, Any] = {}
    primary = AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)
    jan = contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"email": "jan@acme.nl", "firstname": "Jan"},
            associations=[PublicAssociationsForObject(to=PublicObjectId(id=acme), types=[primary])],
        )
    )
    seen["jan"] = jan.id
    try:
        contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"email": "jan@acme.nl"}, associations=[])
        )
    except ApiException as exc:
        seen["conflict"] = (exc.status, json.loads(exc.body)["message"])
    found = contacts.search_api.do_search(
        PublicObjectSearchRequest(
            filter_groups=[
                FilterGroup(
                    filters=[Filter(property_name="lastmodifieddate", operator="GTE", value="0")]
                )
            ],
            properties=["email"],
            limit=200,
        )
    )
    seen["searched"] = [(c.id, c.properties["email"]) for c in found.results]
    associations.basic_api.create_default("contact", jan.id, "company", beta)
    read = associations.batch_api.get_page(
        "contacts",
        "companies",
        BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id=jan.id)]
        ),
    )
    seen["read"] = {
        to.to_object_id: sorted(t.type_id for t in to.association_types)
        for to in read.results[0].to
    }
    associations.batch_api.archive(
        "contacts",
        "companies",
        BatchInputPublicAssociationMultiArchive(
            inputs=[
                PublicAssociationMultiArchive(
                    _from=AssociatedId(id=jan.id), to=[AssociatedId(id=beta)]
                )
            ]
        ),
    )
    return seen


async def test_the_official_client_creates_associates_and_reads_contacts() -> None:
    sim = HubSpotSimulator()
    url = await sim.start()
    try:
        acme, beta = sim.seed({"name": "Acme"}), sim.seed({"name": "Beta"})
        seen = await asyncio.to_thread(use_the_sdk, url, acme, beta)
    finally:
        await sim.close()
    jan = seen["jan"]
    assert seen["conflict"] == (409, f"Contact already exists. Existing ID: {jan}")
    assert seen["searched"] == [(jan, "jan@acme.nl")]
    assert seen["read"] == {acme: [1, 279], beta: [279]}
    assert [(a.id, a.primary) for a in sim.associations.of(sim.contacts.kind, jan)] == [
        (acme, True)
    ]
