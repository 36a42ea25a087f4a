"""The first state schema: links, cursors, journal, conflicts, quarantine, status events.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)  # UTC; syncd normalises on the way in and out
OPEN = sa.text("state = 'open'")


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("id", BigId, nullable=False),
        sa.Column("connection", sa.String(), nullable=False),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("crm_id", sa.String(), nullable=False),
        sa.Column("afas_id", sa.String(), nullable=False),
        sa.Column("base", sa.Text(), nullable=False),  # JSON {field: value | null}
        sa.Column("detached_at", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_links"),
        sa.UniqueConstraint(
            "connection", "entity", "crm_id", name="uq_links_connection_entity_crm_id"
        ),
        sa.UniqueConstraint(
            "connection", "entity", "afas_id", name="uq_links_connection_entity_afas_id"
        ),
    )
    op.create_table(
        "cursors",
        sa.Column("connection", sa.String(), nullable=False),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("modified", Timestamp, nullable=False),
        sa.Column("last_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("connection", "entity", "side", name="pk_cursors"),
    )
    op.create_table(
        "journal",
        sa.Column("id", BigId, nullable=False),
        sa.Column("connection", sa.String(), nullable=False),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),  # JSON {field: value | null}
        sa.Column("target_id", sa.String(), nullable=True),
        sa.Column("source_id", sa.String(), nullable=True),
        sa.Column("correlation", sa.String(), nullable=True),
        sa.Column("link_id", BigId, nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("finished_at", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_journal"),
        sa.ForeignKeyConstraint(
            ["link_id"], ["links.id"], name="fk_journal_link_id", ondelete="SET NULL"
        ),
    )
    op.create_index(
        "ix_journal_connection_entity_state", "journal", ["connection", "entity", "state"]
    )
    op.create_index("ix_journal_link_id", "journal", ["link_id"])
    op.create_table(
        "conflicts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("connection", sa.String(), nullable=False),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("link_id", BigId, nullable=False),
        sa.Column("field", sa.String(), nullable=False),
        sa.Column("base", sa.Text(), nullable=True),
        sa.Column("crm", sa.Text(), nullable=True),
        sa.Column("afas", sa.Text(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("resolved_at", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_conflicts"),
        sa.ForeignKeyConstraint(
            ["link_id"], ["links.id"], name="fk_conflicts_link_id", ondelete="CASCADE"
        ),
    )
    op.create_index(
        "ix_conflicts_connection_entity_state", "conflicts", ["connection", "entity", "state"]
    )
    op.create_index("ix_conflicts_link_id", "conflicts", ["link_id"])
    op.create_index(
        "uq_conflicts_open_link_id_field",
        "conflicts",
        ["link_id", "field"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_table(
        "quarantine",
        sa.Column("id", BigId, nullable=False),
        sa.Column("connection", sa.String(), nullable=False),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("field", sa.String(), nullable=True),
        sa.Column("reference", sa.String(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_seen", Timestamp, nullable=False),
        sa.Column("next_attempt", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_quarantine"),
        sa.UniqueConstraint(
            "connection",
            "entity",
            "side",
            "record_id",
            name="uq_quarantine_connection_entity_side_record_id",
        ),
    )
    op.create_table(
        "status_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("connection", sa.String(), nullable=False),
        sa.Column("entity", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("record", sa.String(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),  # JSON object
        sa.Column("at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_status_events"),
        sqlite_autoincrement=True,  # ids are never reused: readers tail by after_id
    )
    op.create_index("ix_status_events_connection_at", "status_events", ["connection", "at"])
    op.create_index("ix_status_events_name", "status_events", ["name"])


def downgrade() -> None:
    for table in ("status_events", "quarantine", "conflicts", "journal", "cursors", "links"):
        op.drop_table(table)
