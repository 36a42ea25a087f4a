"""Leases: which replica syncs which lane (one connection and entity) right now.

Several ``syncd run`` processes (replicas) may share one PostgreSQL state store. They
divide the lanes through PostgreSQL itself, with no protocol of their own:

* **A lease is a session-level advisory lock**, ``pg_try_advisory_lock(LANES, lane)``,
  held on a connection that each replica opens for this alone (not the store's pool).
  The server keeps it exactly as long as that session lives: a replica that exits,
  crashes or is killed closes its TCP connection, and the server drops all its leases at
  once. No clocks, no expiry times, no table to clean up.
* **A host that vanishes** without closing its connection (power cut, network split) is
  found by the server's TCP keepalives and ``tcp_user_timeout``, set for the lease
  session to ``lease_timeout_seconds``; the server then ends the session and its locks.
* **A replica stops before the server lets go.** Each check first asks the lease session
  for a ``SELECT 1``, waiting at most ``lease_check_seconds``. A replica that gets no
  answer drops every lease it holds and the daemon cancels the cycles in flight (a cycle
  cut short is like a crash, which the write journal recovers); it reconnects on a later
  check. It notices within two checks, and the config requires ``lease_timeout_seconds``
  of at least three, so it has stopped before another replica can get its lanes.
  Besides, every write of a cycle is journalled in the store before it is sent: a replica
  cut off from PostgreSQL cannot write to either side anyway.
* **A frozen process keeps its leases** (SIGSTOP, a stuck event loop): its kernel still
  answers keepalives. Taking its lanes would let it finish a cycle beside the new holder
  when it wakes, which is the one thing replicas must never do; a stalled lane shows in
  ``/readyz`` instead.
* **Fair shares.** All replicas read the same config, so each knows every lane. Each
  replica also holds a presence lock (``REPLICAS``, its id), so the number of live
  replicas is a count in ``pg_locks``. Every ``lease_check_seconds`` a replica aims for
  ``ceil(lanes / replicas)`` leases: below that it tries free lanes (a try-lock never
  waits, so replicas never block each other), above it (a replica joined) it hands back
  lanes that are not in a cycle. Shares add up to at least the number of lanes, so every
  lane finds a holder. Leases are kept across cycles rather than taken per cycle: a lane
  keeps its cadence of one cycle per interval however many replicas run, and stays where
  it is while nothing changes.
* **Bounds.** A replica that dies is replaced within ``lease_check_seconds`` (its leases
  go with its connection; the others claim them at their next check, and sync them at
  their next interval). A vanished host: within ``lease_timeout_seconds`` more.

On SQLite (one machine) there is nothing to divide: :class:`SoleLeases` holds every lane,
and ``syncd run`` takes an exclusive lock on a file beside the database, so that a second
daemon on the same store refuses to start and says why. Other commands (``once``,
``plan``, ...) open the store as before; SQLite itself serialises their writes.

Advisory locks are per database: replicas of two deployments in one database would share
key spaces. Each deployment needs its own database, and the lease session needs a direct
(or session-pooled) connection: a transaction-pooling proxy would lose session locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import math
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, Protocol

import asyncpg

from syncd.errors import StateError
from syncd.state.database import parse_url, prepare_sqlite_file

REPLICAS = 0x73796E72  # advisory lock class of presence locks ("synr")
LANES = 0x73796E6C  # advisory lock class of lane leases ("synl")
APPLICATION = "syncd replica "  # + replica id: the lease session's application_name
_FAILURES = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


def lock_id(name: str) -> int:
    """A stable, non-negative 31-bit advisory lock id for a lane or replica name."""
    digest = hashlib.blake2b(name.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF


def fair_share(lanes: int, replicas: int) -> int:
    """How many lanes one of ``replicas`` live replicas should hold."""
    return math.ceil(lanes / max(replicas, 1))


def default_replica() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class LeaseChanges:
    """What one check changed, by lane key."""

    acquired: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)


class Leases(Protocol):
    replica: str
    shared: bool  # other replicas may exist: lanes come and go

    def holds(self, lane: str) -> bool: ...

    async def check(self, locks: Mapping[str, asyncio.Lock]) -> LeaseChanges: ...

    async def holders(self) -> dict[str, str]: ...

    async def set_lanes(self, lanes: Sequence[str]) -> None:
        """The lanes there are now (a reloaded config added or removed connections);
        a lease on a lane no longer there is handed back."""

    async def close(self) -> None: ...


async def open_leases(
    url: str,
    lanes: Sequence[str],
    *,
    replica: str | None = None,
    lease_check: timedelta = timedelta(seconds=5),
    lease_timeout: timedelta = timedelta(seconds=30),
) -> Leases:
    """The leases of this replica for a state store at ``url``; nothing is claimed yet."""
    name = replica or default_replica()
    parsed = parse_url(url)
    if parsed.get_backend_name() == "postgresql":
        leases = PostgresLeases(url, lanes, name, lease_check, lease_timeout)
        await leases.connect(first=True)
        return leases
    return SoleLeases.lock(parsed.database or "", lanes, name)


# --- PostgreSQL: advisory locks ------------------------------------------------------------


class PostgresLeases:
    """Lane leases as session advisory locks on a connection of their own."""

    shared = True

    def __init__(
        self, url: str, lanes: Sequence[str], replica: str, check: timedelta, timeout: timedelta
    ) -> None:
        parsed = parse_url(url)
        self.replica = replica
        self._lanes = {lock_id(lane): lane for lane in lanes}
        self._dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self._safe = parsed.render_as_string(hide_password=True)
        self._password = parsed.password
        self._check = check.total_seconds()
        self._timeout = timeout.total_seconds()
        self._conn: asyncpg.Connection | None = None
        self._held: set[str] = set()

    def holds(self, lane: str) -> bool:
        return lane in self._held

    async def connect(self, *, first: bool = False) -> bool:
        """Open the lease session and take the presence lock; False if not (yet) possible.

        On the first connect a failure is a :class:`StateError`: a replica that cannot
        reach its store, or whose id is taken, must not start.
        """
        try:
            conn = await asyncpg.connect(
                self._dsn, timeout=self._check, server_settings=self._session_settings()
            )
        except _FAILURES as exc:
            if first:
                raise StateError(
                    self._hide_password(f"cannot open the lease session ({exc})")
                ) from None
            return False
        try:
            present = await conn.fetchval(
                "SELECT pg_try_advisory_lock($1, $2)", REPLICAS, lock_id(self.replica)
            )
        except _FAILURES:
            await _close_or_terminate(conn)
            if first:
                raise
            return False
        if not present:
            await _close_or_terminate(conn)
            if first:
                raise StateError(
                    f"another replica called {self.replica!r} is running on {self._safe};"
                    " give each replica its own SYNCD_REPLICA"
                )
            return False  # our old session may still be ending
        self._conn = conn
        return True

    def _session_settings(self) -> dict[str, str]:
        # The server probes a silent client after a third of the timeout, then every
        # sixth, and gives up after four probes: about the whole timeout in all.
        third = max(1, round(self._timeout / 3))
        sixth = max(1, round(self._timeout / 6))
        return {
            "application_name": (APPLICATION + self.replica)[:63],
            "tcp_keepalives_idle": str(third),
            "tcp_keepalives_interval": str(sixth),
            "tcp_keepalives_count": "4",
            "tcp_user_timeout": str(int(self._timeout * 1000)),
        }

    async def check(self, locks: Mapping[str, asyncio.Lock]) -> LeaseChanges:
        """Confirm the session, then move towards this replica's fair share of ``locks``.

        ``locks`` are the lanes' own locks: a lane is handed back only while its lock is
        free (not in a cycle), and its lock is held while it is.
        """
        if self._conn is None and not await self.connect():
            return LeaseChanges()
        try:
            await self._fetch_value("SELECT 1")
            replicas = await self._fetch_value(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid = $1 AND objsubid = 2 AND database ="
                " (SELECT oid FROM pg_database WHERE datname = current_database())",
                REPLICAS,
            )
            share = fair_share(len(locks), int(replicas))
            released = await self._release_beyond(share, locks)
            acquired = await self._claim_up_to(share, locks)
        except _FAILURES:
            return await self._lose_all()
        return LeaseChanges(acquired=acquired, released=released)

    async def set_lanes(self, lanes: Sequence[str]) -> None:
        self._lanes = {lock_id(lane): lane for lane in lanes}
        for lane in sorted(self._held - set(lanes)):
            with contextlib.suppress(*_FAILURES):  # a broken session holds nothing anyway
                await self._unlock(lane)

    async def _release_beyond(self, share: int, locks: Mapping[str, asyncio.Lock]) -> list[str]:
        """Hand back lanes beyond ``share``: those not in a cycle first; then, if need
        be, one in a cycle once that cycle ends (a replica whose lanes are always busy
        at its checks would otherwise never hand one back)."""
        held = sorted(self._held, reverse=True)
        free = [lane for lane in held if lane not in locks or not locks[lane].locked()]
        released: list[str] = []
        for lane in free + [lane for lane in held if lane not in free]:
            if len(self._held) <= share:
                break
            lock = locks.get(lane)
            if lock is None:
                await self._unlock(lane)
            else:
                async with lock:  # no cycle starts while it goes
                    await self._unlock(lane)
            released.append(lane)
        return released

    async def _unlock(self, lane: str) -> None:
        self._held.discard(lane)  # first: if the unlock fails, the session goes anyway
        await self._fetch_value("SELECT pg_advisory_unlock($1, $2)", LANES, lock_id(lane))

    async def _claim_up_to(self, share: int, locks: Mapping[str, asyncio.Lock]) -> list[str]:
        acquired: list[str] = []
        for lane in sorted(locks):
            if len(self._held) >= share:
                break
            if lane in self._held:
                continue
            if await self._fetch_value("SELECT pg_try_advisory_lock($1, $2)", LANES, lock_id(lane)):
                self._held.add(lane)
                acquired.append(lane)
        return acquired

    async def _lose_all(self) -> LeaseChanges:
        lost = sorted(self._held)
        self._held.clear()
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()  # do not wait for a server that does not answer
        return LeaseChanges(lost=lost)

    async def _fetch_value(self, query: str, *args: object) -> Any:
        if self._conn is None:
            raise asyncpg.InterfaceError("the lease session is closed")
        return await self._conn.fetchval(query, *args, timeout=self._check)

    async def holders(self) -> dict[str, str]:
        """Which replica holds each of this replica's lanes that has a holder."""
        if self._conn is None:
            return {}
        try:
            rows = await self._conn.fetch(
                "SELECT l.objid::bigint AS lane, a.application_name AS name"
                " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1"
                " AND l.objsubid = 2 AND l.database ="
                " (SELECT oid FROM pg_database WHERE datname = current_database())",
                LANES,
                timeout=self._check,
            )
        except _FAILURES:
            return {}
        return {
            self._lanes[row["lane"]]: str(row["name"]).removeprefix(APPLICATION)
            for row in rows
            if row["lane"] in self._lanes
        }

    async def close(self) -> None:
        self._held.clear()
        conn, self._conn = self._conn, None
        if conn is not None:
            await _close_or_terminate(conn)

    def _hide_password(self, message: str) -> str:
        return message.replace(self._password, "***") if self._password else message


async def _close_or_terminate(conn: asyncpg.Connection) -> None:
    try:
        await asyncio.wait_for(conn.close(), 5)
    except (*_FAILURES, asyncio.CancelledError):
        conn.terminate()


# --- SQLite: one process -------------------------------------------------------------------


class SoleLeases:
    """Every lane, held by the one daemon a SQLite store allows."""

    shared = False

    def __init__(self, lanes: Sequence[str], replica: str, lock_file: IO[str] | None) -> None:
        self.replica = replica
        self._lanes = set(lanes)
        self._lock_file = lock_file

    @classmethod
    def lock(cls, database: str, lanes: Sequence[str], replica: str) -> SoleLeases:
        """Lock the store at ``database`` for this process, or say who has it."""
        if database in ("", ":memory:"):
            return cls(lanes, replica, None)  # a private store: nobody to share it with
        prepare_sqlite_file(Path(database))  # its directory, made private as the store does
        path = f"{database}.run.lock"
        handle = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise StateError(
                f"another syncd run ({owner}) already uses the SQLite state store {database};"
                " one daemon per SQLite store. To run replicas, share a PostgreSQL store"
                " (docs/operations.md: Running replicas)"
            ) from None
        handle.truncate(0)
        handle.write(f"replica {replica}, pid {os.getpid()}\n")
        handle.flush()
        return cls(lanes, replica, handle)

    def holds(self, lane: str) -> bool:
        return lane in self._lanes

    async def check(self, locks: Mapping[str, asyncio.Lock]) -> LeaseChanges:
        return LeaseChanges()

    async def holders(self) -> dict[str, str]:
        return dict.fromkeys(sorted(self._lanes), self.replica)

    async def set_lanes(self, lanes: Sequence[str]) -> None:
        self._lanes = set(lanes)

    async def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing the file releases the lock
            self._lock_file = None
