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

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from dataclasses import field as dataclass_field
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

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


class Fields(Mapping[str, Value]):
    """A record's canonical fields, kept small: a tuple of values, and the names shared
    by every record with the same names (a first sync holds every record of both sides,
    and a dict each would be most of its memory). Compares equal to a dict alike.

    The values of a field that takes few distinct ones (a country, a city, payment
    terms) are one string per value for all records, not a copy each as the sides'
    JSON brings them; a field seen with many (an id, a phone number) is left alone."""

    __slots__ = ("_names", "_values")
    _layouts: ClassVar[dict[tuple[str, ...], dict[str, int]]] = {}
    _MAX_LAYOUTS: ClassVar[int] = 256  # distinct name sets are few (one per mapping)
    # Per field name, its values kept so far; None once it showed too many to share.
    _common: ClassVar[dict[str, dict[str, str] | None]] = {}
    _MAX_COMMON: ClassVar[int] = 1024  # distinct values a field may have and be shared
    _MAX_NAMES: ClassVar[int] = 256  # field names followed (one set per mapping)
    _MAX_LENGTH: ClassVar[int] = 64  # with _MAX_COMMON, bounds what a field keeps

    def __init__(self, fields: Mapping[str, Value]) -> None:
        names = tuple(fields)
        layout = Fields._layouts.get(names)
        if layout is None:
            layout = {name: n for n, name in enumerate(names)}
            if len(Fields._layouts) < Fields._MAX_LAYOUTS:
                Fields._layouts[names] = layout
        self._names = layout
        self._values = tuple([Fields._share(name, value) for name, value in fields.items()])

    @staticmethod
    def _share(name: str, value: Value) -> Value:
        """The string kept for ``value`` of field ``name``, if that field's are shared."""
        if type(value) is not str or len(value) > Fields._MAX_LENGTH:
            return value
        kept = Fields._common.get(name, {})
        if kept is None:
            return value  # a field of many distinct values
        same = kept.get(value)
        if same is not None:
            return same
        if len(kept) >= Fields._MAX_COMMON:
            Fields._common[name] = None
        elif kept or len(Fields._common) < Fields._MAX_NAMES:
            kept[value] = value
            Fields._common[name] = kept
        return value

    @classmethod
    def of(cls, fields: Mapping[str, Value]) -> Fields:
        """``fields`` compact; as they are if they already are (they never change)."""
        return fields if isinstance(fields, Fields) else cls(fields)

    def __getitem__(self, name: str) -> Value:
        return self._values[self._names[name]]

    def get(self, name: str, default: Value = None) -> Value:  # type: ignore[override]
        n = self._names.get(name)
        return default if n is None else self._values[n]

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Fields) and other._names is self._names:
            return self._values == other._values
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # like a dict

    def __repr__(self) -> str:
        return repr(dict(self))


@dataclass(frozen=True, slots=True)  # slots: a first sync holds every record of both sides
class Record:
    """One canonical record as read from a side."""

    id: str
    fields: Mapping[str, Value]
    modified: datetime | None = None
    correlation: str | None = None

    def __post_init__(self) -> None:
        if type(self.fields) is dict:
            object.__setattr__(self, "fields", Fields(self.fields))


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
    # Records of the same side that hold another entity only (a HubSpot company without
    # this entity's role), with just their match-key fields: a whole listing shows them
    # anyway, so one about to be created on this side is adopted without a look-up.
    others: list[Record] = field(default_factory=list)
    # The records' values come from a search index that may lag behind writes (HubSpot's
    # search): an earlier version of a record, with its earlier modification time. They
    # say which records changed, not what they hold: read them by id before deciding.
    hints_only: bool = False

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
    # syncd's clock, only ever compared with itself: when the newest change was first
    # seen, and when the last pull began. The time between tells how far the side's own
    # clock has moved past the newest change since (see cursors.pull_start).
    seen_at: datetime | None = field(default=None, compare=False)
    pulled_at: datetime | None = field(default=None, compare=False)
