"""GetConnector requests: one page of rows, filtered and ordered, and the rows whose field
holds one of many values, in as few calls as AFAS's query limit allows.

AFAS filters are AND-ed terms (field, operator, value) within a group and OR-ed groups;
the lists travel as ``,``- and ``;``-separated query parameters, so a value holding one
of those characters cannot be asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

from syncd.errors import PermanentError
from syncd.gateways.afas.client import QUERY_LIMIT, AfasClient, encode_query
from syncd.gateways.afas.relations import RelationMapping, Row
from syncd.gateways.http.pages_ahead import side_by_side
from syncd.problems.report import describe

__all__ = ["AT_LEAST", "EQUAL", "GREATER", "LESS", "GetConnector", "Terms", "has_separator"]

Terms = list[tuple[str, int, str]]  # AND-ed (field, operator, value)

EQUAL, AT_LEAST, GREATER, LESS = 1, 2, 4, 5


class GetConnector:
    """The GetConnector of each entity, ``page_size`` rows a call."""

    def __init__(self, client: AfasClient, relations: RelationMapping, page_size: int) -> None:
        self._client = client
        self._relations = relations
        self.page_size = page_size

    async def rows(self, entity: str, groups: list[Terms], order: Sequence[str]) -> list[Row]:
        """One page (``page_size`` rows) of the entity's GetConnector."""
        spec = self._relations.spec(entity)
        params = [("skip", "0"), ("take", str(self.page_size))]
        params += _filter_params(groups)
        params.append(("orderbyfieldids", ",".join(order)))
        answer = await self._client.get(f"connectors/{spec.options['get_connector']}", params)
        return _rows_of(answer, spec.options["get_connector"], spec.id)

    async def rows_where(self, entity: str, field: str, values: Sequence[str]) -> list[Row]:
        """Every row whose ``field`` equals one of ``values``: one call per chunk, the
        calls side by side (the client keeps them within the fair-use concurrency)."""
        spec = self._relations.spec(entity)
        connector = spec.options["get_connector"]

        async def rows_of(chunk: list[str]) -> list[Row]:
            groups = [[(field, EQUAL, value)] for value in chunk]
            params = [("skip", "0"), ("take", str(self.page_size)), *_filter_params(groups)]
            params.append(("orderbyfieldids", spec.id))
            answer = await self._client.get(f"connectors/{connector}", params)
            return _rows_of(answer, connector, spec.id)

        chunks = _chunks(field, values, self.page_size)
        return [row for rows in await side_by_side(map(rows_of, chunks)) for row in rows]


def has_separator(value: str) -> bool:
    """AFAS filter lists cannot carry a value with ``,`` or ``;`` in it."""
    return "," in value or ";" in value


def _rows_of(answer: object, connector: str, key: str) -> list[Row]:
    """The rows of a GetConnector answer, each with its key; PermanentError otherwise.

    A row without a usable key cannot be synced, nor quarantined by its id: the page
    is refused as a whole, so nothing is skipped unseen (the cursor stays where it was).
    """
    rows = answer.get("rows") if isinstance(answer, dict) else None
    if not isinstance(rows, list):
        raise PermanentError(
            f"AFAS {connector}: the answer is {describe(answer)} without a list of rows; "
            "is it a GetConnector?"
        )
    for position, row in enumerate(rows):
        value = row.get(key) if isinstance(row, dict) else None
        if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
            shown = f"{key} {describe(value)}" if isinstance(row, dict) else describe(row)
            raise PermanentError(
                f"AFAS {connector}: row {position} of the answer has no usable {key} "
                f"(it has {shown}); check that the GetConnector shows {key} on every row"
            )
    return rows


def _filter_params(groups: Sequence[Terms]) -> list[tuple[str, str]]:
    if not groups:
        return []
    return [
        ("filterfieldids", ";".join(",".join(t[0] for t in g) for g in groups)),
        ("filtervalues", ";".join(",".join(t[2] for t in g) for g in groups)),
        ("operatortypes", ";".join(",".join(str(t[1]) for t in g) for g in groups)),
    ]


def _chunks(field: str, values: Sequence[str], most: int) -> list[list[str]]:
    """``values`` in chunks whose OR-filter query stays within AFAS's query limit."""
    base = len(encode_query([("skip", "0"), ("take", str(most)), ("orderbyfieldids", field)]))
    budget = QUERY_LIMIT - 1 - base - len("&filterfieldids=&filtervalues=&operatortypes=")
    chunks: list[list[str]] = []
    chunk: list[str] = []
    used = 0
    for value in values:
        cost = len(encode_query([("", f"{field};")])) + len(encode_query([("", f"{value};")]))
        cost += len(encode_query([("", "1;")])) - 3
        if chunk and (used + cost > budget or len(chunk) >= most):
            chunks.append(chunk)
            chunk, used = [], 0
        if cost > budget:
            raise ValueError(f"the value {value[:40]!r}... is too long for an AFAS filter")
        chunk.append(value)
        used += cost
    if chunk:
        chunks.append(chunk)
    return chunks
