"""A company's roles are one record on each side.

A HubSpot company that is a customer and a supplier is one AFAS organisation with a
debtor and a creditor. Entities are *siblings* when their CRM records are one record (the
same object) and their AFAS records keep the correlation key in one shared part (the
organisation's external key). The second role of a company is created in AFAS under the
organisation its first role has, never under a new one nor one found by its KvK number:

* a company that a sibling entity links already is created beside that link's AFAS
  record (:func:`read_sibling_links`, asked by the applier just before it creates);
* a company that a sibling entity will create (it has that role, is neither linked nor
  in quarantine there) waits for it when that sibling comes first, by name
  (:func:`find_crm_waits`, asked by the cycle before it plans): the two lanes run at once,
  and two creates side by side would make two organisations. The sibling that comes
  first never waits, so one of the two always goes.

The same the other way (:func:`find_afas_siblings`): a relation whose organisation has a
relation of a sibling entity linked to a company is that company (its role is ticked,
no second company is created), and waits while that sibling's relation is still to be
created in the CRM, when that sibling comes first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from syncd.gateways.base import Gateway, SharingGateway
from syncd.mapping import EntityMapping
from syncd.records import Side
from syncd.state.store import StateStore


def siblings_of(mappings: Mapping[str, EntityMapping], entity: str) -> tuple[str, ...]:
    """The entities whose records are ``entity``'s records in another role, by name."""
    mine = mappings.get(entity)
    if mine is None:
        return ()
    return tuple(
        sorted(
            name
            for name, other in mappings.items()
            if name != entity and _shared_record_key(other) == _shared_record_key(mine)
        )
    )


def _shared_record_key(mapping: EntityMapping) -> tuple[str, str]:
    return (mapping.crm.options["object"], mapping.afas.options["correlation_update"])


async def read_sibling_links(
    store: StateStore, connection: str, siblings: Sequence[str], crm_ids: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """Per CRM record a sibling entity links, that (sibling, its AFAS record)."""
    found: dict[str, tuple[str, str]] = {}
    for sibling in siblings:
        rest = [i for i in crm_ids if i not in found]
        if not rest:
            break
        links = await store.links_by_ids(connection, sibling, Side.CRM, rest)
        found.update(
            (crm_id, (sibling, link.afas_id))
            for crm_id, link in links.items()
            if link.detached_at is None
        )
    return found


async def find_crm_waits(
    store: StateStore,
    crm: Gateway,
    connection: str,
    entity: str,
    siblings: Sequence[str],
    crm_ids: Sequence[str],
) -> dict[str, str]:
    """Per CRM record whose create in AFAS waits, the sibling entity it waits for."""
    waits: dict[str, str] = {}
    rest = list(crm_ids)
    for sibling in (s for s in siblings if s < entity):
        if not rest:
            break
        linked = await store.links_by_ids(connection, sibling, Side.CRM, rest)
        held = {
            q.record_id for q in await store.quarantined(connection, sibling) if q.side is Side.CRM
        }
        rest = [i for i in rest if i not in linked and i not in held]
        if rest:
            waits.update((r.id, sibling) for r in (await crm.read(sibling, rest)).records)
        rest = [i for i in rest if i not in waits]
    return waits


async def find_afas_siblings(
    store: StateStore,
    afas: SharingGateway,
    connection: str,
    entity: str,
    siblings: Sequence[str],
    afas_ids: Sequence[str],
) -> tuple[dict[str, str], dict[str, str]]:
    """For AFAS records to create in the CRM: per record, the CRM record its
    organisation is linked to through a sibling, and the sibling it waits for."""
    companies: dict[str, str] = {}
    waits: dict[str, str] = {}
    for sibling in siblings:
        rest = [i for i in afas_ids if i not in companies and i not in waits]
        if not rest:
            break
        beside = await afas.relations_beside(entity, rest, sibling)
        if not beside:
            continue
        links = await store.links_by_ids(connection, sibling, Side.AFAS, list(beside.values()))
        held = {
            q.record_id for q in await store.quarantined(connection, sibling) if q.side is Side.AFAS
        }
        for record, relation in beside.items():
            link = links.get(relation)
            if link is not None and link.detached_at is None:
                companies[record] = link.crm_id
            elif link is None and sibling < entity and relation not in held:
                waits[record] = sibling
    return companies, waits
