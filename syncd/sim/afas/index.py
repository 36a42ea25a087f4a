"""Indexes over an entity's relations, so a filtered GetConnector finds its rows the way
Profit's database does: a read of a few keys, a change listing or the next page of a
listing costs about what it returns, not a test of every row.

An index only narrows which relations the query tests; the query still tests each one
and orders them as it would have (:mod:`syncd.sim.afas.query`). Indexes are rebuilt after
any change to the tables, which a query after a burst of writes pays once.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from syncd.gateways.afas.profit_time import to_wall
from syncd.sim.afas.schema import DataType, GetField, Part
from syncd.sim.afas.store import ProfitData, Relation

EQUAL, AT_LEAST, AT_MOST, GREATER, LESS = 1, 2, 3, 4, 5
RANGES = (AT_LEAST, AT_MOST, GREATER, LESS)
ORDERED_TYPES = (DataType.STRING, DataType.DATE, DataType.INT, DataType.DECIMAL)

SortKey = tuple[int, Any]


def comparable(getfield: GetField, value: object) -> object:
    """A stored value as the database compares it: text without case, dates as wall time."""
    if value is None or value == "":
        return None
    if getfield.type is DataType.DATE:
        assert isinstance(value, datetime)
        return to_wall(value)
    if getfield.type in (DataType.INT, DataType.DECIMAL):
        return Decimal(str(value))
    if getfield.type is DataType.BOOLEAN:
        return bool(value)
    return str(value).casefold()


def sort_key(value: object) -> SortKey:
    return (0, 0) if value is None else (1, value)  # NULL sorts first, as in SQL Server


class Term(Protocol):
    """One filter term as the index sees it: ``field`` ``operator`` ``wanted``."""

    @property
    def field(self) -> GetField: ...
    @property
    def operator(self) -> int: ...
    @property
    def wanted(self) -> object: ...


@dataclass(frozen=True)
class Candidates:
    """The relations an index narrowed a query to, in table order; or, when ``ordered``,
    in the query's order already (so a page can stop at its last row)."""

    relations: Iterable[Relation]
    ordered: bool = False


Entry = tuple[int, Relation]  # (position in the table, relation)


@dataclass(frozen=True)
class Column:
    """One field of every relation: the values in ascending order (table order among
    equals) with their relations, the relations without a value, and which relations
    hold each value."""

    values: list[Any]
    entries: list[Entry]
    nulls: list[Entry]
    holding: dict[object, list[Entry]]


def column(data: ProfitData, entity: str, getfield: GetField) -> Column:
    def build() -> Column:
        table = list(enumerate(data.each(entity)))
        values: list[Any] = [
            comparable(getfield, data.value(entity, r, getfield.part, getfield.source))
            for _, r in table
        ]
        holding: dict[object, list[Entry]] = {}
        for entry, value in zip(table, values, strict=True):
            holding.setdefault(value, []).append(entry)
        # a stable sort of positions by value keeps table order among equal values
        order = sorted((i for i, v in enumerate(values) if v is not None), key=values.__getitem__)
        return Column(
            [values[i] for i in order],
            [table[i] for i in order],
            holding.get(None, []),
            holding,
        )

    built: Column = data.keep_until_change(("column", entity, getfield.id), entity, build)
    return built


def lookup(
    data: ProfitData,
    entity: str,
    groups: Sequence[Sequence[Term]],
    order: Sequence[tuple[GetField, bool]],
) -> Candidates | None:
    """The relations that may meet ``groups`` (OR of ANDs), or None when no index helps."""
    ordering = order[0][0] if len(order) == 1 and not order[0][1] else None
    if not groups:
        if ordering is None or ordering.type not in ORDERED_TYPES:
            return None
        index = column(data, entity, ordering)  # NULL sorts first, as in SQL Server
        return Candidates([r for _, r in [*index.nulls, *index.entries]], ordered=True)
    first = groups[0][0].field
    if all(len(g) == 1 and g[0].operator == EQUAL and g[0].field is first for g in groups):
        return _equal(data, entity, first, [g[0].wanted for g in groups])
    if len(groups) > 1:
        return None
    terms = groups[0]
    equal = next((t for t in terms if t.operator == EQUAL), None)
    if equal is not None:
        return _equal(data, entity, equal.field, [equal.wanted])
    ranged = next((t for t in terms if t.operator in RANGES), None)
    if ranged is None or ranged.field.type not in ORDERED_TYPES:
        return None
    getfield = ranged.field
    within = _between(column(data, entity, getfield), [t for t in terms if t.field is getfield])
    if getfield is ordering:
        return Candidates([r for _, r in within], ordered=True)
    return Candidates([r for _, r in sorted(within, key=lambda e: e[0])])


def _equal(
    data: ProfitData, entity: str, getfield: GetField, wanted: Iterable[object]
) -> Candidates | None:
    values = list(dict.fromkeys(w for w in wanted if w is not None))
    if getfield.part is Part.KEY:
        return _by_number(data, entity, values)
    held = column(data, entity, getfield).holding
    found = sorted((entry for v in values for entry in held.get(v, ())), key=lambda e: e[0])
    return Candidates([relation for _, relation in found])


def _by_number(data: ProfitData, entity: str, values: list[object]) -> Candidates | None:
    """Relations by number, the table's own key. Wanted text is compared without case,
    so that is exact while no number has capitals (Profit's are digits unless a user
    typed them); otherwise no index. Their order is the wanted values' (numbers never
    tie, so a query ordered on the number is exact)."""
    if entity in data.cased_numbers:
        return None
    table = data.relations[entity]
    return Candidates([table[v] for v in values if isinstance(v, str) and v in table])


def _between(index: Column, terms: Sequence[Term]) -> list[Entry]:
    """The entries whose value lies within every range term (NULL never does)."""
    low, high = 0, len(index.values)
    for term in terms:
        if term.operator == AT_LEAST:
            low = max(low, bisect_left(index.values, term.wanted))
        elif term.operator == GREATER:
            low = max(low, bisect_right(index.values, term.wanted))
        elif term.operator == AT_MOST:
            high = min(high, bisect_right(index.values, term.wanted))
        elif term.operator == LESS:
            high = min(high, bisect_left(index.values, term.wanted))
    return index.entries[low:high] if low < high else []
