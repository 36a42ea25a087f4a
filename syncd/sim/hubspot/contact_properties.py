"""Contact property definitions of the simulated portal (``GET /crm/v3/properties/
contacts``): HubSpot's standard contact properties that syncd meets, and the custom ones
an administrator adds for it (see docs/hubspot-setup.md, "Contacts")."""

from __future__ import annotations

from collections.abc import Mapping

from syncd.sim.hubspot.properties import PropertyDef

_GROUP = "contactinformation"


def _contact(
    name: str,
    label: str,
    *,
    type: str = "string",
    field_type: str = "text",
    read_only: bool = False,
    unique: bool = False,
) -> PropertyDef:
    return PropertyDef(
        name, type, field_type, label, read_only=read_only, unique=unique, group=_GROUP
    )


CONTACT_PROPERTIES: Mapping[str, PropertyDef] = {
    d.name: d
    for d in (
        # HubSpot's own, server-maintained (contacts keep their modification time in
        # lastmodifieddate, not hs_lastmodifieddate as companies do)
        _contact("hs_object_id", "Record ID", type="number", field_type="number", read_only=True),
        _contact("createdate", "Create Date", type="datetime", field_type="date", read_only=True),
        _contact(
            "lastmodifieddate",
            "Last Modified Date",
            type="datetime",
            field_type="date",
            read_only=True,
        ),
        _contact(
            "hs_merged_object_ids",
            "Merged IDs",
            type="enumeration",
            field_type="checkbox",
            read_only=True,
        ),
        # the e-mails HubSpot keeps beside the primary one (added by merges and users)
        _contact("hs_additional_emails", "Additional email addresses", read_only=True),
        # HubSpot's standard contact properties; email is unique: a taken one is a 409
        _contact("email", "Email", unique=True),
        _contact("firstname", "First Name"),
        _contact("lastname", "Last Name"),
        _contact("phone", "Phone Number", field_type="phonenumber"),
        _contact("mobilephone", "Mobile Phone Number", field_type="phonenumber"),
        _contact("jobtitle", "Job Title"),
        _contact("company", "Company Name"),
        # the custom property syncd correlates contacts by: the AFAS contact id
        _contact("afas_contact_id", "AFAS contact id", unique=True),
    )
}
"""The contact properties a fresh simulated portal has."""
