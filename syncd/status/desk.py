"""What a person may do from the status page, through the same functions as the CLI:
settle a conflict (:func:`~syncd.engine.resolve.resolve_conflict`), retry or drop a
quarantined record, or many of either at once (:mod:`syncd.engine.settle`), confirm tripped
guards (:func:`~syncd.engine.guards.confirm`). Each names who acted (``by``) in its status
event; a bulk action settles each record as if alone, so each has its own event.

A conflict is settled while its lane is held, so that no cycle of the lane runs
meanwhile (the daemon's lane locks; a cycle due then is skipped, as when one overruns).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from syncd.clock import utc_now
from syncd.engine import guards
from syncd.engine.cycle import Connection
from syncd.engine.guards import Trip
from syncd.engine.resolve import Resolution, find_conflict, resolve_conflict
from syncd.engine.settle import (
    SelectedConflict,
    Settlement,
    drop_quarantined,
    drop_quarantined_record,
    retry_quarantined,
    retry_quarantined_record,
    settle_conflicts,
)
from syncd.errors import SyncdError
from syncd.records import Side, Value
from syncd.state.rows import Quarantined
from syncd.state.store import StateStore

Item = TypeVar("Item")


class DeskError(SyncdError):
    """An action the page cannot do as asked (an unknown connection or record)."""


def _nothing_to_save(_: str) -> None:
    return None


@dataclass(frozen=True)
class Desk:
    """The connections the page may act on, and who it says acted."""

    connections: Mapping[str, Connection]
    operator: str = "status page"
    lane_locks: Mapping[tuple[str, str], asyncio.Lock] = field(default_factory=dict)
    # After a write to a connection's sides: in-memory systems keep it in their file.
    saved: Callable[[str], None] = _nothing_to_save

    def who(self, client: str | None, signed_in: str | None = None) -> str:
        """``by`` in status events: the operator who signed in with their own token, else
        the configured label; and the client's address."""
        return f"{signed_in or self.operator} ({client or 'unknown address'})"

    def connection(self, name: str) -> Connection:
        found = self.connections.get(name)
        if found is None:
            raise DeskError(f"no connection {name!r}")
        return found

    async def resolve(
        self, connection: str, conflict_id: int, take: Side | None, value: Value, by: str
    ) -> Resolution:
        conn = self.connection(connection)
        conflict = await find_conflict(conn, conflict_id)
        async with self._lane(connection, conflict.entity):
            done = await resolve_conflict(conn, conflict_id, take=take, value=value, by=by)
        self.saved(connection)
        return done

    async def retry(self, connection: str, entity: str, side: Side, record: str, by: str) -> bool:
        conn = self.connection(connection)
        entry = await _quarantined(conn.store, connection, entity, side, record)
        return entry is not None and await retry_quarantined_record(
            conn.store, entry, conn.mappings, by=by, now=utc_now()
        )

    async def drop(self, connection: str, entity: str, side: Side, record: str, by: str) -> bool:
        conn = self.connection(connection)
        entry = await _quarantined(conn.store, connection, entity, side, record)
        return entry is not None and await drop_quarantined_record(
            conn.store, entry, conn.mappings, by=by
        )

    async def settle_conflicts(
        self, selection: list[SelectedConflict], take: Side, by: str, *, dry_run: bool
    ) -> Settlement[SelectedConflict]:
        """Take one side's value for each selected conflict, lane by lane, each lane held
        while its conflicts are settled; a dry run only says which."""
        lanes = _by_lane(selection, lambda s: (s.conflict.connection, s.conflict.entity))
        for connection, _ in lanes:
            self.connection(connection)  # every connection known before anything is written
        total = Settlement(selection, dry_run)
        for (connection, entity), group in lanes.items():
            async with self._lane(connection, entity):
                done = await settle_conflicts(
                    self.connection(connection), group, take=take, by=by, dry_run=dry_run
                )
            _add(total, done)
            if not dry_run:
                self.saved(connection)
        return total

    async def requeue_many(
        self, selection: list[Quarantined], retry: bool, by: str, *, dry_run: bool
    ) -> Settlement[Quarantined]:
        """Retry (due now) or drop each selected quarantined record; a dry run only says
        which."""
        lanes = _by_lane(selection, lambda q: (q.connection, q.entity))
        conns = {connection: self.connection(connection) for connection, _ in lanes}
        total = Settlement(selection, dry_run)
        for (connection, _), group in lanes.items():
            store, mappings = conns[connection].store, conns[connection].mappings
            if retry:
                done = await retry_quarantined(
                    store, group, mappings, by=by, now=utc_now(), dry_run=dry_run
                )
            else:
                done = await drop_quarantined(store, group, mappings, by=by, dry_run=dry_run)
            _add(total, done)
        return total

    async def confirm(self, connection: str, entity: str, by: str) -> list[Trip]:
        store = self.connection(connection).store
        return await guards.confirm(store, connection, entity, by=by)

    def _lane(self, connection: str, entity: str) -> asyncio.Lock | contextlib.nullcontext[None]:
        lock = self.lane_locks.get((connection, entity))
        return lock if lock is not None else contextlib.nullcontext()


async def _quarantined(
    store: StateStore, connection: str, entity: str, side: Side, record: str
) -> Quarantined | None:
    for entry in await store.quarantined(connection, entity):
        if entry.side == side and entry.record_id == record:
            return entry
    return None


def _by_lane(
    selection: Iterable[Item], lane: Callable[[Item], tuple[str, str]]
) -> dict[tuple[str, str], list[Item]]:
    grouped: dict[tuple[str, str], list[Item]] = {}
    for item in selection:
        grouped.setdefault(lane(item), []).append(item)
    return grouped


def _add(total: Settlement[Item], part: Settlement[Item]) -> None:
    total.settled += part.settled
    total.skipped += part.skipped
    total.failed += part.failed
