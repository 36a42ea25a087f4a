"""Quarantine keeps what could be read of a record, to hold back look-alike creates.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        batch.add_column(sa.Column("fields", sa.Text(), nullable=True))  # JSON {field: value}


def downgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("fields")
