"""Records as the operator's views name them, read from the state store: a link keeps
its pair's name; a record syncd could not read keeps what could be read of it. No
request goes to either side."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from syncd.config import ConnectionSettings, Settings
from syncd.engine.settle.names import quarantined_name
from syncd.gateways.hubspot.options import HubSpotOptions
from syncd.mapping import EntityMapping
from syncd.records import Side
from syncd.state.rows import Link, Quarantined, StatusEvent
from syncd.state.store import StateStore
from syncd.status.record_names import HubSpotPages, RecordRef


def hubspot_pages(settings: Settings, connection: ConnectionSettings) -> HubSpotPages:
    """Where the connection's portal shows its records: known only when its HubSpot
    options give the portal's id."""
    options = connection.crm.options
    portal = options.portal_id if isinstance(options, HubSpotOptions) else None
    objects = {entity: m.crm.options.get("object", "") for entity, m in settings.mappings.items()}
    return HubSpotPages(portal, MappingProxyType(objects))


def link_ref(link: Link) -> RecordRef:
    return RecordRef(link.entity, link.crm_id, link.afas_id, link.name)


async def link_refs(store: StateStore, link_ids: Iterable[int]) -> dict[int, RecordRef]:
    """The pairs of these links, by link id."""
    found = await store.links_by_link_ids(list(link_ids))
    return {link_id: link_ref(link) for link_id, link in found.items()}


async def record_refs(
    store: StateStore, connection: str, entity: str, records: Iterable[tuple[Side, str]]
) -> dict[tuple[Side, str], RecordRef]:
    """Each (side, id): its pair if it is linked, else that record alone."""
    wanted = list(dict.fromkeys(records))
    found: dict[tuple[Side, str], RecordRef] = {}
    for side in Side:
        ids = [record_id for s, record_id in wanted if s is side]
        links = await store.links_by_ids(connection, entity, side, ids) if ids else {}
        for record_id in ids:
            link = links.get(record_id)
            found[(side, record_id)] = link_ref(link) if link else _alone(entity, side, record_id)
    return found


def _alone(entity: str, side: Side, record_id: str) -> RecordRef:
    if side is Side.CRM:
        return RecordRef(entity, crm_id=record_id)
    return RecordRef(entity, afas_id=record_id)


def event_side(event: StatusEvent) -> Side:
    """The side of an event's record: the one it names, else the CRM (a pair's events
    carry its CRM id)."""
    side = event.data.get("side")
    return Side(side) if side in {str(s) for s in Side} else Side.CRM


async def event_refs(
    store: StateStore,
    events: Sequence[StatusEvent],
    mappings: Mapping[str, EntityMapping] | None = None,
) -> dict[int, RecordRef]:
    """The record of each event about one, by event id; with the ``mappings``, one that
    is linked to none but quarantined is named by what could be read of it."""
    wanted: dict[tuple[str, str], list[StatusEvent]] = {}
    for event in events:
        if event.record and event.entity and event.id is not None:
            wanted.setdefault((event.connection, event.entity), []).append(event)
    found: dict[int, RecordRef] = {}
    for (connection, entity), about in wanted.items():
        keys = [(event_side(e), e.record or "") for e in about]
        refs = await record_refs(store, connection, entity, keys)
        if mappings is not None and any(ref.name is None for ref in refs.values()):
            refs = {**refs, **await _quarantined_refs(store, connection, entity, mappings)}
        for event, key in zip(about, keys, strict=True):
            ref = refs[key]
            named = event.data.get("name")  # events that carry the name the record had then
            if ref.name is None and isinstance(named, str):
                ref = dataclasses.replace(ref, name=named)
            found[event.id or 0] = ref
    return found


async def _quarantined_refs(
    store: StateStore, connection: str, entity: str, mappings: Mapping[str, EntityMapping]
) -> dict[tuple[Side, str], RecordRef]:
    """The lane's quarantined records that are linked to none, named as far as read."""
    held = await store.quarantined(connection, entity)
    refs = await quarantine_refs(store, held, mappings)
    return {
        (q.side, q.record_id): ref
        for q, ref in zip(held, refs, strict=True)
        if ref.crm_id is None or ref.afas_id is None
    }


async def quarantine_refs(
    store: StateStore, entries: Sequence[Quarantined], mappings: Mapping[str, EntityMapping]
) -> list[RecordRef]:
    """Each quarantined record, named by its link, or else by what could be read of it
    (:func:`~syncd.engine.settle.names.quarantined_name`). One read per lane and side."""
    wanted: dict[tuple[str, str], list[tuple[Side, str]]] = {}
    for entry in entries:
        wanted.setdefault((entry.connection, entry.entity), []).append(
            (entry.side, entry.record_id)
        )
    refs = {lane: await record_refs(store, *lane, keys) for lane, keys in wanted.items()}
    found: list[RecordRef] = []
    for entry in entries:
        ref = refs[(entry.connection, entry.entity)][(entry.side, entry.record_id)]
        name = quarantined_name(entry, ref.name, mappings)
        found.append(dataclasses.replace(ref, name=name) if name != ref.name else ref)
    return found
