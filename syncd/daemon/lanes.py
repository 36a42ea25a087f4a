"""A daemon's lanes (a connection and entity each), their backoff and scheduler ids."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from syncd.config import ConnectionSettings
from syncd.connections import SideChecks, Systems
from syncd.daemon.turns import EntityTurns
from syncd.engine.cycle import Connection
from syncd.engine.hints import LaneHints
from syncd.errors import AuthError, PermanentError, TransientError


@dataclass
class Backoff:
    """When a failing connection+entity may be tried again."""

    failures: int = 0
    not_before: datetime | None = None

    def fail(self, now: datetime, first: timedelta, limit: timedelta) -> None:
        self.failures += 1
        delay = min(first * 2 ** (self.failures - 1), limit)
        self.not_before = now + delay

    def ready(self, now: datetime) -> bool:
        return self.not_before is None or now >= self.not_before


@dataclass
class Lane:
    """One connection and entity: its lock, backoff and in-memory systems."""

    conn: Connection
    entity: str
    systems: Systems | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    backoff: Backoff = field(default_factory=Backoff)
    cycle: asyncio.Task[Any] | None = None  # the one in flight, cancelled if the lease goes
    hinted_in_flight: bool = False  # the cycle in flight is a hinted one: a poll waits for it
    checks: SideChecks | None = None  # the connection's, shared by its lanes
    last_change: datetime | None = None  # when a cycle last changed something: busy
    retired: bool = False  # its connection was removed or restarted by a reload
    hints: LaneHints = field(default_factory=LaneHints)  # records due for a look
    turns: EntityTurns = field(default_factory=EntityTurns)  # the connection's, shared

    @property
    def follows_companies(self) -> bool:
        """A lane of contact persons: its cycles wait for its companies' (daemon.turns)."""
        return self.conn.mappings[self.entity].reference is not None

    @property
    def key(self) -> str:
        return lane_key(self.conn.name, self.entity)


@dataclass
class OpenConnection:
    """A connection the daemon runs: its settings, lanes, and what closes it."""

    settings: ConnectionSettings
    lanes: list[Lane]
    stack: AsyncExitStack


def lane_key(connection: str, entity: str) -> str:
    return f"{connection}/{entity}"


def incremental_job(lane: Lane) -> str:
    """The scheduler's id of ``lane``'s incremental cycles."""
    return f"{lane.key}/incremental"


def full_sweep_job(lane: Lane) -> str:
    return f"{lane.key}/full"


def failure_reason(error: BaseException) -> str:
    """What kind of failure stops a lane, for operators to filter and alert on."""
    if isinstance(error, AuthError):
        return "authentication"  # the token, or its rights: the operator must act
    if isinstance(error, TransientError):
        return "unavailable"
    if isinstance(error, PermanentError):
        return "refused"
    return "error"
