"""The AFAS organisation of each company record, as last seen (a contact's company).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("connection", sa.String(), primary_key=True),
        sa.Column("entity", sa.String(), primary_key=True),
        sa.Column("relation_id", sa.String(), primary_key=True),
        sa.Column("organisation", sa.String(), nullable=True),
    )
    op.create_index(
        "ix_organisations_connection_organisation", "organisations", ["connection", "organisation"]
    )


def downgrade() -> None:
    op.drop_index("ix_organisations_connection_organisation", table_name="organisations")
    op.drop_table("organisations")
