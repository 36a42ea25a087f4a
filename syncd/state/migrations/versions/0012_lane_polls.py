"""Lane polls: per lane, its quiet polls (nothing new, no event written), newest and count.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lane_polls",
        sa.Column("connection", sa.String(), primary_key=True),
        sa.Column("entity", sa.String(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("polls", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lane_polls")
