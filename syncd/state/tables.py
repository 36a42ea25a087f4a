"""The state store's tables, as sqlmodel classes (one per concept in :mod:`syncd.state.rows`).

Only :mod:`syncd.state.store` touches these; the engine sees the dataclasses of ``rows.py``.
Two column types keep the Python side honest on every backend:

* :class:`UTCDateTime` stores UTC and always hands back timezone-aware UTC datetimes
  (SQLite keeps no zone, PostgreSQL uses ``timestamptz``); naive datetimes are refused.
* :class:`JSONText` keeps a JSON document in a plain text column.

The migrations in ``migrations/versions`` must produce exactly these tables; a test compares
them with alembic's autogenerate on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

NAMING_CONVENTION = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""A 64-bit id; plain INTEGER on SQLite, where only that is an autoincrementing rowid."""

OPEN = "open"  # ConflictState.OPEN, spelled out for the partial index below


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC; naive datetimes are refused, results are aware UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use an aware one")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONText(sa.TypeDecorator[Any]):
    """A JSON document kept as compact text with sorted keys."""

    impl = sa.Text()
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


class StateModel(SQLModel, registry=registry(metadata=metadata)):
    """Base of the state tables: their own metadata, apart from any other sqlmodel tables."""

    __table__: ClassVar[sa.Table]


class LinkRow(StateModel, table=True):
    __tablename__ = "links"
    __table_args__ = (
        sa.UniqueConstraint("connection", "entity", "crm_id"),
        sa.UniqueConstraint("connection", "entity", "afas_id"),
        # Every cycle counts the active links: from this index alone, not the table.
        sa.Index("ix_links_active", "connection", "entity", "detached_at"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    connection: str = Field(sa_type=sa.String())
    entity: str = Field(sa_type=sa.String())
    crm_id: str = Field(sa_type=sa.String())
    afas_id: str = Field(sa_type=sa.String())
    base: dict[str, str | None] = Field(sa_type=JSONText())
    detached_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    # What people call the record (a company's name, a person's names), from the base:
    # the operator's views show it without asking either side.
    name: str | None = Field(default=None, sa_type=sa.Text())


class CursorRow(StateModel, table=True):
    __tablename__ = "cursors"

    connection: str = Field(primary_key=True, sa_type=sa.String())
    entity: str = Field(primary_key=True, sa_type=sa.String())
    side: str = Field(primary_key=True, sa_type=sa.String())
    modified: datetime = Field(sa_type=UTCDateTime())
    last_id: str = Field(sa_type=sa.String())
    seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    pulled_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class JournalRow(StateModel, table=True):
    __tablename__ = "journal"
    __table_args__ = (
        sa.Index(None, "connection", "entity", "state"),
        sa.Index(None, "link_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    connection: str = Field(sa_type=sa.String())
    entity: str = Field(sa_type=sa.String())
    action: str = Field(sa_type=sa.String())
    target: str = Field(sa_type=sa.String())
    fields: dict[str, str | None] = Field(sa_type=JSONText())
    target_id: str | None = Field(default=None, sa_type=sa.String())
    source_id: str | None = Field(default=None, sa_type=sa.String())
    correlation: str | None = Field(default=None, sa_type=sa.String())
    link_id: int | None = Field(
        default=None, sa_type=BigId, foreign_key="links.id", ondelete="SET NULL"
    )
    state: str = Field(sa_type=sa.String())
    altered: dict[str, str | None] | None = Field(default=None, sa_type=JSONText())
    created_at: datetime = Field(sa_type=UTCDateTime())
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class ConflictRow(StateModel, table=True):
    __tablename__ = "conflicts"
    __table_args__ = (
        sa.Index(
            "uq_conflicts_open_link_id_field",
            "link_id",
            "field",
            unique=True,
            sqlite_where=sa.text(f"state = '{OPEN}'"),
            postgresql_where=sa.text(f"state = '{OPEN}'"),
        ),
        sa.Index(None, "connection", "entity", "state"),
        sa.Index(None, "link_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    connection: str = Field(sa_type=sa.String())
    entity: str = Field(sa_type=sa.String())
    link_id: int = Field(sa_type=BigId, foreign_key="links.id", ondelete="CASCADE")
    field: str = Field(sa_type=sa.String())
    base: str | None = Field(default=None, sa_type=sa.Text())
    crm: str | None = Field(default=None, sa_type=sa.Text())
    afas: str | None = Field(default=None, sa_type=sa.Text())
    state: str = Field(sa_type=sa.String())
    resolution: str | None = Field(default=None, sa_type=sa.Text())
    created_at: datetime = Field(sa_type=UTCDateTime())
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class QuarantineRow(StateModel, table=True):
    __tablename__ = "quarantine"
    __table_args__ = (sa.UniqueConstraint("connection", "entity", "side", "record_id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    connection: str = Field(sa_type=sa.String())
    entity: str = Field(sa_type=sa.String())
    side: str = Field(sa_type=sa.String())
    record_id: str = Field(sa_type=sa.String())
    reason: str = Field(sa_type=sa.Text())
    field: str | None = Field(default=None, sa_type=sa.String())
    reference: str | None = Field(default=None, sa_type=sa.String())
    attempts: int = Field(sa_type=sa.Integer())
    first_seen: datetime = Field(sa_type=UTCDateTime())
    next_attempt: datetime | None = Field(default=None, sa_type=UTCDateTime())
    fields: dict[str, str | None] | None = Field(default=None, sa_type=JSONText())


class WaitingRow(StateModel, table=True):
    """A record that waits for another to be linked first (a contact for its company)."""

    __tablename__ = "waiting"
    __table_args__ = (sa.UniqueConstraint("connection", "entity", "side", "record_id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    connection: str = Field(sa_type=sa.String())
    entity: str = Field(sa_type=sa.String())
    side: str = Field(sa_type=sa.String())
    record_id: str = Field(sa_type=sa.String())
    company: str | None = Field(default=None, sa_type=sa.String())
    reason: str = Field(sa_type=sa.Text())
    since: datetime = Field(sa_type=UTCDateTime())


class LinkMarkRow(StateModel, table=True):
    """Per connection and waiting entity, the newest company link it has looked at."""

    __tablename__ = "link_marks"

    connection: str = Field(primary_key=True, sa_type=sa.String())
    entity: str = Field(primary_key=True, sa_type=sa.String())
    last_link_id: int = Field(sa_type=BigId)


class OrganisationRow(StateModel, table=True):
    """The AFAS organisation a company record (a debtor, a creditor) was last seen at;
    ``organisation`` None when it was read and shows none."""

    __tablename__ = "organisations"
    __table_args__ = (sa.Index(None, "connection", "organisation"),)

    connection: str = Field(primary_key=True, sa_type=sa.String())
    entity: str = Field(primary_key=True, sa_type=sa.String())
    relation_id: str = Field(primary_key=True, sa_type=sa.String())
    organisation: str | None = Field(default=None, sa_type=sa.String())


class EventRow(StateModel, table=True):
    __tablename__ = "status_events"
    __table_args__ = (
        sa.Index(None, "connection", "at"),
        sa.Index(None, "name"),
        {"sqlite_autoincrement": True},  # never reuse an id: readers tail by after_id
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    connection: str = Field(sa_type=sa.String())
    entity: str | None = Field(default=None, sa_type=sa.String())
    name: str = Field(sa_type=sa.String())
    record: str | None = Field(default=None, sa_type=sa.String())
    data: dict[str, Any] = Field(sa_type=JSONText())
    at: datetime = Field(sa_type=UTCDateTime())


class JournalOffsetRow(StateModel, table=True):
    """Per connection, how far HubSpot's Webhooks Journal has been read."""

    __tablename__ = "journal_offsets"

    connection: str = Field(primary_key=True, sa_type=sa.String())
    offset: str = Field(sa_type=sa.String())
    read_at: datetime = Field(sa_type=UTCDateTime())


class HeldPlanRow(StateModel, table=True):
    """Per lane, what the plan a guard held back last would write (as plain data)."""

    __tablename__ = "held_plans"

    connection: str = Field(primary_key=True, sa_type=sa.String())
    entity: str = Field(primary_key=True, sa_type=sa.String())
    plan: dict[str, Any] = Field(sa_type=JSONText())
    at: datetime = Field(sa_type=UTCDateTime())


class LanePollRow(StateModel, table=True):
    """Per lane, its quiet polls (those that found nothing new and wrote no event): the
    newest one's time and how many there were."""

    __tablename__ = "lane_polls"

    connection: str = Field(primary_key=True, sa_type=sa.String())
    entity: str = Field(primary_key=True, sa_type=sa.String())
    at: datetime = Field(sa_type=UTCDateTime())
    polls: int = Field(sa_type=sa.Integer())


class RunningWorkRow(StateModel, table=True):
    """A long piece of work under way in some process (a whole listing, a match plan's
    listing), kept so that any process's status page can show it."""

    __tablename__ = "running_work"

    key: str = Field(primary_key=True, sa_type=sa.String())
    lane: str = Field(sa_type=sa.String())
    side: str = Field(sa_type=sa.String())
    kind: str = Field(sa_type=sa.String())
    listed: int = Field(sa_type=sa.Integer())
    expected: int | None = Field(default=None, sa_type=sa.Integer())
    started: datetime = Field(sa_type=UTCDateTime())
    heard: datetime = Field(sa_type=UTCDateTime())
    host: str = Field(sa_type=sa.String())
    pid: int = Field(sa_type=sa.Integer())
