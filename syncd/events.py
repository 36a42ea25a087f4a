"""The closed set of status event names: operators filter and alert on these.

A leaf module: it imports nothing from syncd, so every layer may name an event.
"""

from __future__ import annotations

from enum import StrEnum


class EventName(StrEnum):
    CYCLE_STARTED = "cycle_started"
    CYCLE_FINISHED = "cycle_finished"
    CYCLE_FAILED = "cycle_failed"
    # In the log only, never in the store: a poll that listed nothing new and did nothing
    # (engine/speed/quiet.py); the store keeps each lane's newest and their count.
    POLL_QUIET = "poll_quiet"
    RECORD_CREATED = "record_created"
    RECORD_CHANGED = "record_changed"
    RECORD_LINKED = "record_linked"
    RECORD_UNLINKED = "record_unlinked"
    RECORD_DEACTIVATED = "record_deactivated"
    CONFLICT_OPENED = "conflict_opened"
    CONFLICT_CLOSED = "conflict_closed"
    FIELD_FLIP_FLOP = "field_flip_flop"
    MATCH_AMBIGUOUS = "match_ambiguous"
    MATCH_REVIEWED = "match_reviewed"
    HELD_RECORD_GONE = "held_record_gone"  # held for review, then deleted or made inactive
    CREATE_SKIPPED = "create_skipped"
    RECORD_QUARANTINED = "record_quarantined"
    RECORD_RELEASED = "record_released"
    RETRY_REQUESTED = "retry_requested"  # an operator made a quarantined record due now
    WRITE_RECOVERED = "write_recovered"
    CREATES_IN_DOUBT = "creates_in_doubt"  # not found yet, may still be saved: not resent
    GUARD_TRIPPED = "guard_tripped"
    GUARD_CONFIRMED = "guard_confirmed"
    SOURCE_FAILED = "source_failed"
    SOURCE_RECOVERED = "source_recovered"
    LEASE_ACQUIRED = "lease_acquired"  # a replica took over a connection and entity
    LEASE_RELEASED = "lease_released"  # handed back so that replicas share the work
    LEASE_LOST = "lease_lost"  # the replica lost its lease connection; it stopped syncing
