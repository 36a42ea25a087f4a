"""Opening the store: URLs, files, migrations, reopening, and errors that keep secrets."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from syncd.errors import StateError
from syncd.records import Cursor, Side
from syncd.state import open_store
from syncd.state.database import Database, connect
from syncd.state.rows import Conflict, JournalAction, JournalEntry, Link, Quarantined, StatusEvent
from syncd.state.tables import metadata

C, E = "acme", "customer"
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def _differences(connection: Connection, target: sa.MetaData) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, target))


async def _compare(db: Database, target: sa.MetaData) -> list[Any]:
    """What alembic's autogenerate would add to go from the database to ``target``."""
    async with db.engine.connect() as connection:
        return await connection.run_sync(_differences, target)


def _entries(directory: Path) -> list[Path]:
    return list(directory.iterdir())


async def test_migration_head_matches_the_tables(state_url: str) -> None:
    store = await open_store(state_url)
    await store.close()
    db = await connect(state_url)
    try:
        assert await _compare(db, metadata) == []
        # and the comparison does see a difference when there is one
        changed = sa.MetaData()
        for table in metadata.sorted_tables:
            table.to_metadata(changed)
        changed.tables["links"].append_column(sa.Column("extra", sa.String()))
        assert [d[0] for d in await _compare(db, changed)] == ["add_column"]
    finally:
        await db.dispose()


async def test_reopening_keeps_all_state(state_url: str) -> None:
    async with await open_store(state_url) as store:
        async with store.transaction() as tx:
            saved = await tx.save_link(Link(C, E, "101", "D1", base={"name": "Acme", "vat": None}))
            assert saved.id is not None
            await tx.set_cursor(C, E, Side.AFAS, Cursor(T0, "D1"))
            await tx.open_conflict(Conflict(C, E, saved.id, "name", "Acme", "A", "B"))
            await tx.quarantine(Quarantined(C, E, Side.CRM, "102", "bad"))
            await tx.add_event(StatusEvent(C, E, "record_linked", record="101"))
        entry = await store.record_intent(
            JournalEntry(C, E, JournalAction.CREATE, Side.AFAS, {"name": "X"}, source_id="103")
        )
        before = (
            await store.get_links(C, E),
            await store.conflicts(),
            await store.quarantined(),
            await store.events(),
        )

    for _ in range(2):  # the migrations find nothing to do, twice
        async with await open_store(state_url) as store:
            after = (
                await store.get_links(C, E),
                await store.conflicts(),
                await store.quarantined(),
                await store.events(),
            )
            assert after == before
            assert await store.get_cursor(C, E, Side.AFAS) == Cursor(T0, "D1")
            assert await store.pending_journal(C, E) == [entry]


async def test_replicas_opening_a_new_database_at_once_migrate_it_once(state_url: str) -> None:
    stores = await asyncio.gather(*(open_store(state_url) for _ in range(4)))
    async with stores[0].transaction() as tx:
        await tx.save_link(Link(C, E, "101", "D1"))
    counts = [await store.link_count(C, E) for store in stores]
    for store in stores:
        await store.close()
    assert counts == [1, 1, 1, 1]


async def test_a_schema_from_a_newer_syncd_is_refused(state_url: str) -> None:
    await (await open_store(state_url)).close()
    db = await connect(state_url)
    try:
        async with db.writer.begin() as connection:
            await connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        await db.dispose()

    with pytest.raises(StateError, match="newer syncd"):
        await open_store(state_url)


async def test_a_new_sqlite_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "state.db"

    await (await open_store(f"sqlite:///{path}")).close()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_relative_sqlite_paths_are_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    await (await open_store("sqlite:///data/state.db")).close()
    assert (tmp_path / "data" / "state.db").is_file()


async def test_memory_stores_are_private_and_leave_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    one = await open_store("sqlite:///:memory:")
    two = await open_store("sqlite://")
    async with one.transaction() as tx:
        await tx.save_link(Link(C, E, "101", "D1"))

    assert await one.link_count(C, E) == 1
    assert await two.link_count(C, E) == 0
    await one.close()
    await two.close()
    assert _entries(tmp_path) == []


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/syncd", "postgresql+psycopg2://u@h/db", "not a url"]
)
async def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(StateError, match="URL"):
        await open_store(url)


async def test_errors_and_repr_never_show_the_password() -> None:
    url = "postgresql://syncd:s3cret-pw@127.0.0.1:1/state"
    with pytest.raises(StateError) as raised:
        await open_store(url)
    message = str(raised.value)
    assert "s3cret-pw" not in message
    assert "127.0.0.1:1" in message
    assert raised.value.__cause__ is None

    db = await connect(url)
    try:
        assert "s3cret-pw" not in db.safe_url
    finally:
        await db.dispose()


async def test_unwritable_sqlite_location_is_a_state_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StateError, match="cannot create"):
        await open_store(f"sqlite:///{blocker}/state.db")


def _upgrade_to(connection: Connection, revision: str) -> None:
    from alembic import command

    from syncd.state.database import alembic_config

    command.upgrade(alembic_config(connection), revision)


async def test_upgrading_from_the_first_schema_keeps_the_state(state_url: str) -> None:
    """A store written by the first release opens in this one with its data intact."""
    db = await connect(state_url)
    try:
        async with db.writer.begin() as connection:
            await connection.run_sync(_upgrade_to, "0001")
            await connection.execute(
                sa.text(
                    "INSERT INTO quarantine (connection, entity, side, record_id, reason,"
                    " attempts, first_seen) VALUES ('acme', 'customer', 'crm', '7', 'bad kvk',"
                    " 2, :at)"
                ),
                {"at": T0},
            )
    finally:
        await db.dispose()

    store = await open_store(state_url)
    try:
        [entry] = await store.quarantined(C, E)
        assert (entry.record_id, entry.reason, entry.attempts) == ("7", "bad kvk", 2)
        assert entry.fields == {}
        async with store.transaction() as tx:
            await tx.quarantine(
                Quarantined(C, E, Side.CRM, "7", "still bad", fields={"name": "Acme"})
            )
        [entry] = await store.quarantined(C, E)
        assert entry.fields == {"name": "Acme"}
    finally:
        await store.close()
