"""An index to count a connection's active links by (every cycle does).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_links_active", "links", ["connection", "entity", "detached_at"])


def downgrade() -> None:
    op.drop_index("ix_links_active", table_name="links")
