"""The AFAS Profit gateway: debtors and creditors through GetConnectors and UpdateConnectors.

Everything AFAS-specific that the mapping does not say is decided here; the HTTP work
(auth, fair use, retries, error translation) is :mod:`syncd.gateways.afas.client`'s,
time zones are :mod:`syncd.gateways.afas.profit_time`'s, request bodies
:mod:`syncd.gateways.afas.payload`'s.

Reading (``[afas]`` of a mapping names the connector and its fields):

* ``changed_since`` filters the GetConnector on the modification date (operator 2,
  ``>=``) from one second before ``since`` in Amsterdam wall time, sorted on the date and
  the key. AFAS shows whole seconds but stores fractions, so a page is only trusted up to
  the second *before* the last row's second; the next page starts one second before that
  last second, so it reads the last second again whole (a few rows re-read, dropped if
  already handed out, rather than a request of its own). Only when one second fills a
  page is it read on its own, keyset-paged on the key (``key > last``) between one second
  before and after it. So any number of records sharing a second is read completely, no
  record is handed out twice and there are no gaps, even while records change between
  pages (a changed record moves to the end and may be listed twice, which the engine
  allows).
* ``list_all`` keyset-pages on the key; ``read`` and ``find_by_correlation`` make one
  filtered call (``key = a;b;c``) per chunk of values that fits AFAS's 2049-character
  query; ``find_by_values`` compares canonical values over a full sweep (a server-side
  filter would compare raw, unnormalised text).
* Rows with any of the ``inactive`` fields true (blocked completely, blocked for
  delivery or payment...) are never listed: Profit has several such flags.

Writing: ``create`` POSTs the relation with a new organisation (``MatchOga`` 6,
``AutoNum`` as configured) and the correlation key at ``correlation_update``;
``create_beside`` POSTs it under the organisation of a relation of another entity
(``MatchOga`` 0 with that relation's organisation number, read from its GetConnector's
``organisation`` field): the debtor and the creditor of one company share it;
``update`` PUTs only the given fields, finding the organisation through the relation
(``MatchOga`` 9) and dating an address change today (``BeginDate``); ``deactivate`` PUTs
``deactivate_update`` = true (customers are blocked, never deleted). After a write the
record is read back, so the engine sees it as stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from syncd.config import GatewaySettings, Secret
from syncd.errors import (
    ConfigError,
    GatewayError,
    OutcomeUnknownError,
    PermanentError,
    Problem,
    RecordError,
)
from syncd.gateways.afas.client import (
    QUERY_LIMIT,
    AfasClient,
    Limits,
    OAuthClient,
    RetryPolicy,
    base_url,
    encode_query,
)
from syncd.gateways.afas.payload import connector_payload
from syncd.gateways.afas.profit_time import (
    AMSTERDAM,
    earliest_utc,
    filter_floor,
    filter_value,
    latest_utc,
    parse_local,
)
from syncd.gateways.base import BatchOutcome
from syncd.gateways.http.pages_ahead import read_ahead, side_by_side
from syncd.gateways.http.tls import ca_bundle
from syncd.mapping import EntityMapping, SideSpec, describe, mapping_of
from syncd.records import Page, Record, RejectedRecord, Side, Value

__all__ = ["AfasGateway", "WriteOptions", "build_afas_gateway"]

Row = Mapping[str, Any]
Terms = list[tuple[str, int, str]]  # AND-ed (field, operator, value)

EQUAL, AT_LEAST, GREATER, LESS = 1, 2, 4, 5
_SECOND = timedelta(seconds=1)
_RELATION_FLAGS = {"KnSalesRelationOrg": "IsDb", "KnPurchaseRelationOrg": "IsCr"}


@dataclass(frozen=True)
class WriteOptions:
    """How new relations are made (the administrator's choices, see docs/afas-setup.md)."""

    currency: str = "EUR"
    autonum: bool = True  # let Profit number the organisation


@dataclass(frozen=True)
class _Entry:
    wall: datetime | None  # the row's modification time as shown (Amsterdam wall time)
    id: str
    row: Row


class AfasGateway:
    """The AFAS side of a connection, for every entity of the mappings."""

    def __init__(
        self,
        client: AfasClient,
        mappings: Mapping[str, EntityMapping],
        *,
        page_size: int = 500,
        write: WriteOptions | None = None,
        today: Callable[[], date] | None = None,
    ) -> None:
        if page_size < 2:
            raise ValueError("page_size must be at least 2")
        self.client = client
        self._mappings = dict(mappings)
        self.page_size = page_size
        self.write = write or WriteOptions()
        self._today = today or (lambda: datetime.now(AMSTERDAM).date())

    @property
    def side(self) -> Side:
        return Side.AFAS

    @property
    def requests_sent(self) -> int:
        return self.client.requests_sent

    @property
    def outcome_window(self) -> timedelta:
        """How long after it reached Profit a write may still be saved: Profit goes on
        with a write whose caller gave up or died, until its own limit stops it."""
        return timedelta(seconds=self.client.limits.server_timeout)

    # -- reading ----------------------------------------------------------------------

    async def changed_since(self, entity: str, since: datetime | None) -> AsyncIterator[Page]:
        spec = self._spec(entity)
        cursor: datetime | None = None  # every second before it is handed out
        lower = filter_floor(since) if since is not None else None
        while True:
            floor = cursor - _SECOND if cursor is not None else lower
            terms = [(spec.modified, AT_LEAST, filter_value(floor))] if floor else []
            rows = await self._rows(entity, [terms] if terms else [], [spec.modified, spec.id])
            entries = [self._entry(entity, row) for row in rows]
            if cursor is None:
                undated = [e for e in entries if e.wall is None]
                if undated:
                    yield self._convert(entity, [e.row for e in undated])
            keep = [e for e in entries if self._wanted(e, cursor, since)]
            if len(rows) < self.page_size:
                if keep:
                    yield self._convert(entity, [e.row for e in _ordered(keep)])
                return
            last = max((e.wall for e in entries if e.wall is not None), default=None)
            if last is None:
                raise PermanentError(f"AFAS {spec.options['get_connector']}: no dates on a page")
            done = [e for e in keep if e.wall is not None and e.wall < last]
            if done:
                # The last second may go on past the page: the next page starts a second
                # before it (fractions), re-reading a few rows instead of a request.
                yield self._convert(entity, [e.row for e in _ordered(done)])
                cursor = last
                continue
            # Nothing new but the last second: it fills the page on its own.
            second = last if cursor is None else max(last, cursor)
            async for page in self._second(entity, second, since):
                yield page
            cursor = second + _SECOND

    async def _second(
        self, entity: str, second: datetime, since: datetime | None
    ) -> AsyncIterator[Page]:
        """Every row shown with modification time ``second``, keyset-paged on the key."""
        spec = self._spec(entity)
        after: str | None = None
        while True:
            terms: Terms = [
                (spec.modified, AT_LEAST, filter_value(second - _SECOND)),
                (spec.modified, LESS, filter_value(second + _SECOND)),
            ]
            if after is not None:
                terms.append((spec.id, GREATER, after))
            rows = await self._rows(entity, [terms], [spec.id])
            entries = [self._entry(entity, row) for row in rows]
            keep = [e for e in entries if e.wall == second and self._wanted(e, None, since)]
            if keep:
                yield self._convert(entity, [e.row for e in _ordered(keep)])
            if len(rows) < self.page_size:
                return
            after = entries[-1].id

    async def list_all(self, entity: str) -> AsyncIterator[Page]:
        spec = self._spec(entity)

        def following(rows: list[Row]) -> Awaitable[list[Row]] | None:
            if len(rows) < self.page_size:
                return None
            return self._rows(entity, [[(spec.id, GREATER, str(rows[-1][spec.id]))]], [spec.id])

        async for rows in read_ahead(self._rows(entity, [], [spec.id]), following):
            page = self._convert(entity, rows)
            if page.records or page.rejected:
                yield page

    async def read(self, entity: str, ids: Sequence[str]) -> Page:
        spec = self._spec(entity)
        wanted = list(dict.fromkeys(i for i in ids if i and not _has_separator(i)))
        rows = await self._rows_where(entity, spec.id, wanted)
        by_id = {str(row[spec.id]): row for row in rows}
        return self._convert(entity, [by_id[i] for i in wanted if i in by_id])

    async def find_by_correlation(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        spec = self._spec(entity)
        wanted = list(dict.fromkeys(k for k in keys if k and not _has_separator(k)))
        rows = await self._rows_where(entity, spec.correlation, wanted)
        found: dict[str, Record] = {}
        for record in sorted(self._convert(entity, rows).records, key=lambda r: r.id):
            if record.correlation in wanted and record.correlation not in found:
                found[record.correlation] = record
        return found

    async def find_by_values(self, entity: str, field: str, values: Sequence[str]) -> list[Record]:
        self._mapping(entity).field(field)  # an unknown field is the caller's mistake
        wanted = set(values)
        if not wanted:
            return []
        found: list[Record] = []
        async for page in self.list_all(entity):
            found.extend(r for r in page.records if r.fields.get(field) in wanted)
        return found

    # -- writing ----------------------------------------------------------------------

    async def create(self, entity: str, fields: Mapping[str, Value], correlation: str) -> Record:
        return await self._stored(entity, await self._post(entity, fields, correlation))

    async def update(
        self,
        entity: str,
        record_id: str,
        fields: Mapping[str, Value],
        correlation: str | None = None,
    ) -> Record:
        await self._put(entity, record_id, fields, correlation)
        return await self._stored(entity, record_id)

    async def create_batch(
        self, entity: str, items: Sequence[tuple[Mapping[str, Value], str]]
    ) -> list[BatchOutcome]:
        """Create (fields, correlation) items: one POST each (UpdateConnectors take one
        record a request), sent side by side up to the client's concurrency, then read
        back together (one GetConnector call per chunk of keys, not one per record)."""
        return await self.create_beside(entity, items, {})

    async def create_beside(
        self,
        entity: str,
        items: Sequence[tuple[Mapping[str, Value], str]],
        beside: Mapping[str, tuple[str, str]],
    ) -> list[BatchOutcome]:
        """:meth:`create_batch`, each item whose correlation ``beside`` names (with an
        entity and a relation of it) under that relation's organisation: a company's
        debtor and creditor are one organisation. A relation that is gone leaves its
        item to a new organisation."""
        organisations = await self._organisations(beside)
        writes = [
            self._post(entity, fields, correlation, organisations.get(correlation))
            for fields, correlation in items
        ]
        return await self._read_back(entity, await _side_by_side(writes))

    async def _organisations(self, beside: Mapping[str, tuple[str, str]]) -> dict[str, str]:
        """The organisation number of each relation ``beside`` names, by its key."""
        by_entity: dict[str, list[str]] = {}
        for entity, relation in beside.values():
            by_entity.setdefault(entity, []).append(relation)
        numbers: dict[tuple[str, str], str] = {}
        for entity, relations in by_entity.items():
            spec = self._spec(entity)
            for row in await self._rows_where(entity, spec.id, relations):
                number = row.get(spec.options["organisation"])
                if isinstance(number, str | int) and str(number).strip():
                    numbers[(entity, str(row[spec.id]))] = str(number)
        return {key: numbers[at] for key, at in beside.items() if at in numbers}

    async def relations_beside(
        self, entity: str, ids: Sequence[str], sibling: str
    ) -> dict[str, str]:
        """Per relation of ``entity`` among ``ids``, an active relation of ``sibling``
        under the same organisation (the creditor of a debtor's organisation)."""
        spec, other = self._spec(entity), self._spec(sibling)
        rows = await self._rows_where(entity, spec.id, [i for i in ids if i])
        field = other.options["organisation"]
        organisation_of = {str(r[spec.id]): str(r.get(spec.options["organisation"])) for r in rows}
        wanted = sorted({o for o in organisation_of.values() if o not in ("", "None")})
        beside = {
            str(row.get(field)): str(row[other.id])
            for row in await self._rows_where(sibling, field, wanted)
            if not self._blocked(sibling, row)
        }
        return {i: beside[o] for i, o in organisation_of.items() if o in beside}

    async def update_batch(
        self, entity: str, items: Sequence[tuple[str, Mapping[str, Value], str | None]]
    ) -> list[BatchOutcome]:
        """Partial updates of (id, fields, correlation or None), as :meth:`create_batch`."""
        writes = [self._put(entity, *item) for item in items]
        return await self._read_back(entity, await _side_by_side(writes))

    async def _post(
        self,
        entity: str,
        fields: Mapping[str, Value],
        correlation: str,
        organisation: str | None = None,
    ) -> str:
        """Create one relation (under ``organisation``, if given); its number."""
        spec = self._spec(entity)
        connector, key = spec.options["update_connector"], spec.options["update_key"]
        values = self._native(entity, fields)
        values[spec.options["correlation_update"]] = correlation
        defaults = self._create_defaults(connector, organisation)
        body = connector_payload(connector, values, defaults=defaults, always=["KnOrganisation"])
        answer = await self.client.post(f"connectors/{connector}", body)
        return _created_key(answer, connector, key)

    async def _put(
        self, entity: str, record_id: str, fields: Mapping[str, Value], correlation: str | None
    ) -> str:
        """Update one relation; its number."""
        spec = self._spec(entity)
        connector, key = spec.options["update_connector"], spec.options["update_key"]
        values = self._native(entity, fields)
        if correlation is not None:
            values[spec.options["correlation_update"]] = correlation
        body = connector_payload(
            connector, values, key=(key, record_id), defaults=self._update_defaults()
        )
        await self.client.put(f"connectors/{connector}", body)
        return record_id

    async def _read_back(
        self, entity: str, written: Sequence[str | RecordError]
    ) -> list[BatchOutcome]:
        """Each written relation as stored (or why it cannot be), in ``written``'s order."""
        page = await self.read(entity, [w for w in written if isinstance(w, str)])
        stored = {r.id: r for r in page.records}
        rejected = {r.id: r for r in page.rejected}
        return [
            w if isinstance(w, RecordError) else stored.get(w) or _unreadable(entity, w, rejected)
            for w in written
        ]

    async def deactivate(self, entity: str, record_id: str) -> None:
        spec = self._spec(entity)
        connector, key = spec.options["update_connector"], spec.options["update_key"]
        body = connector_payload(
            connector, {spec.options["deactivate_update"]: True}, key=(key, record_id)
        )
        await self.client.put(f"connectors/{connector}", body)

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- checking the environment -------------------------------------------------------

    async def verify(self) -> list[str]:
        """What the environment lacks for the mappings, one sentence each (empty: all there).

        Asks ``/metainfo`` which connectors the app connector offers and
        ``/metainfo/get/{id}`` which fields each GetConnector has; for ``syncd check``.
        """
        meta = await self.client.get("metainfo")
        offered = {
            kind: {str(c.get("id")) for c in meta.get(kind, []) if isinstance(c, dict)}
            for kind in ("getConnectors", "updateConnectors")
        }
        problems: list[str] = []
        for entity, mapping in self._mappings.items():
            spec = mapping.afas
            get, update = spec.options["get_connector"], spec.options["update_connector"]
            if update not in offered["updateConnectors"]:
                problems.append(f"{entity}: the app connector lacks UpdateConnector {update}")
            if get not in offered["getConnectors"]:
                problems.append(f"{entity}: the app connector lacks GetConnector {get}")
                continue
            fields = await self.client.get(f"metainfo/get/{get}")
            have = {str(f.get("id")) for f in fields.get("fields", []) if isinstance(f, dict)}
            wanted = [spec.id, spec.modified, spec.correlation, *spec.inactive, *spec.inactive_from]
            wanted.append(spec.options["organisation"])
            wanted += [name for f in mapping.fields for name in f.native_names(Side.AFAS)]
            missing = [name for name in wanted if name not in have]
            if missing:
                problems.append(f"{entity}: GetConnector {get} lacks {', '.join(missing)}")
        return problems

    # -- internals --------------------------------------------------------------------

    def _mapping(self, entity: str) -> EntityMapping:
        return mapping_of(self._mappings, entity)

    def _spec(self, entity: str) -> SideSpec:
        return self._mapping(entity).afas

    async def _rows(self, entity: str, groups: list[Terms], order: Sequence[str]) -> list[Row]:
        """One page (``page_size`` rows) of the entity's GetConnector."""
        spec = self._spec(entity)
        params = [("skip", "0"), ("take", str(self.page_size))]
        params += _filter_params(groups)
        params.append(("orderbyfieldids", ",".join(order)))
        answer = await self.client.get(f"connectors/{spec.options['get_connector']}", params)
        return _rows_of(answer, spec.options["get_connector"], spec.id)

    async def _rows_where(self, entity: str, field: str, values: Sequence[str]) -> list[Row]:
        """Every row whose ``field`` equals one of ``values``: one call per chunk, the
        calls side by side (the client keeps them within the fair-use concurrency)."""
        spec = self._spec(entity)
        connector = spec.options["get_connector"]

        async def rows_of(chunk: list[str]) -> list[Row]:
            groups = [[(field, EQUAL, value)] for value in chunk]
            params = [("skip", "0"), ("take", str(self.page_size)), *_filter_params(groups)]
            params.append(("orderbyfieldids", spec.id))
            answer = await self.client.get(f"connectors/{connector}", params)
            return _rows_of(answer, connector, spec.id)

        chunks = _chunks(field, values, self.page_size)
        return [row for rows in await side_by_side(map(rows_of, chunks)) for row in rows]

    def _entry(self, entity: str, row: Row) -> _Entry:
        spec = self._spec(entity)
        return _Entry(parse_local(row.get(spec.modified)), str(row.get(spec.id)), row)

    @staticmethod
    def _wanted(entry: _Entry, cursor: datetime | None, since: datetime | None) -> bool:
        if entry.wall is None:
            return False
        if cursor is not None and entry.wall < cursor:
            return False
        return since is None or latest_utc(entry.wall) >= since

    def _blocked(self, entity: str, row: Row) -> bool:
        spec = self._spec(entity)
        if any(_flag(row.get(flag)) is True for flag in spec.inactive):
            return True
        today = self._today()  # Amsterdam's day, as Profit's dates are
        return any(_ended(row.get(end), today) is True for end in spec.inactive_from)

    def _convert(self, entity: str, rows: Sequence[Row]) -> Page:
        return Page.of(self._to_record(entity, r) for r in rows if not self._blocked(entity, r))

    def _to_record(self, entity: str, row: Row) -> Record | RejectedRecord:
        spec = self._spec(entity)
        record_id = str(row.get(spec.id))
        for inactive in spec.inactive:
            if _flag(row.get(inactive)) is None:
                # Neither blocked nor not: taking it for blocked would look like a delete.
                shown = str(row.get(inactive))[:60]
                message = f"field {inactive!r}: {shown!r} is not true or false"
                return RejectedRecord(record_id, message, inactive)
        for end in spec.inactive_from:
            if _ended(row.get(end), self._today()) is None:
                shown = str(row.get(end))[:60]
                return RejectedRecord(record_id, f"field {end!r}: {shown!r} is not a date", end)
        wall = parse_local(row.get(spec.modified))
        if wall is None:
            shown = str(row.get(spec.modified))[:60]
            message = f"field {spec.modified!r}: {shown!r} is not an AFAS date and time"
            return RejectedRecord(record_id, message, spec.modified)
        return self._mapping(entity).record(Side.AFAS, record_id, row, earliest_utc(wall))

    def _native(self, entity: str, fields: Mapping[str, Value]) -> dict[str, object]:
        """Canonical values by UpdateConnector path (RecordError if one cannot be written)."""
        mapping = self._mapping(entity)
        native: dict[str, object] = {}
        for name, value in fields.items():
            native.update(mapping.field(name).updates(value))
        return native

    def _create_defaults(
        self, connector: str, organisation: str | None
    ) -> dict[str, Mapping[str, object]]:
        relation: dict[str, object] = {"CuId": self.write.currency}
        flag = _RELATION_FLAGS.get(connector)
        if flag is not None:
            relation[flag] = True
        if organisation is None:  # always a new organisation (never one found by KvK)
            new = {"PadAdr": True, "AutoNum": self.write.autonum, "MatchOga": "6"}
            return {"": relation, "KnOrganisation": new}
        # The existing organisation takes the company's values as they are now; its
        # address changes as of today, as in an update (Profit keeps its history).
        existing = {"PadAdr": True, "MatchOga": "0", "BcCo": organisation}
        address = {"BeginDate": self._today().isoformat()}
        return {
            "": relation,
            "KnOrganisation": existing,
            "KnOrganisation.KnBasicAddressAdr": address,
        }

    def _update_defaults(self) -> dict[str, Mapping[str, object]]:
        return {
            "KnOrganisation": {"MatchOga": "9"},
            "KnOrganisation.KnBasicAddressAdr": {"BeginDate": self._today().isoformat()},
        }

    async def _stored(self, entity: str, record_id: str) -> Record:
        [outcome] = await self._read_back(entity, [record_id])
        if isinstance(outcome, RecordError):
            raise outcome
        return outcome


def _unreadable(entity: str, record_id: str, rejected: Mapping[str, RejectedRecord]) -> RecordError:
    """Why a relation just written cannot be returned as stored."""
    bad = rejected.get(record_id)
    if bad is not None:
        return RecordError(bad.message, field=bad.field, reference=record_id)
    message = f"AFAS {entity} {record_id} was written but is blocked or gone"
    return RecordError(message, reference=record_id)


async def _side_by_side(writes: Sequence[Awaitable[str]]) -> list[str | RecordError]:
    """Run independent writes at once: each one's key, or the RecordError refusing it.

    An error of a whole request is raised as it is when nothing was written, and as
    OutcomeUnknownError when some writes went through, so that every intent stays
    pending and is settled by a lookup (the engine's recovery), never repeated blindly.
    """
    results = await asyncio.gather(*writes, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException) and not isinstance(r, RecordError)]
    if failed:
        if not any(isinstance(r, str) for r in results) and isinstance(failed[0], GatewayError):
            raise failed[0]
        if isinstance(failed[0], GatewayError):
            written = sum(isinstance(r, str) for r in results)
            raise OutcomeUnknownError(
                f"{written} of {len(results)} AFAS writes went through, then: {failed[0]}"
            ) from failed[0]
        raise failed[0]
    return [r for r in results if isinstance(r, str | RecordError)]


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


_TRUE = (True, 1, "true", "1")
_FALSE = (None, False, 0, "", "false", "0")


def _flag(value: object) -> bool | None:
    """A GetConnector yes/no field: True, False, or None when it is neither."""
    if isinstance(value, bool | int | str | None) and value in _TRUE:
        return True
    if isinstance(value, bool | int | str | None) and value in _FALSE:
        return False
    return None


def _ended(value: object, today: date) -> bool | None:
    """A GetConnector end date: True from that day on, False when blank or later, None
    when it is neither a date nor blank."""
    if value is None or value == "":
        return False
    wall = parse_local(value)
    return None if wall is None else wall.date() <= today


def _ordered(entries: Sequence[_Entry]) -> list[_Entry]:
    return sorted(entries, key=lambda e: (e.wall or datetime.min, e.id))


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


def _has_separator(value: str) -> bool:
    """AFAS filter lists cannot carry a value with ``,`` or ``;`` in it."""
    return "," in value or ";" in value


def _created_key(answer: object, connector: str, key: str) -> str:
    results = answer.get("results") if isinstance(answer, dict) else None
    keys = results.get(connector) if isinstance(results, dict) else None
    if isinstance(keys, list) and keys:
        keys = keys[0]
    number = keys.get(key) if isinstance(keys, dict) else None
    if number in (None, ""):
        raise OutcomeUnknownError(
            f"AFAS accepted the new {connector} but did not say its {key}; look it up by "
            "its correlation key"
        )
    return str(number)


# -- building from config.toml ----------------------------------------------------------


def build_afas_gateway(
    settings: GatewaySettings, side: Side, mappings: Mapping[str, EntityMapping]
) -> AfasGateway:
    """The gateway for ``afas = { kind = "afas", ... }`` (options in :mod:`syncd.config`).

    Raises :class:`ConfigError` with every problem of the options at once.
    """
    options = settings.options
    problems: list[Problem] = []
    if side is not Side.AFAS:
        problems.append(_problem("kind", "the afas gateway serves the afas side only"))
    url = _url(options, problems)
    token, oauth = _credentials(options, problems)
    concurrency = int(str(options.get("concurrency", 5)))
    if not 1 <= concurrency <= 8:
        problems.append(
            _problem("concurrency", f"{concurrency} is out of range; AFAS allows 1 to 8 at once")
        )
    if problems:
        raise ConfigError(problems)
    rate = options.get("rate")
    limits = Limits(
        concurrency=concurrency,
        rate=float(str(rate)) if rate is not None else None,
        read_timeout=float(str(options.get("read_timeout", 900.0))),
        write_timeout=float(str(options.get("write_timeout", 300.0))),
        server_timeout=float(str(options.get("server_timeout", 900.0))),
        ca_bundle=ca_bundle(options),
    )
    client = AfasClient(str(url), token=token, oauth=oauth, limits=limits, retry=RetryPolicy())
    write = WriteOptions(
        currency=str(options.get("currency", "EUR")),
        autonum=bool(options.get("autonum", True)),
    )
    page_size = int(str(options.get("page_size", 500)))
    return AfasGateway(client, mappings, page_size=page_size, write=write)


def _problem(key: str, message: str) -> Problem:
    return Problem("config.toml", f"afas.{key}", message)


def _url(options: Mapping[str, object], problems: list[Problem]) -> str | None:
    """``base_url``, or the URL of ``environment`` and ``environment_type``."""
    if options.get("base_url") is not None:
        return str(options["base_url"])
    environment = options.get("environment")
    if environment is None:
        problems.append(_problem("environment", "set the environment number, or base_url"))
        return None
    try:
        return base_url(str(environment), str(options.get("environment_type", "production")))
    except ValueError as exc:
        problems.append(_problem("environment_type", str(exc)))
        return None


def _credentials(
    options: Mapping[str, object], problems: list[Problem]
) -> tuple[str | None, OAuthClient | None]:
    """The classic token, or OAuth client credentials: exactly one of them."""
    token = options.get("token")
    client_id, secret = options.get("oauth_client_id"), options.get("oauth_client_secret")
    oauth = None
    if client_id is not None or secret is not None:
        if not isinstance(secret, Secret) or client_id is None:
            message = "give oauth_client_id and oauth_client_secret together"
            problems.append(_problem("oauth_client_secret", message))
            return None, None
        oauth = OAuthClient(str(client_id), secret.value)
    if (token is None) == (oauth is None):
        message = "give either token (an environment variable) or OAuth client credentials"
        problems.append(_problem("token", message))
    return (token.value if isinstance(token, Secret) else None), oauth
