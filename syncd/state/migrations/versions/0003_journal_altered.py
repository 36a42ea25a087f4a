"""The journal keeps the values a side stored differently from what syncd wrote.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("journal") as batch:
        batch.add_column(sa.Column("altered", sa.Text(), nullable=True))  # JSON {field: value}


def downgrade() -> None:
    with op.batch_alter_table("journal") as batch:
        batch.drop_column("altered")
