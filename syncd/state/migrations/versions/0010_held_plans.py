"""Held plans: per lane, what the plan a tripped guard held back would write.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "held_plans",
        sa.Column("connection", sa.String(), primary_key=True),
        sa.Column("entity", sa.String(), primary_key=True),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("held_plans")
