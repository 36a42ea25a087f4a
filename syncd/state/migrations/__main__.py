"""``python -m syncd.state.migrations "message"``: draft a migration from the tables."""

from __future__ import annotations

import asyncio
import sys
import tempfile

from alembic import command
from sqlalchemy.engine import Connection

from syncd.state import database


def next_revision_id() -> str:
    numbers = [int(p.name[:4]) for p in (database.MIGRATIONS / "versions").glob("[0-9]*.py")]
    return f"{max(numbers, default=0) + 1:04d}"


def _draft(connection: Connection, message: str) -> None:
    config = database.alembic_config(connection)
    command.revision(config, message=message, autogenerate=True, rev_id=next_revision_id())


async def draft(message: str) -> None:
    """Migrate a scratch SQLite database to head, then autogenerate what is still missing."""
    with tempfile.TemporaryDirectory() as scratch:
        db = await database.connect(f"sqlite:///{scratch}/scratch.db")
        try:
            await database.upgrade(db)
            async with db.writer.begin() as conn:
                await conn.run_sync(_draft, message)
        finally:
            await db.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit('usage: python -m syncd.state.migrations "what changed"')
    asyncio.run(draft(sys.argv[1]))
