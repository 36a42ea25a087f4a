"""Opening the state database: URLs, engines, SQLite settings, migrations, error wrapping.

Supported URLs (the user writes the plain scheme; the async driver is chosen here):

* ``sqlite:///relative/state.db``, ``sqlite:////absolute/state.db`` -> ``sqlite+aiosqlite``.
  A missing parent directory is created with mode 0700 and a new file with mode 0600.
* ``sqlite:///:memory:`` (or ``sqlite://``): a private throwaway database, kept in a
  temporary file that is removed on close, so it behaves exactly like a file store
  (a real connection pool, WAL, independent transactions).
* ``postgresql://user:password@host:port/db`` (also ``postgres://``) -> ``postgresql+asyncpg``.

On SQLite every connection runs in WAL mode with foreign keys on, and syncd emits BEGIN
itself (``BEGIN IMMEDIATE`` for writes) so that transactions, savepoints and DDL behave
as they do on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from syncd.errors import StateError
from syncd.state.write_turns import WriteTurns

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT = 30.0  # seconds a writer waits for another one to commit
POOL = {"pool_size": 15, "max_overflow": 0}
"""Database connections kept open, and no more opened: the daemon's lanes share one store,
and a pool of 5 that overflowed opened and closed a connection (on SQLite a thread and
its caches) every cycle, which left the process's memory growing (docs/performance.md)."""
MIGRATION_LOCK = 0x73796E6364  # PostgreSQL advisory lock key: replicas migrate one at a time
_BEGIN_MODE = "syncd_sqlite_begin"
_MEMORY_NAMES = ("", ":memory:")


@dataclass
class Database:
    """An open state database: the engine for reads, one for writes, and what to clean up."""

    engine: AsyncEngine
    writer: AsyncEngine
    safe_url: str
    password: str | None = field(default=None, repr=False)
    temp_dir: str | None = None
    turns: WriteTurns | None = None  # SQLite: the process's writes one at a time, in order

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)

    @contextmanager
    def failing_as(self, what: str) -> Iterator[None]:
        """Turn database and driver failures into :class:`StateError` saying ``what`` failed."""
        try:
            yield
        except (SQLAlchemyError, OSError) as exc:
            raise StateError(
                self.hide_password(f"{what} ({self.safe_url}): {describe(exc)}")
            ) from None

    def hide_password(self, message: str) -> str:
        return message.replace(self.password, "***") if self.password else message


def describe(exc: BaseException) -> str:
    """The driver's own words for a failure, without the SQL statement and its parameters."""
    if isinstance(exc, StatementError) and exc.orig is not None:  # DBAPIError is one too
        exc = exc.orig
    message = " ".join(str(exc).split())
    return message or "the database gave no details"  # its class name tells an operator nothing


async def connect(url: str) -> Database:
    """Parse ``url``, prepare the SQLite file if any, and build the engines (no I/O yet)."""
    parsed = parse_url(url)
    safe = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "postgresql":
        engine = create_async_engine(parsed, pool_pre_ping=True, **POOL)
        return Database(engine, engine, safe, parsed.password)
    temp_dir = None
    if (parsed.database or "") in _MEMORY_NAMES:
        temp_dir = tempfile.mkdtemp(prefix="syncd-state-")
        parsed = parsed.set(database=os.path.join(temp_dir, "state.db"))
    try:
        prepare_sqlite_file(Path(parsed.database or ""))
    except OSError as exc:
        raise StateError(f"cannot create the state database {safe}: {exc}") from None
    engine = create_async_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT}, **POOL)
    _configure_sqlite(engine)
    writer = engine.execution_options(**{_BEGIN_MODE: "IMMEDIATE"})
    return Database(engine, writer, safe, None, temp_dir, WriteTurns(SQLITE_BUSY_TIMEOUT))


def parse_url(url: str) -> URL:
    """Map a user's URL to its async driver; refuse anything else with a clear message."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        message = "the state URL is not a database URL (sqlite:///... or postgresql://...)"
        raise StateError(message) from None
    drivers = {
        "sqlite": "sqlite+aiosqlite",
        "sqlite+aiosqlite": "sqlite+aiosqlite",
        "postgresql": "postgresql+asyncpg",
        "postgres": "postgresql+asyncpg",
        "postgresql+asyncpg": "postgresql+asyncpg",
    }
    driver = drivers.get(parsed.drivername)
    if driver is None:
        safe = parsed.render_as_string(hide_password=True)
        raise StateError(f"unsupported state URL {safe}: use sqlite:///path or postgresql://...")
    return parsed.set(drivername=driver)


def prepare_sqlite_file(path: Path) -> None:
    """Create missing parent directories (0700) and the file (0600) unless they exist."""
    missing = [p for p in reversed(path.absolute().parents) if not p.exists()]
    for directory in missing:
        directory.mkdir(mode=0o700)
        directory.chmod(0o700)  # whatever the umask
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        path.chmod(0o600)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # syncd emits BEGIN itself, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


_UPGRADING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)
"""One upgrade at a time per event loop: alembic keeps the running migration in module
globals, so two stores opened at once in one process would trample each other's."""


async def upgrade(db: Database) -> None:
    """Bring the schema to the newest migration, in one transaction."""
    lock = _UPGRADING.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock:
        await _upgrade(db)


async def _upgrade(db: Database) -> None:
    with db.failing_as("cannot migrate the state database"):
        async with db.writer.begin() as conn:
            if db.dialect == "postgresql":
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            try:
                await conn.run_sync(_upgrade_to_head)
            except CommandError as exc:
                raise StateError(
                    f"the state database {db.safe_url} has a schema this syncd version does not"
                    f" know (written by a newer syncd?): {exc}"
                ) from None


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic configuration for syncd's migrations; no alembic.ini involved."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade_to_head(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")
