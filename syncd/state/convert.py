"""Table rows to the dataclasses of :mod:`syncd.state.rows` and back (no I/O)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from syncd.clock import utc_now
from syncd.records import Cursor, Fields, Side
from syncd.state.rows import (
    Conflict,
    ConflictState,
    JournalAction,
    JournalEntry,
    JournalState,
    Link,
    Quarantined,
    StatusEvent,
    Waiting,
)
from syncd.state.tables import (
    ConflictRow,
    CursorRow,
    EventRow,
    JournalRow,
    LinkRow,
    QuarantineRow,
    WaitingRow,
)


def link(row: LinkRow) -> Link:
    return scoped_link(row.connection, row.entity, row)


def scoped_link(connection: str, entity: str, row: Row[Any] | LinkRow) -> Link:
    """A link of ``connection`` and ``entity`` from a row of ``links.LINK_COLUMNS``.

    A plain row, not an ORM object each (a session keeps those until it ends), and the
    scope's strings shared by every link instead of a copy each: a sweep reads them all.
    """
    return Link(
        connection=connection,
        entity=entity,
        crm_id=row.crm_id,
        afas_id=row.afas_id,
        base=Fields(row.base),
        detached_at=row.detached_at,
        id=row.id,
        name=row.name,
    )


def link_values(link: Link) -> dict[str, Any]:
    """The columns a save writes (connection and entity never change after the insert)."""
    return {
        "crm_id": link.crm_id,
        "afas_id": link.afas_id,
        "base": dict(link.base),
        "detached_at": link.detached_at,
        "name": link.name,
    }


def cursor(row: CursorRow) -> Cursor:
    return Cursor(row.modified, row.last_id, seen_at=row.seen_at, pulled_at=row.pulled_at)


def journal(row: JournalRow) -> JournalEntry:
    return JournalEntry(
        connection=row.connection,
        entity=row.entity,
        action=JournalAction(row.action),
        target=Side(row.target),
        fields=dict(row.fields),
        target_id=row.target_id,
        source_id=row.source_id,
        correlation=row.correlation,
        link_id=row.link_id,
        state=JournalState(row.state),
        altered=dict(row.altered or {}),
        created_at=row.created_at,
        id=row.id,
    )


def journal_values(entry: JournalEntry) -> dict[str, Any]:
    """The columns of a new journal row (pending)."""
    return {
        "connection": entry.connection,
        "entity": entry.entity,
        "action": str(entry.action),
        "target": str(entry.target),
        "fields": dict(entry.fields),
        "target_id": entry.target_id,
        "source_id": entry.source_id,
        "correlation": entry.correlation,
        "link_id": entry.link_id,
        "state": str(entry.state),
        "altered": None,
        "created_at": entry.created_at or utc_now(),
        "finished_at": None,
    }


def conflict(row: ConflictRow) -> Conflict:
    return Conflict(
        connection=row.connection,
        entity=row.entity,
        link_id=row.link_id,
        field=row.field,
        base=row.base,
        crm=row.crm,
        afas=row.afas,
        state=ConflictState(row.state),
        resolution=row.resolution,
        created_at=row.created_at,
        resolved_at=row.resolved_at,
        id=row.id,
    )


def conflict_values(conflict: Conflict) -> dict[str, Any]:
    """The columns of a new, open conflict."""
    return {
        "connection": conflict.connection,
        "entity": conflict.entity,
        "link_id": conflict.link_id,
        "field": conflict.field,
        "base": conflict.base,
        "crm": conflict.crm,
        "afas": conflict.afas,
        "state": str(ConflictState.OPEN),
        "resolution": None,
        "created_at": conflict.created_at or utc_now(),
        "resolved_at": None,
    }


def quarantined(row: QuarantineRow) -> Quarantined:
    return Quarantined(
        connection=row.connection,
        entity=row.entity,
        side=Side(row.side),
        record_id=row.record_id,
        reason=row.reason,
        field=row.field,
        reference=row.reference,
        attempts=row.attempts,
        first_seen=row.first_seen,
        next_attempt=row.next_attempt,
        fields=dict(row.fields or {}),
    )


def quarantine_values(entry: Quarantined) -> dict[str, Any]:
    return {
        "connection": entry.connection,
        "entity": entry.entity,
        "side": str(entry.side),
        "record_id": entry.record_id,
        "reason": entry.reason,
        "field": entry.field,
        "reference": entry.reference,
        "attempts": entry.attempts,
        "first_seen": entry.first_seen or utc_now(),
        "next_attempt": entry.next_attempt,
        "fields": dict(entry.fields),
    }


def event(row: EventRow) -> StatusEvent:
    return StatusEvent(
        connection=row.connection,
        entity=row.entity,
        name=row.name,
        record=row.record,
        data=dict(row.data),
        at=row.at,
        id=row.id,
    )


def event_values(event: StatusEvent) -> dict[str, Any]:
    """The columns of a status event."""
    return {
        "connection": event.connection,
        "entity": event.entity,
        "name": str(event.name),
        "record": event.record,
        "data": dict(event.data),
        "at": event.at or utc_now(),
    }


def waiting(row: WaitingRow) -> Waiting:
    return Waiting(
        connection=row.connection,
        entity=row.entity,
        side=Side(row.side),
        record_id=row.record_id,
        company=row.company,
        reason=row.reason,
        since=row.since,
    )
