"""A record as people know it: its name, its HubSpot id (linked to its page in HubSpot
when the portal's id is known) and its AFAS number (debtor, creditor or contact).

Pure: the views read the names from the state store and hand them here.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# What an entity's AFAS id is called in Profit.
AFAS_NUMBERS: Mapping[str, str] = MappingProxyType(
    {"customer": "debtor", "supplier": "creditor", "contact": "contact"}
)
# HubSpot's object type ids, as its record pages name them.
HUBSPOT_OBJECT_TYPES: Mapping[str, str] = MappingProxyType({"contacts": "0-1", "companies": "0-2"})
HUBSPOT_APP = "https://app.hubspot.com"


@dataclass(frozen=True)
class RecordRef:
    """One record, or a linked pair, of an entity: whatever is known of it."""

    entity: str
    crm_id: str | None = None
    afas_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class HubSpotPages:
    """Where one portal shows its records: its id (None: not known, so no links) and
    each entity's object in it (as the mapping's [crm] object says)."""

    portal_id: int | None = None
    objects: Mapping[str, str] = field(default_factory=dict)

    def url(self, entity: str, crm_id: str) -> str | None:
        object_type = HUBSPOT_OBJECT_TYPES.get(self.objects.get(entity, ""))
        if self.portal_id is None or object_type is None or not crm_id.isdigit():
            return None
        return f"{HUBSPOT_APP}/contacts/{self.portal_id}/record/{object_type}/{crm_id}"


def afas_number(entity: str) -> str:
    return AFAS_NUMBERS.get(entity, "record")


def as_text(ref: RecordRef, pages: HubSpotPages) -> str:
    """``Bakkerij de Vries (HubSpot 9000000102 <url>, AFAS debtor 10002)``."""
    ids = []
    if ref.crm_id:
        url = pages.url(ref.entity, ref.crm_id)
        ids.append(f"HubSpot {ref.crm_id}" + (f" <{url}>" if url else ""))
    if ref.afas_id:
        ids.append(f"AFAS {afas_number(ref.entity)} {ref.afas_id}")
    return f"{ref.name or 'unnamed'} ({', '.join(ids) or 'no ids'})"


def cell_html(ref: RecordRef, pages: HubSpotPages) -> str:
    """A record in a table cell: its name, and its ids below it (tables stay narrow)."""
    return f"{name_html(ref)}<br><small>{ids_html(ref, pages)}</small>"


def name_html(ref: RecordRef) -> str:
    return html.escape(ref.name) if ref.name else "<i>unnamed</i>"


def ids_html(ref: RecordRef, pages: HubSpotPages) -> str:
    """As in :func:`as_text`, the HubSpot id a link to the record's page; escaped."""
    ids = []
    if ref.crm_id:
        url = pages.url(ref.entity, ref.crm_id)
        crm_id = html.escape(ref.crm_id)
        shown = f"<a href='{html.escape(url)}'>{crm_id}</a>" if url else crm_id
        ids.append(f"HubSpot {shown}")
    if ref.afas_id:
        ids.append(f"AFAS {afas_number(ref.entity)} {html.escape(ref.afas_id)}")
    return ", ".join(ids) or "no ids"


def as_dict(ref: RecordRef, pages: HubSpotPages) -> dict[str, Any]:
    """The ``--json`` form: the name, both ids and the HubSpot page, if known."""
    url = pages.url(ref.entity, ref.crm_id) if ref.crm_id else None
    return {"name": ref.name, "crm_id": ref.crm_id, "afas_id": ref.afas_id, "hubspot_url": url}
