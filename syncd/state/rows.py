"""Plain values the state store hands to and takes from the engine.

The engine never sees SQL rows; these dataclasses are the store's public language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from dataclasses import field as dataclass_field
from datetime import datetime
from enum import StrEnum
from typing import Any

from syncd.records import Side, Value


@dataclass(frozen=True, slots=True)  # slots: a full sweep holds every link
class Link:
    """Two records, one per side, that are the same company; ``base`` per field.

    ``base`` is read-only: a new base is a new link (``dataclasses.replace``). As read
    from the store it is compact (:class:`~syncd.records.Fields`), not a dict each.
    """

    connection: str
    entity: str
    crm_id: str
    afas_id: str
    base: Mapping[str, Value] = field(default_factory=dict)
    # Set when one side's record is gone: the link stays as a tombstone so the survivor
    # is neither reconciled nor created again on the other side.
    detached_at: datetime | None = None
    id: int | None = None
    name: str | None = None  # what people call the record, as its base last said

    def id_on(self, side: Side) -> str:
        return self.crm_id if side is Side.CRM else self.afas_id


class JournalAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DEACTIVATE = "deactivate"


class JournalState(StrEnum):
    PENDING = "pending"  # intent recorded, outcome not yet confirmed
    DONE = "done"
    FAILED = "failed"  # the side refused it; nothing was written
    SUPERSEDED = "superseded"  # outcome unknown, settled by a later read


@dataclass(frozen=True)
class JournalEntry:
    """A write, recorded before it is sent so a crash or lost response can be settled."""

    connection: str
    entity: str
    action: JournalAction
    target: Side
    fields: dict[str, Value]
    target_id: str | None = None  # None for a create until its id is known
    source_id: str | None = None  # the record on the other side that caused it
    correlation: str | None = None
    link_id: int | None = None
    state: JournalState = JournalState.PENDING
    # Fields the side stored differently from what was written (it normalised them its
    # own way): the stuff flip-flops are made of.
    altered: dict[str, Value] = dataclass_field(default_factory=dict)
    created_at: datetime | None = None
    id: int | None = None


class ConflictState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Conflict:
    """A field changed on both sides to different values, waiting for a person."""

    connection: str
    entity: str
    link_id: int
    field: str
    base: Value
    crm: Value
    afas: Value
    state: ConflictState = ConflictState.OPEN
    resolution: str | None = None
    created_at: datetime | None = None
    resolved_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True)
class Quarantined:
    """A record that a side refused (or that could not be read): retried with backoff."""

    connection: str
    entity: str
    side: Side
    record_id: str
    reason: str
    field: str | None = None
    reference: str | None = None
    attempts: int = 1
    first_seen: datetime | None = None
    next_attempt: datetime | None = None
    # What could be read of it: enough to see that a record on the other side is the
    # same company, so that company is not created a second time meanwhile.
    fields: dict[str, Value] = dataclass_field(default_factory=dict)


@dataclass(frozen=True)
class Waiting:
    """A record that waits for its company to be linked first (a contact whose company
    is not a linked customer or supplier): neither matched nor created meanwhile."""

    connection: str
    entity: str
    side: Side
    record_id: str
    company: Value  # the record's company, canonical: what must be linked
    reason: str
    since: datetime | None = None


@dataclass(frozen=True)
class StatusEvent:
    """One entry of the status log (names from :class:`syncd.events.EventName`)."""

    connection: str
    entity: str | None
    name: str
    record: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True)
class LanePoll:
    """Quiet polls of one lane: polls that listed nothing new and did nothing."""

    connection: str
    entity: str
    at: datetime  # the newest of them (UTC, aware)
    polls: int = 1  # how many (when written: since the last write; when read: in all)


class WorkKind(StrEnum):
    LISTING = "listing"  # a cycle's whole listing: a first sync's, a full sweep's
    MATCH_PLAN = "match plan"  # ``syncd match --plan`` listing a side


@dataclass(frozen=True)
class RunningWork:
    """One side's long listing under way in some process, as it last told the store."""

    key: str  # unique per listing, made by the process that runs it
    lane: str  # connection/entity
    side: Side
    kind: WorkKind
    started: datetime
    heard: datetime  # when its process last told how far it is
    host: str
    pid: int
    listed: int = 0
    expected: int | None = None  # about how many records it will list; None when unknown
