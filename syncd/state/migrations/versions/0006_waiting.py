"""Records waiting for their company to be linked, and each waiting entity's link mark.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "waiting",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("connection", sa.String(), nullable=False),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("company", sa.String(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),  # UTC
        sa.UniqueConstraint("connection", "entity", "side", "record_id"),
    )
    op.create_table(
        "link_marks",
        sa.Column("connection", sa.String(), primary_key=True),
        sa.Column("entity", sa.String(), primary_key=True),
        sa.Column("last_link_id", _BIG_ID, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("link_marks")
    op.drop_table("waiting")
