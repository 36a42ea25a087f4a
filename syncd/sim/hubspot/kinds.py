"""The CRM objects the simulator serves, and what differs between them.

Companies and contacts share HubSpot's object API (paths, paging, search, batch); they
differ in the property that holds the modification time (``hs_lastmodifieddate`` on
companies, ``lastmodifieddate`` on contacts), the properties shown when none are asked
for, the properties a search's free-text ``query`` looks in, and, for contacts, the
``email`` that no two contacts may share (a create or update with a taken one is a 409).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from syncd.sim.hubspot.contact_properties import CONTACT_PROPERTIES
from syncd.sim.hubspot.properties import DEFAULT_PROPERTIES, PropertyDef


@dataclass(frozen=True)
class ObjectKind:
    """One CRM object type as the simulator serves it."""

    plural: str  # in paths: /crm/v3/objects/{plural}
    singular: str  # in association paths and messages: contact, company
    type_id: str  # HubSpot's object type id: 0-1 contacts, 0-2 companies
    label: str  # as batch errors name it: COMPANY, CONTACT
    modified: str  # the property that holds the modification time
    listed: tuple[str, ...]  # shown when a read asks for no properties
    text_fields: tuple[str, ...]  # what a search's free-text query looks in
    properties: Mapping[str, PropertyDef]
    unique_email: bool = False

    @property
    def server_properties(self) -> tuple[str, ...]:
        """Kept by the portal and shown on every read."""
        return ("hs_object_id", "createdate", self.modified)

    def names(self) -> set[str]:
        """How paths may name the type: plural, singular or type id."""
        return {self.plural, self.singular, self.type_id}


COMPANIES = ObjectKind(
    plural="companies",
    singular="company",
    type_id="0-2",
    label="COMPANY",
    modified="hs_lastmodifieddate",
    listed=("name", "domain"),
    text_fields=("name", "domain", "website", "phone"),
    properties=DEFAULT_PROPERTIES,
)

CONTACTS = ObjectKind(
    plural="contacts",
    singular="contact",
    type_id="0-1",
    label="CONTACT",
    modified="lastmodifieddate",
    listed=("firstname", "lastname", "email"),
    text_fields=(
        "firstname",
        "lastname",
        "email",
        "phone",
        "mobilephone",
        "company",
        "hs_additional_emails",
    ),
    properties=CONTACT_PROPERTIES,
    unique_email=True,
)

KINDS = (COMPANIES, CONTACTS)


def kind_named(name: str) -> ObjectKind | None:
    """The kind a path names (``contacts``, ``contact`` or ``0-1``), or None."""
    return next((k for k in KINDS if name.lower() in k.names()), None)
