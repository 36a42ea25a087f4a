"""Alembic environment: runs on the connection syncd passes in, in its transaction."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy.types import TypeDecorator

from syncd.state.tables import metadata


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Draft migrations with plain SQLAlchemy types: history must not import syncd."""
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("syncd's migrations run through syncd.state, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite can alter a table only by copying it
    render_item=render_item,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
