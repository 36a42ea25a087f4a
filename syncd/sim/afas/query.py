"""Running a GetConnector: filters (15 operators, ``,`` AND / ``;`` OR), sorting, paging.

Values are compared the way Profit's database does: text without regard to case, dates
as Amsterdam wall time *with* the fractions of a second Profit stores but never shows.
A date is shown rounded to the second (``precision = "round"``, Profit's behaviour as
PracticalAfas measured it: a row shown as ``…:02`` may fall either side of a ``>= …:02``
filter) or, with ``precision = "second"``, cut to the second (so a filter on the shown
value always finds the row). Clients must cope with both.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any

from syncd.gateways.afas.profit_time import display_value, to_wall
from syncd.sim.afas.index import comparable, lookup, sort_key
from syncd.sim.afas.schema import DataType, GetConnector, GetField
from syncd.sim.afas.store import UNEXPECTED, ProfitData, ProfitError, Relation

Row = dict[str, object]


@dataclass(frozen=True)
class Condition:
    field: GetField
    operator: int
    value: str
    wanted: object = None  # the value as the field's type, for operators 1-5 and 7


def parse_filters(connector: GetConnector, params: Mapping[str, str]) -> list[list[Condition]]:
    """The DNF of the three parallel lists (or ``filterjson``): OR-groups of AND-terms."""
    if "filterjson" in params:
        return _parse_json(connector, params["filterjson"])
    names = params.get("filterfieldids")
    if names is None:
        return []
    values = params.get("filtervalues", "")
    operators = params.get("operatortypes", "")
    groups: list[list[Condition]] = []
    name_groups, value_groups, op_groups = (x.split(";") for x in (names, values, operators))
    if not len(name_groups) == len(value_groups) == len(op_groups):
        raise ProfitError("An unexpected error has occurred.", UNEXPECTED)
    for g_names, g_values, g_ops in zip(name_groups, value_groups, op_groups, strict=True):
        terms = [x.split(",") for x in (g_names, g_values, g_ops)]
        if not len(terms[0]) == len(terms[1]) == len(terms[2]):
            raise ProfitError("An unexpected error has occurred.", UNEXPECTED)
        groups.append([_condition(connector, *term) for term in zip(*terms, strict=True)])
    return groups


def _parse_json(connector: GetConnector, text: str) -> list[list[Condition]]:
    try:
        doc = json.loads(text)
        filters = doc["Filters"]["Filter"]
        filters = filters if isinstance(filters, list) else [filters]
        groups = []
        for one in filters:
            fields = one["Field"]
            fields = fields if isinstance(fields, list) else [fields]
            groups.append(
                [
                    _condition(
                        connector, f["@FieldId"], str(f.get("#text", "")), f["@OperatorType"]
                    )
                    for f in fields
                ]
            )
        return groups
    except (ValueError, KeyError, TypeError):
        raise ProfitError("An unexpected error has occurred.", UNEXPECTED) from None


def _condition(connector: GetConnector, name: str, value: str, operator: object) -> Condition:
    getfield = connector.field(name)
    if getfield is None:
        raise ProfitError(f"Connector field '{name}' not found")
    try:
        op = int(str(operator))
    except ValueError:
        op = 0
    if not 1 <= op <= 15:
        raise ProfitError("An unexpected error has occurred.", UNEXPECTED)
    # a bad value fails the query even when no row is there
    wanted = _typed_value(getfield, value) if op in (1, 2, 3, 4, 5, 7) else None
    return Condition(getfield, op, value, wanted)


def _typed_value(getfield: GetField, text: str) -> object:
    """A filter value as the field's type; a date with a ``Z`` (or no date) is refused."""
    kind = getfield.type
    if kind is DataType.DATE:
        if text.endswith("Z"):
            raise ProfitError(f"The value '{text}' is not a valid date.", UNEXPECTED)
        for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
        raise ProfitError(f"The value '{text}' is not a valid date.", UNEXPECTED)
    if kind in (DataType.INT, DataType.DECIMAL):
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ProfitError(f"The value '{text}' is not a valid number.", UNEXPECTED) from None
    if kind is DataType.BOOLEAN:
        return text.strip().lower() in ("1", "true", "waar")
    return text.casefold()


def _matches(condition: Condition, stored: object) -> bool:
    op = condition.operator
    if op == 8:
        return stored is None
    if op == 9:
        return stored is not None
    wanted = condition.wanted
    if stored is None:
        return op in (7, 11, 12, 14)
    if op in (6, 11, 10, 12, 13, 14, 15):
        text, part = str(stored).casefold(), str(condition.value).casefold()
        result = {
            6: part in text,
            15: part in text,
            11: part not in text,
            10: text.startswith(part),
            12: not text.startswith(part),
            13: text.endswith(part),
            14: not text.endswith(part),
        }
        return result[op]
    try:
        compare: dict[int, Callable[[Any, Any], bool]] = {
            1: lambda a, b: a == b,
            2: lambda a, b: a >= b,
            3: lambda a, b: a <= b,
            4: lambda a, b: a > b,
            5: lambda a, b: a < b,
            7: lambda a, b: a != b,
        }
        return compare[op](stored, wanted)
    except TypeError:
        raise ProfitError("An unexpected error has occurred.", UNEXPECTED) from None


@dataclass
class QueryOptions:
    precision: str = "round"  # "round" (shown rounded) or "second" (shown cut)
    shuffle_unordered: bool = True  # no orderbyfieldids: the database picks an order
    seed: int = 0


def run(
    data: ProfitData,
    connector: GetConnector,
    params: Mapping[str, str],
    options: QueryOptions,
    rng: random.Random,
) -> dict[str, object]:
    """The response body of ``GET /connectors/{id}`` for ``params``."""
    groups = parse_filters(connector, params)
    order = _order(connector, params.get("orderbyfieldids", ""))
    skip, take = _paging(params)
    entity = connector.entity
    selected = _select(
        data, entity, groups, order, None if skip == -1 or take == -1 else skip + take
    )
    if order:
        for getfield, descending in reversed(order):
            selected.sort(key=_sorter(data, entity, getfield), reverse=descending)
    elif options.shuffle_unordered:
        rng.shuffle(selected)
    page = selected if skip == -1 else selected[skip : skip + take if take != -1 else None]
    rows = _rows_as_shown(data, connector, page, options)
    return {"skip": skip, "take": take, "rows": rows}


def _select(
    data: ProfitData,
    entity: str,
    groups: list[list[Condition]],
    order: list[tuple[GetField, bool]],
    enough: int | None,
) -> list[Relation]:
    """The relations that meet the filter (OR-groups of AND-terms), in table order.

    An index narrows which relations are tested where it can (:mod:`.index`); when they
    come in the query's order already, the first ``enough`` are all a page needs.
    """
    found = lookup(data, entity, groups, order)
    candidates = data.each(entity) if found is None else found.relations
    meeting = (
        candidates
        if not groups
        else (
            relation
            for relation in candidates
            if any(all(_holds(data, entity, relation, c) for c in g) for g in groups)
        )
    )
    if found is not None and found.ordered and enough is not None:
        return list(islice(meeting, enough))
    return list(meeting)


def _holds(data: ProfitData, entity: str, relation: Relation, condition: Condition) -> bool:
    getfield = condition.field
    stored = data.value(entity, relation, getfield.part, getfield.source)
    return _matches(condition, comparable(getfield, stored))


def _sorter(
    data: ProfitData, entity: str, getfield: GetField
) -> Callable[[Relation], tuple[int, Any]]:
    def key(relation: Relation) -> tuple[int, Any]:
        stored = data.value(entity, relation, getfield.part, getfield.source)
        return sort_key(comparable(getfield, stored))

    return key


def _order(connector: GetConnector, text: str) -> list[tuple[GetField, bool]]:
    order: list[tuple[GetField, bool]] = []
    for name in filter(None, text.split(",")):
        descending = name.startswith("-")
        getfield = connector.field(name.lstrip("-"))
        if getfield is None:
            raise ProfitError(f"Connector field '{name.lstrip('-')}' not found")
        order.append((getfield, descending))
    return order


def _paging(params: Mapping[str, str]) -> tuple[int, int]:
    skip = _integer(params.get("skip"), 0)
    take = _integer(params.get("take"), 100)
    skip = 0 if skip < -1 else skip
    if skip == -1:
        return -1, take
    if take == -1 and skip > 0:
        raise ProfitError("An unexpected error has occurred.", UNEXPECTED)
    if take == 0:
        take = 1
    return skip, take if take >= -1 else 100


def _integer(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _rows_as_shown(
    data: ProfitData, connector: GetConnector, relations: Sequence[Relation], options: QueryOptions
) -> list[Row]:
    """The rows of ``relations`` as the connector shows them (empty text as null)."""
    # Most columns are text, shown as stored: only the others are converted (a listing
    # page shows a great many cells).
    columns = [(f.id, data.reader(f.part, f.source)) for f in connector.fields]
    converted = [
        (f.id, show) for f in connector.fields if (show := _display(f.type, options)) is not None
    ]
    rows: list[Row] = []
    for relation in relations:
        row: Row = {
            name: None if (value := read(relation)) == "" else value for name, read in columns
        }
        for name, show in converted:
            if (stored := row[name]) is not None:
                row[name] = show(stored)
        rows.append(row)
    return rows


def _display(kind: DataType, options: QueryOptions) -> Callable[[Any], object] | None:
    """How a stored value of ``kind`` is shown: dates as wall time, numbers as JSON's;
    None for text, shown as it is."""
    if kind is DataType.DATE:
        return lambda value: _display_date(value, options)
    if kind in (DataType.INT, DataType.DECIMAL):
        return _number
    return None


def _display_date(value: date | datetime, options: QueryOptions) -> str:
    if not isinstance(value, datetime):  # a date field holds a day: shown at midnight
        return display_value(datetime.combine(value, time()))
    return display_value(_round_to_second(to_wall(value), options))


def _number(value: object) -> int | float:
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def _round_to_second(wall: datetime, options: QueryOptions) -> datetime:
    """Profit shows whole seconds: rounded here, if so configured; shown without the
    fraction by ``display_value``."""
    if options.precision == "round" and wall.microsecond >= 500_000:
        return wall + timedelta(seconds=1)
    return wall
