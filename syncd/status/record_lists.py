"""What the operator's commands list about records, each named as people know it
(:mod:`syncd.status.record_names`): lines of text, and rows for ``--json`` that keep the
state store's link ids for tools. Read from the state store only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from syncd.config import Settings
from syncd.engine import guards
from syncd.engine.guards import Trip
from syncd.records import Side
from syncd.state.rows import Conflict, Quarantined, StatusEvent
from syncd.state.store import StateStore
from syncd.status.held_plans import plan_lines
from syncd.status.log import event_as_text
from syncd.status.record_lookup import (
    event_refs,
    hubspot_pages,
    link_ref,
    link_refs,
    quarantine_refs,
    record_refs,
)
from syncd.status.record_names import HubSpotPages, RecordRef, as_dict, as_text
from syncd.status.views import (
    EntityHealth,
    NeedsAPerson,
    by_connection,
    find_records,
    health_as_text,
    history,
    needing_a_person,
)

MORE = "syncd plan shows them all"


class Found(StrEnum):
    """How a search for one record went."""

    ONE = "one"  # one record (or a HubSpot id several entities link)
    SEVERAL = "several"  # a name several records fit: the operator picks one
    NONE = "none"


def not_found(wanted: str) -> str:
    return (
        f"no record is called or has the id '{wanted}'; give (part of) a name, a HubSpot id "
        "or an AFAS number (syncd conflicts and syncd log show them)"
    )


@dataclass(frozen=True)
class NamedConflict:
    conflict: Conflict
    record: RecordRef


class RecordLists:
    """One state store's records as the commands list them."""

    def __init__(self, store: StateStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.pages = {c.name: hubspot_pages(settings, c) for c in settings.connections}

    def named(self, connection: str, ref: RecordRef) -> str:
        return as_text(ref, self.pages.get(connection, HubSpotPages()))

    def as_dict(self, connection: str, ref: RecordRef) -> dict[str, Any]:
        return as_dict(ref, self.pages.get(connection, HubSpotPages()))

    # --- the status log ----------------------------------------------------------------

    async def event_lines(self, events: Sequence[StatusEvent]) -> list[str]:
        """Each event as text, its record named instead of its side and id."""
        refs = await event_refs(self.store, events, self.settings.mappings)
        return [
            event_as_text(event, self.named(event.connection, ref) if ref else None)
            for event in events
            for ref in [refs.get(event.id) if event.id is not None else None]
        ]

    async def history(
        self, connections: Sequence[str], entities: Sequence[str], wanted: str
    ) -> tuple[Found, list[str]]:
        """Every event of the record ``wanted`` names (a name, part of one, a HubSpot id
        or an AFAS number); or, when a name fits several, them, to pick one of."""
        found = [
            link
            for connection in connections
            for link in await find_records(self.store, connection, entities, wanted)
        ]
        if not found:
            return await self._history_of_unlinked(connections, entities, wanted.strip())
        named = [
            f"{link.connection}/{link.entity} {self.named(link.connection, link_ref(link))}"
            for link in found
        ]
        if len(found) > 1 and all(wanted.strip() not in (f.crm_id, f.afas_id) for f in found):
            head = f"'{wanted}' names {len(found)} records; give one's HubSpot id or AFAS number:"
            return Found.SEVERAL, [head, *(f"  {line}" for line in named)]
        lines = []
        for link, line in zip(found, named, strict=True):
            events = await history(self.store, link.connection, link.entity, link.crm_id)
            lines += [line, *await self.event_lines(events)]
        return Found.ONE, lines

    async def _history_of_unlinked(
        self, connections: Sequence[str], entities: Sequence[str], record_id: str
    ) -> tuple[Found, list[str]]:
        """A record linked to none: the events about its id, if any."""
        events = [
            event
            for connection in connections
            for entity in entities
            for event in await history(self.store, connection, entity, record_id)
        ]
        return (Found.ONE if events else Found.NONE), await self.event_lines(events)

    # --- what waits for a person --------------------------------------------------------

    async def conflicts(self, connection: str, only: int | None = None) -> list[NamedConflict]:
        found = [c for c in await self.store.conflicts(connection) if only is None or c.id == only]
        refs = await link_refs(self.store, [c.link_id for c in found])
        return [NamedConflict(c, refs.get(c.link_id, RecordRef(c.entity))) for c in found]

    def conflict_line(self, named: NamedConflict) -> str:
        c = named.conflict
        return (
            f"#{c.id} {c.connection}/{c.entity} {self.named(c.connection, named.record)} "
            f"field {c.field}: base {c.base!r}, crm {c.crm!r}, afas {c.afas!r}"
        )

    def conflict_dict(self, named: NamedConflict) -> dict[str, Any]:
        c = named.conflict
        return {
            "id": c.id,
            "connection": c.connection,
            "entity": c.entity,
            **self.as_dict(c.connection, named.record),
            "link_id": c.link_id,
            "field": c.field,
            "base": c.base,
            "crm": c.crm,
            "afas": c.afas,
        }

    async def quarantine_lines(self, entries: Sequence[Quarantined]) -> list[str]:
        refs = await quarantine_refs(self.store, entries, self.settings.mappings)
        return [
            f"{q.side}:{q.record_id} {q.connection}/{q.entity} {self.named(q.connection, ref)} "
            f"attempts {q.attempts}, next "
            + (f"{q.next_attempt:%Y-%m-%d %H:%M}" if q.next_attempt else "now")
            + f": {q.reason}"
            + (f" (ref {q.reference})" if q.reference else "")
            for q, ref in zip(entries, refs, strict=True)
        ]

    async def guard_lines(self, connection: str, entity: str, trip: Trip) -> list[str]:
        """The records a tripped guard counts, the first few of them, by name."""
        keys = [(Side.CRM, crm_id) for crm_id, _ in trip.pairs]
        refs = await record_refs(self.store, connection, entity, keys)
        lines = [f"  {self.named(connection, refs[key])}" for key in keys]
        if trip.count > len(keys) > 0:
            lines.append(f"  and {trip.count - len(keys)} more: {MORE}")
        return lines

    async def held_plan_lines(self, connection: str, entity: str) -> list[str]:
        """What the plan the lane's guards held back would write, each record by name."""
        held = await guards.read_held_plan(self.store, connection, entity)
        return plan_lines(held, entity, lambda ref: self.named(connection, ref))

    # --- syncd status --------------------------------------------------------------------

    async def status_text(self, rows: Sequence[EntityHealth]) -> str:
        """Each lane's health, then the records in it that wait for a person; grouped
        by connection."""
        lanes = []
        for h in rows:
            waiting = await self._waiting(h)
            lanes.append(
                (
                    h,
                    health_as_text([h])
                    + "".join(
                        f"\n  {n.what}: {self.named(h.connection, n.record)}: {n.why}"
                        for n in waiting
                    ),
                )
            )
        return by_connection(lanes)

    async def status_dicts(self, rows: Sequence[EntityHealth]) -> list[dict[str, Any]]:
        return [
            {
                **h.as_dict(),
                "needs_a_person": [
                    {**n.as_dict(), **self.as_dict(h.connection, n.record)}
                    for n in await self._waiting(h)
                ],
            }
            for h in rows
        ]

    async def _waiting(self, h: EntityHealth) -> list[NeedsAPerson]:
        if not (h.conflicts or h.quarantined):
            return []
        return await needing_a_person(self.store, h.connection, h.entity, self.settings.mappings)
