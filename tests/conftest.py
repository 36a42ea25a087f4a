"""Fixtures shared by the test suites."""

from __future__ import annotations

# --- PostgreSQL and the state store ----------------------------------------------------------
#
# `postgres_url` gives a test an empty PostgreSQL database; `store` gives it an open, migrated
# StateStore, once on SQLite (a file in tmp_path) and once on PostgreSQL. The server is the
# local one (127.0.0.1:5432, trust auth, database "test"), or SYNCD_TEST_PG_URL. Each test
# session creates its own uniquely named database and drops it at the end, so runs never
# meet. An unreachable server fails the PostgreSQL tests, unless SYNCD_SKIP_POSTGRES=1.
import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

from syncd.state import StateStore, open_store

PG_DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
_T = TypeVar("_T")


def _run_aside(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine on its own loop in its own thread, apart from the tests' loops."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _dsn(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_execute(url: URL, *statements: str) -> None:
    connection = await asyncpg.connect(_dsn(url), timeout=10)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[URL]:
    """A fresh, uniquely named PostgreSQL database for this test session."""
    admin = make_url(os.environ.get("SYNCD_TEST_PG_URL", PG_DEFAULT_URL))
    name = f"syncd_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    where = admin.render_as_string(hide_password=True)
    problem: str | None = None
    try:
        _run_aside(_pg_execute(admin, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    if problem is not None:
        if os.environ.get("SYNCD_SKIP_POSTGRES") == "1":
            pytest.skip(f"PostgreSQL at {where} unreachable; skipped (SYNCD_SKIP_POSTGRES=1)")
        pytest.fail(
            f"PostgreSQL at {where} is unreachable ({problem}). Start it (.ci/run does),"
            " point SYNCD_TEST_PG_URL at one, or set SYNCD_SKIP_POSTGRES=1.",
            pytrace=False,
        )
    yield admin.set(database=name)
    _run_aside(_pg_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_url(postgres_database: URL) -> str:
    """The URL of an empty PostgreSQL database (the session's, emptied for this test)."""
    _run_aside(
        _pg_execute(
            postgres_database,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()",
            "DROP SCHEMA public CASCADE",
            "CREATE SCHEMA public",
        )
    )
    return _dsn(postgres_database)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty state database: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state/state.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def store(state_url: str) -> AsyncIterator[StateStore]:
    """An open, migrated, empty StateStore on each backend; closed after the test."""
    opened = await open_store(state_url)
    yield opened
    await opened.close()
