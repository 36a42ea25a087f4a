"""The vocabulary the engine speaks: sides, canonical records and cursors.

Terminology (used everywhere in syncd):

side
    ``crm`` or ``afas``: one of the two systems of a connection.
entity
    What is synced: ``customer`` (AFAS debtor) or ``supplier`` (AFAS creditor).
native record
    A row as the side's API shows it, with the side's own field names.
canonical record
    The same row after the mapping: canonical field names, normalised values
    (``str``, or ``None`` for blank), so values from both sides compare directly.
correlation key
    The other side's id, stored on a record (AFAS ``XpRe``, a unique CRM property),
    so a create whose response was lost can be *found* instead of repeated.
base
    Per linked pair and field, the canonical value both sides last agreed on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from dataclasses import field as dataclass_field
from datetime import datetime
from enum import StrEnum

Value = str | None
"""A canonical field value: a normalised string, or ``None`` for blank."""

CanonicalFields = Mapping[str, Value]


class Side(StrEnum):
    CRM = "crm"
    AFAS = "afas"

    @property
    def other(self) -> Side:
        return Side.AFAS if self is Side.CRM else Side.CRM


def is_blank(value: Value) -> bool:
    return value is None or value == ""


@dataclass(frozen=True)
class Record:
    """One canonical record as read from a side."""

    id: str
    fields: Mapping[str, Value]
    modified: datetime | None = None
    correlation: str | None = None


@dataclass(frozen=True)
class RejectedRecord:
    """A native row that could not be turned into a canonical record."""

    id: str
    message: str
    field: str | None = None
    fields: Mapping[str, Value] = dataclass_field(default_factory=dict)  # what could be read


@dataclass(frozen=True)
class Page:
    """One page of a listing: the records read and the rows that could not be read."""

    records: list[Record] = field(default_factory=list)
    rejected: list[RejectedRecord] = field(default_factory=list)
    # Ids asked for that now live on under another id (HubSpot merges): old -> new.
    moved: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, results: Iterable[Record | RejectedRecord]) -> Page:
        page = cls()
        for result in results:
            if isinstance(result, Record):
                page.records.append(result)
            else:
                page.rejected.append(result)
        return page


@dataclass(frozen=True, order=True)
class Cursor:
    """The highest (modified, id) seen on one side: never "now", so nothing is skipped."""

    modified: datetime
    id: str
