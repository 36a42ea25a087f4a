"""``POST .../companies/search`` (and ``.../contacts/search``) over the portal's lagging
search view.

Filters (every operator of the spec) are ANDed within a group and groups are ORed; one
sort rule is honoured (``{"propertyName", "direction"}`` objects as HubSpot's guides show
them, or a name, ``-name`` for descending); ``after`` is an offset as a string; pages hold
at most 200; paging past the 10,000th result is answered with 400, as HubSpot does;
archived and merged-away companies never appear; the values are those search has seen.
Contacts are searched alike; their modification time is ``lastmodifieddate`` (a filter on
``hs_lastmodifieddate``, which contacts do not carry, matches none of them).
"""

from __future__ import annotations

import bisect
import functools
import json
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from syncd.sim.hubspot.kinds import COMPANIES, ObjectKind
from syncd.sim.hubspot.portal import Invalid, ViewLookup, project
from syncd.sim.hubspot.properties import PropertyDef, parse_datetime


@dataclass(frozen=True)
class SearchLimits:
    max_groups: int = 5
    max_filters_per_group: int = 6
    max_filters: int = 18
    max_page: int = 200
    max_results: int = 10_000
    max_values: int = 100


Match = tuple[str, Mapping[str, str]]
_PAGING = ("after", "limit", "properties")  # not part of what a query matches


def run_search(
    view: Mapping[str, Mapping[str, str]],
    body: Mapping[str, Any],
    properties: Mapping[str, PropertyDef],
    limits: SearchLimits,
    lookup: Lookup | None = None,
    remembered: RememberedSearches | None = None,
    kind: ObjectKind = COMPANIES,
) -> dict[str, Any]:
    """The search response for ``body`` (Invalid for a request HubSpot refuses).

    With ``lookup`` (the portal's :meth:`Portal.view_lookup`), only the companies that an
    exact filter of each group allows are tested, not the whole view. With
    ``remembered``, the next page of a query asked before is taken from its matches.
    """
    groups = _groups(body, limits)
    limit, offset = _paging(body, limits)

    def matching() -> list[Match]:
        return _all_matches(view, body, groups, properties, lookup, kind)

    seek = _keyset_page(body, groups) if remembered is not None else None
    if remembered is None:
        matched = matching()
    elif seek is None:
        matched = remembered(body, matching)
    else:  # the next page of a keyset paging: the matches past its id, as an index seeks
        query, past = seek
        every = remembered(
            query,
            lambda: _all_matches(view, query, _groups(query, limits), properties, lookup, kind),
        )
        matched = every[bisect.bisect_right(every, past, key=lambda m: int(m[0])) :]
    names = body.get("properties") or list(kind.listed)
    page = matched[offset : offset + limit]
    response: dict[str, Any] = {
        "total": len(matched),
        "results": [_search_result(i, props, names, kind) for i, props in page],
    }
    if offset + limit < len(matched):
        after = str(offset + limit)
        response["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
    return response


def _keyset_page(
    body: Mapping[str, Any], groups: list[list[Mapping[str, Any]]]
) -> tuple[dict[str, Any], int] | None:
    """For a query paged by id (one filter group, sorted by ascending id, the page's
    start an ``hs_object_id`` GT filter): the query without that filter, and the id."""
    sorts = body.get("sorts") or []
    by_id = [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]
    if len(groups) != 1 or sorts != by_id or body.get("query"):
        return None
    seeks = [
        f
        for f in groups[0]
        if f.get("propertyName") == "hs_object_id" and f.get("operator") == "GT"
    ]
    if len(seeks) != 1 or not str(seeks[0].get("value", "")).isdigit():
        return None
    rest = [f for f in groups[0] if f is not seeks[0]]
    query = {**body, "filterGroups": [{"filters": rest}] if rest else []}
    return query, int(seeks[0]["value"])


class RememberedSearches:
    """The matches of the queries asked since the search view last changed.

    HubSpot pages a search by offset (``after``); a simulator that ran the whole query
    again for each page would make every page cost what the whole query costs, which
    HubSpot's does not.
    """

    def __init__(self, version: Callable[[], Hashable], keep: int = 8) -> None:
        self._version = version  # changes whenever an answer could
        self._keep = keep
        self._seen: Hashable = None
        self._kept: dict[str, list[Match]] = {}

    def __call__(self, body: Mapping[str, Any], matching: Callable[[], list[Match]]) -> list[Match]:
        if self._version() != self._seen:
            self._kept.clear()
            self._seen = self._version()
        query = json.dumps({k: v for k, v in body.items() if k not in _PAGING}, sort_keys=True)
        if query not in self._kept:
            while len(self._kept) >= self._keep:
                del self._kept[next(iter(self._kept))]  # the oldest query
            self._kept[query] = matching()
        return self._kept[query]


def _all_matches(
    view: Mapping[str, Mapping[str, str]],
    body: Mapping[str, Any],
    groups: list[list[Mapping[str, Any]]],
    properties: Mapping[str, PropertyDef],
    lookup: Lookup | None,
    kind: ObjectKind,
) -> list[Match]:
    """Every company that meets the query, in the order of its sort."""
    compiled = [
        [_compile(f, properties) for f in sorted(group, key=_cheap_first)] for group in groups
    ]
    ids = _candidates(groups, properties, lookup) if lookup is not None else None
    tested = view.items() if ids is None else ((i, view[i]) for i in ids if i in view)
    matched = [
        (company_id, props)
        for company_id, props in tested
        if not compiled or any(all(test(props) for test in group) for group in compiled)
    ]
    _sort(matched, body.get("sorts") or [], properties)
    _filter_by_text(matched, body.get("query"), kind.text_fields)
    return matched


def _candidates(
    groups: Sequence[Sequence[Mapping[str, Any]]],
    defs: Mapping[str, PropertyDef],
    lookup: Lookup,
) -> set[str] | None:
    """The ids any group can match, or None when a group has no exact filter to narrow
    by (then every company is tested)."""
    if not groups:
        return None
    found: set[str] = set()
    for group in groups:
        exact = next((a for f in group if (a := _exact(f, defs, lookup)) is not None), None)
        narrowed = [a for a in (exact, _in_range(group, defs, lookup)) if a is not None]
        if not narrowed:
            return None
        found |= min(narrowed, key=len)  # either holds every match: the fewer to test
    return found


def _exact(
    f: Mapping[str, Any], defs: Mapping[str, PropertyDef], lookup: Lookup
) -> set[str] | None:
    """The ids an IN or EQ filter on a text property allows (None for other filters:
    numbers and times compare as numbers, which a lookup by key would not do alike)."""
    name, op = str(f.get("propertyName")), str(f.get("operator"))
    prop = defs.get(name)
    kind = prop.type if prop else "string"
    if kind in ("number", "datetime", "date"):
        return None
    if op == "IN":
        wanted = {_key(prop, str(v)) for v in f.get("values") or []}
    elif op == "EQ":
        wanted = {_key(prop, str(f.get("value", "")))}
    else:
        return None
    multi = bool(prop and prop.multi)
    index = lookup((name, kind, multi), functools.partial(_keys, name, prop))
    return set().union(*(index.ids.get(key, ()) for key in wanted))


_LOWER = {"GT", "GTE", "EQ", "BETWEEN"}
_UPPER = {"LT", "LTE", "EQ"}


def _in_range(
    group: Sequence[Mapping[str, Any]], defs: Mapping[str, PropertyDef], lookup: Lookup
) -> set[str] | None:
    """The ids a group's range filters on a number or time allow (a superset: the bounds
    are taken inclusive and the filters still test each one); None when it has none."""
    for f in group:
        prop = defs.get(str(f.get("propertyName")))
        if prop is None or prop.multi or prop.type not in ("number", "datetime", "date"):
            continue
        low, high = _bounds(prop, [g for g in group if g.get("propertyName") == prop.name])
        if low is None and high is None:
            continue
        return search_lookup(prop, lookup).between(low, high)
    return None


def search_lookup(prop: PropertyDef, lookup: Lookup) -> ViewLookup:
    """The index a filter on ``prop`` narrows by: exact values, and ranges of numbers or
    times (of a property with one value)."""
    spec = (prop.name, prop.type, bool(prop.multi))
    return lookup(spec, functools.partial(_keys, prop.name, prop))


def _bounds(
    prop: PropertyDef, filters: Sequence[Mapping[str, Any]]
) -> tuple[Decimal | None, Decimal | None]:
    """The tightest numeric [low, high] the filters on one property allow."""
    lows: list[Decimal] = []
    highs: list[Decimal] = []
    for f in filters:
        op = str(f.get("operator"))
        value = _key(prop, str(f.get("value", "")))
        if op in _LOWER and isinstance(value, Decimal):
            lows.append(value)
        if op in _UPPER and isinstance(value, Decimal):
            highs.append(value)
        high = _key(prop, str(f.get("highValue", "")))
        if op == "BETWEEN" and isinstance(high, Decimal):
            highs.append(high)
    return max(lows, default=None), min(highs, default=None)


def _keys(name: str, prop: PropertyDef | None, props: Mapping[str, str]) -> list[Decimal | str]:
    raw = props.get(name)
    return [] if raw is None else [_key(prop, t) for t in _tokens(prop, raw)]


def _groups(body: Mapping[str, Any], limits: SearchLimits) -> list[list[Mapping[str, Any]]]:
    groups = [list(g.get("filters") or []) for g in body.get("filterGroups") or []]
    total = sum(len(g) for g in groups)
    if (
        len(groups) > limits.max_groups
        or any(len(g) > limits.max_filters_per_group for g in groups)
        or total > limits.max_filters
    ):
        raise Invalid(
            f"Too many filters: at most {limits.max_groups} filterGroups of at most "
            f"{limits.max_filters_per_group} filters, {limits.max_filters} in all"
        )
    for group in groups:
        for f in group:
            if len(f.get("values") or []) > limits.max_values:
                raise Invalid(f"at most {limits.max_values} values in an IN filter")
    return groups


def _paging(body: Mapping[str, Any], limits: SearchLimits) -> tuple[int, int]:
    limit = int(body.get("limit") or 10)
    if limit > limits.max_page or limit < 1:
        raise Invalid(f"limit must be between 1 and {limits.max_page}")
    after = str(body.get("after") or "0")
    if not after.isdigit():
        raise Invalid(f"after must be a number, not {after!r}")
    offset = int(after)
    if offset >= limits.max_results:
        raise Invalid(
            f"Paging beyond {limits.max_results} results is not supported; "
            "narrow the search instead"
        )
    return min(limit, limits.max_results - offset), offset


def _key(prop: PropertyDef | None, raw: str) -> Decimal | str:
    return _typed_key(prop.type if prop else "string", raw)


@functools.lru_cache(maxsize=65_536)
def _typed_key(kind: str, raw: str) -> Decimal | str:
    """A value as search compares it: numbers and times as numbers, text folded."""
    if kind == "number":
        try:
            number = Decimal(raw)
        except InvalidOperation:
            return raw.casefold()
        return number if number.is_finite() else raw.casefold()  # "NaN" is no number
    if kind in ("datetime", "date"):
        moment = parse_datetime(raw)
        return Decimal(int(moment.timestamp() * 1000)) if moment else raw.casefold()
    return raw.casefold()


def _tokens(prop: PropertyDef | None, raw: str) -> list[str]:
    return raw.split(";") if prop is not None and prop.multi else [raw]


Test = Callable[[Mapping[str, str]], bool]
Lookup = Callable[[Hashable, Callable[[Mapping[str, str]], Iterable[Hashable]]], ViewLookup]

_ID_TESTS: dict[str, Callable[[int, int], bool]] = {
    "EQ": lambda a, b: a == b,
    "GT": lambda a, b: a > b,
    "GTE": lambda a, b: a >= b,
    "LT": lambda a, b: a < b,
    "LTE": lambda a, b: a <= b,
}


def _cheap_first(f: Mapping[str, Any]) -> bool:
    """Id comparisons first: they are fast and, when keyset paging, rule out the most."""
    return not (f.get("propertyName") == "hs_object_id" and f.get("operator") in _ID_TESTS)


def _compile(f: Mapping[str, Any], defs: Mapping[str, PropertyDef]) -> Test:
    """One filter as a test of a company's properties (its value parsed once)."""
    name, op = str(f.get("propertyName")), str(f.get("operator"))
    prop = defs.get(name)
    if name == "hs_object_id" and op in _ID_TESTS and str(f.get("value", "")).isdigit():
        bound, check = int(str(f["value"])), _ID_TESTS[op]
        return lambda props: check(int(props["hs_object_id"]), bound)
    if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        wanted = op == "HAS_PROPERTY"
        return lambda props: (props.get(name) is not None) == wanted
    compare = _comparison(op, f, prop)

    def test(props: Mapping[str, str]) -> bool:
        raw = props.get(name)
        if raw is None:
            return op in ("NEQ", "NOT_IN", "NOT_CONTAINS_TOKEN")
        return compare(raw)

    return test


def _comparison(op: str, f: Mapping[str, Any], prop: PropertyDef | None) -> Callable[[str], bool]:
    def have(raw: str) -> list[Decimal | str]:
        return [_key(prop, t) for t in _tokens(prop, raw)]

    if op in ("IN", "NOT_IN"):
        wanted = {_key(prop, str(v)) for v in f.get("values") or []}
        negate = op == "NOT_IN"
        return lambda raw: any(h in wanted for h in have(raw)) != negate
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(f.get("value", "")).casefold().strip("*")
        negate = op == "NOT_CONTAINS_TOKEN"
        return lambda raw: (token in raw.casefold()) != negate
    value = _key(prop, str(f.get("value", "")))
    if op == "BETWEEN":
        high = _key(prop, str(f.get("highValue", "")))
        return lambda raw: any(_compare(value, h) <= 0 <= _compare(high, h) for h in have(raw))
    tests: dict[str, Callable[[int], bool]] = {
        "EQ": lambda c: c == 0,
        "LT": lambda c: c < 0,
        "LTE": lambda c: c <= 0,
        "GT": lambda c: c > 0,
        "GTE": lambda c: c >= 0,
    }
    if op == "NEQ":
        return lambda raw: all(_compare(h, value) != 0 for h in have(raw))
    if op not in tests:
        raise Invalid(f"Unknown operator {op}")
    check = tests[op]
    return lambda raw: any(check(_compare(h, value)) for h in have(raw))


def _compare(a: Decimal | str, b: Decimal | str) -> int:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return (a > b) - (a < b)
    sa, sb = str(a), str(b)
    return (sa > sb) - (sa < sb)


def _sort(
    matched: list[tuple[str, Mapping[str, str]]],
    sorts: Sequence[Any],
    defs: Mapping[str, PropertyDef],
) -> None:
    matched.sort(key=lambda item: int(item[0]))
    if not sorts:
        return
    rule = sorts[0]  # HubSpot honours one sort rule
    if isinstance(rule, str):
        name, descending = rule.lstrip("-"), rule.startswith("-")
    else:
        name = str(rule.get("propertyName"))
        descending = str(rule.get("direction", "ASCENDING")).upper() == "DESCENDING"
    prop = defs.get(name)
    present = [m for m in matched if m[1].get(name) is not None]
    absent = [m for m in matched if m[1].get(name) is None]
    present.sort(key=lambda m: _SortKey(_key(prop, m[1][name])), reverse=descending)
    matched[:] = present + absent


class _SortKey:
    __slots__ = ("value",)

    def __init__(self, value: Decimal | str) -> None:
        self.value = value

    def __lt__(self, other: _SortKey) -> bool:
        return _compare(self.value, other.value) < 0


def _filter_by_text(
    matched: list[tuple[str, Mapping[str, str]]], query: object, fields: Sequence[str]
) -> None:
    if not query:
        return
    needle = str(query).casefold()
    matched[:] = [
        m for m in matched if any(needle in (m[1].get(f) or "").casefold() for f in fields)
    ]


def _search_result(
    company_id: str, props: Mapping[str, str], names: Sequence[str], kind: ObjectKind
) -> dict[str, Any]:
    return {
        "id": company_id,
        "properties": project(props, names, kind),
        "createdAt": props.get("createdate", ""),
        "updatedAt": props.get(kind.modified, ""),
        "archived": False,
    }
