"""The HubSpot gateway: companies as the CRM side of customers and suppliers.

Terminology: a *company* is a HubSpot object; it is a *customer* or a *supplier* (or both)
when its role property (the mapping's ``role_property``) says so: a multiple checkbox
with the entity's ``role_value`` ticked, or a single select holding one of the options
``role_options`` gives the role (:mod:`syncd.roles`). Without a role property every
company belongs to the entity.

How the Gateway contract is met (:mod:`syncd.gateways.base`):

* ``changed_since`` searches ``hs_lastmodifieddate`` in ``[since, now - settle]`` for
  companies with the role, keyset-paged on ``hs_object_id`` (``GT`` the last id seen,
  sorted ascending, never an offset) so neither the 10,000-result cap of search nor any
  number of equal timestamps can lose or repeat a record. The window is read in slices of
  at most ``slice_size`` companies (a crowded slice is cut around a sampled time), each
  handed out a search page at a time as it comes, the page in ascending (modified, id)
  order. HubSpot's search lags behind writes; the ``settle`` margin keeps the newest,
  maybe not yet visible, seconds for a later cycle: the engine's cursor only advances to
  the newest record it has seen. But a company written within the lag may still show
  its *earlier* version there (old values, old ``hs_lastmodifieddate``), whatever the
  window: the pages are ``hints_only``, and the engine reads what it decides on by id.
* ``list_all`` pages the list endpoint (archived companies are not listed); the
  companies without the role, which the list shows too, come along by their match keys
  (``Page.others``), so a first sync needs no look-up to adopt one;
  ``read`` and ``find_by_correlation`` use ``batch/read`` (by id, or by the unique
  correlation property as ``idProperty``), which, unlike search, does not lag.
  ``find_by_values`` searches (``IN``) and compares canonical values.
* ``create`` writes the correlation key and the role; ``update`` is a partial ``PATCH``
  read back whole (``update_batch`` is not read back: its outcomes are the fields its
  answer carries); ``deactivate`` takes the entity's role off a company that keeps
  another role, archives it otherwise, and refuses a merged-away id (its survivor may be
  linked to another record).
* Before any write, the values are checked against the portal's property definitions
  (read once): a bad value is a RecordError naming the canonical field and the property.

Besides the protocol (it is a ``BatchGateway``): :meth:`HubSpotGateway.create_batch`,
:meth:`~HubSpotGateway.update_batch` and :meth:`~HubSpotGateway.upsert_batch` write 100
companies per request and split a 207 into per-record outcomes;
:meth:`~HubSpotGateway.list_archived` is the ``archived=true`` sweep for deletes;
:meth:`~HubSpotGateway.merged_into` tells which ids were merged into which survivor;
:meth:`~HubSpotGateway.adopt` gives an existing company a second role;
:meth:`~HubSpotGateway.start` checks the portal's property definitions;
:meth:`~HubSpotGateway.status` reports the daily request budget.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from syncd.errors import (
    ConfigError,
    GatewayError,
    OutcomeUnknownError,
    PermanentError,
    Problem,
    RecordError,
)
from syncd.gateways.http.pages_ahead import read_ahead, side_by_side
from syncd.gateways.http.tls import ca_bundle
from syncd.gateways.hubspot.client import (
    ClientSettings,
    HubSpotClient,
    NotFound,
    Reply,
    property_named,
)
from syncd.gateways.hubspot.properties import PropertySchema, to_text
from syncd.gateways.options import GatewaySettings, Secret
from syncd.mapping import EntityMapping, SideSpec, mapping_of
from syncd.problems import describe
from syncd.records import Page, Record, RejectedRecord, Side, Value
from syncd.roles import CompanyRole

__all__ = ["BatchOutcome", "HubSpotGateway", "build_hubspot"]

BATCH_SIZE = 100
"""Inputs per batch request (HubSpot's limit)."""
SEARCH_PAGE = 200
LIST_PAGE = 100
MERGED_IDS = "hs_merged_object_ids"

BatchOutcome = Record | RecordError
"""One item of a batch write: the record as stored (an update's: the fields its answer
carries), or why HubSpot refused it (the same type as
:data:`syncd.gateways.base.BatchOutcome`). An error of a whole request is raised."""

SLICE_SIZE = 20_000
"""Most companies changed_since holds in memory at once as HubSpot sent them (about 50 MB;
but see _window). A bigger window costs extra requests to cut: the cycle after a first
sync of 10,000 companies each way still reads its window in one slice."""

_T = TypeVar("_T")
JsonObject = dict[str, Any]


class _Crowded(Exception):
    """A search window holds more companies than we want to hold at once."""

    def __init__(self, sample: list[JsonObject]) -> None:
        super().__init__("crowded")
        self.sample = sample


class HubSpotGateway:
    """The CRM side of a connection, on one HubSpot portal."""

    def __init__(
        self,
        token: str,
        mappings: Mapping[str, EntityMapping],
        settings: ClientSettings | None = None,
        *,
        settle_seconds: float = 60.0,
        page_size: int = LIST_PAGE,
    ) -> None:
        if not 1 <= page_size <= LIST_PAGE:
            raise ValueError(f"page_size must be from 1 to {LIST_PAGE}, not {page_size}")
        self._client = HubSpotClient(token, settings)
        self._mappings = dict(mappings)
        self.settle = timedelta(seconds=settle_seconds)
        self.page_size = page_size
        self.slice_size = SLICE_SIZE
        self._schemas: dict[str, PropertySchema] = {}
        self._schema_lock: asyncio.Lock | None = None

    # -- lifecycle and status -------------------------------------------------------------

    @property
    def side(self) -> Side:
        return Side.CRM

    async def start(self) -> None:
        """Read the property definitions and check the mapped properties exist.

        PermanentError listing every missing or unfit property (run it at start; writes
        would otherwise read the definitions on first use). Each call reads them afresh:
        the daemon calls it again after a failure, once the operator may have fixed the
        portal.
        """
        self._schemas.clear()
        problems: list[str] = []
        for entity in self._mappings:
            schema = await self._schema(entity)
            spec = self._spec(entity)
            missing = schema.missing(self._names(entity))
            problems += [f"{entity}: the portal has no company property {n!r}" for n in missing]
            correlation = schema.definitions.get(spec.correlation)
            if correlation is not None and not correlation.unique:
                problems.append(
                    f"{entity}: {spec.correlation!r} must have unique values on ('hasUniqueValue')"
                )
            problems += [f"{entity}: {p}" for p in _role_problems(self._role(entity), schema)]
        if problems:
            raise PermanentError("HubSpot portal is not ready for syncd: " + "; ".join(problems))

    @property
    def requests_sent(self) -> int:
        return self._client.requests_sent

    def status(self) -> dict[str, object]:
        """Requests sent today against the daily budget, and throttling seen."""
        return self._client.status()

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- reading ---------------------------------------------------------------------------

    @property
    def visibility_lag(self) -> timedelta:
        """How long a new or edited company may stay invisible to search."""
        return self.settle

    async def changed_since(self, entity: str, since: datetime | None) -> AsyncIterator[Page]:
        now = datetime.now(UTC)
        upper = now - self.settle if self.settle else now + timedelta(days=1)
        if since is not None and since > upper:
            return
        low = _ms(since, up=True) if since is not None else 0
        async for window in self._window(entity, low, _ms(upper)):
            for chunk in _chunks(window, self.page_size):
                # Search may still show an earlier version of a company: hints only.
                yield dataclasses.replace(self._page(entity, chunk), hints_only=True)

    async def _window(self, entity: str, low: int, high: int) -> AsyncIterator[list[JsonObject]]:
        """Companies modified in [low, high] (epoch ms), a search page at a time, each
        ascending by (modified, id).

        The pages come by id (the search is keyset-paged on it), as HubSpot sends them:
        sorting the window whole would hold back its first changes until its last page
        came, and the engine needs no order (its cursor is the newest change seen). A
        window holding more than :attr:`slice_size` companies is cut in three around
        the median time of its first page (a sample): before, at, and after it. So memory
        stays bounded however big the backlog, and a single millisecond is never cut: its
        companies, however many share it, are keyset-paged on their ids.
        """
        if low > high:
            return
        modified = self._spec(entity).modified
        filters = [_filter(modified, "GTE", str(low)), _filter(modified, "LTE", str(high))]
        at_most = self.slice_size if high > low else None
        pages = self._search_pages(entity, filters, at_most=at_most)
        try:
            first: list[JsonObject] = await anext(pages, [])
        except _Crowded as crowded:
            times = sorted(_ms(self._sort_time(entity, obj)) for obj in crowded.sample)
            middle = min(max(times[len(times) // 2], low), high) if times else (low + high) // 2
            for part in ((low, middle - 1), (middle, middle), (middle + 1, high)):
                async for found_part in self._window(entity, *part):
                    yield found_part
            return
        if first:
            yield self._by_time(entity, first)
        async for page in pages:
            if page:
                yield self._by_time(entity, page)

    def _by_time(self, entity: str, objects: list[JsonObject]) -> list[JsonObject]:
        return sorted(objects, key=lambda obj: (self._sort_time(entity, obj), obj["id"]))

    async def list_all(self, entity: str) -> AsyncIterator[Page]:
        params = {
            "limit": str(self.page_size),
            "properties": ",".join(self._names(entity)),
            "archived": "false",
        }
        path = self._path(entity)

        def following(reply: Reply) -> Awaitable[Reply] | None:
            after = _next_after(reply.body)
            if not after:
                return None
            return self._client.call("GET", path, params={**params, "after": str(after)})

        async for reply in read_ahead(self._client.call("GET", path, params=params), following):
            page = self._listed(entity, _results(reply.body, f"GET {path}"))
            if page.records or page.rejected or page.others:
                yield page

    async def list_archived(self, entity: str) -> AsyncIterator[list[str]]:
        """Pages of the ids of archived companies with the role (the sweep for deletes)."""
        spec = self._spec(entity)
        names = [spec.id, spec.modified] + (
            [role.property_name] if (role := self._role(entity)) else []
        )
        params = {"limit": str(LIST_PAGE), "properties": ",".join(names), "archived": "true"}
        while True:
            reply = await self._client.call("GET", self._path(entity), params=params)
            results = _results(reply.body, f"GET {self._path(entity)}")
            ids = [str(o["id"]) for o in results if self._has_role(entity, o)]
            if ids:
                yield ids
            after = _next_after(reply.body)
            if not after:
                return
            params = {**params, "after": str(after)}

    async def read(self, entity: str, ids: Sequence[str]) -> Page:
        wanted = [i for i in dict.fromkeys(ids) if i.isdigit()]  # HubSpot ids are numbers
        objects = [o for o in await self._batch_read(entity, wanted) if self._has_role(entity, o)]
        page = self._page(entity, objects)
        page.moved.update(_merged(wanted, objects))
        return page

    async def merged_into(self, entity: str, ids: Sequence[str]) -> dict[str, str]:
        """Which of ``ids`` were merged away, and the id of the company each lives on in."""
        wanted = sorted({i for i in ids if i.isdigit()})
        return _merged(wanted, await self._batch_read(entity, wanted))

    async def find_by_correlation(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        spec = self._spec(entity)
        wanted = list(dict.fromkeys(k for k in keys if k))
        found: dict[str, Record] = {}
        for obj in await self._batch_read(entity, wanted, id_property=spec.correlation):
            record = self._to_record(entity, obj)
            key = _properties(obj).get(spec.correlation)
            if isinstance(record, Record) and key in wanted and self._has_role(entity, obj):
                found.setdefault(key, record)
        return found

    async def find_by_values(self, entity: str, field: str, values: Sequence[str]) -> list[Record]:
        return await self._find(entity, field, values, other_roles=False)

    async def find_in_other_roles(
        self, entity: str, field: str, values: Sequence[str]
    ) -> list[Record]:
        """Companies without the entity's role whose ``field`` is one of ``values``: a
        customer that is about to become a supplier too is one company, not two."""
        if self._role(entity) is None:
            return []
        return await self._find(entity, field, values, other_roles=True)

    async def _find(
        self, entity: str, field: str, values: Sequence[str], *, other_roles: bool
    ) -> list[Record]:
        fieldmap = self._mapping(entity).field(field)
        natives: set[str] = set()
        for value in values:
            try:
                natives.add(to_text(fieldmap.write(Side.CRM, value)))
            except RecordError:
                continue  # a value the CRM cannot hold is held by no company
        natives.discard("")
        prop = (await self._schema(entity)).definitions.get(fieldmap.crm)
        if prop is None or prop.type == "string":
            # HubSpot's search guide asks for IN values on text properties in lower case;
            # the canonical comparison below keeps the match exact.
            natives = {n.lower() for n in natives}
        wanted = set(values)
        found: dict[str, Record] = {}
        for chunk in _chunks(sorted(natives), BATCH_SIZE):
            objects = await self._search(
                entity, [_filter(fieldmap.crm, "IN", chunk)], any_role=other_roles
            )
            for obj in objects:
                if other_roles and self._has_role(entity, obj):
                    continue
                record = self._to_record(entity, obj)
                if isinstance(record, Record) and record.fields.get(field) in wanted:
                    found[record.id] = record
        return sorted(found.values(), key=lambda r: int(r.id))

    # -- writing, one record -----------------------------------------------------------------

    async def create(self, entity: str, fields: Mapping[str, Value], correlation: str) -> Record:
        values = await self._create_values(entity, fields, correlation)
        body = {"properties": values, "associations": []}
        reply = await self._write("POST", self._path(entity), entity, body)
        return self._stored(entity, reply)

    async def update(
        self,
        entity: str,
        record_id: str,
        fields: Mapping[str, Value],
        correlation: str | None = None,
    ) -> Record:
        values = await self._update_values(entity, fields, correlation)
        path = f"{self._path(entity)}/{record_id}"
        await self._write("PATCH", path, entity, {"properties": values})
        return await self._read_one(entity, record_id)

    async def deactivate(self, entity: str, record_id: str) -> None:
        """Take the role off a company that keeps another one; archive it otherwise."""
        path = f"{self._path(entity)}/{record_id}"
        role = self._role(entity)
        others = self._other_roles(entity)
        names = [r.property_name for r in (role, *others) if r is not None]
        params = {"properties": ",".join(names)} if names else None
        current = (await self._client.call("GET", path, params=params)).body
        if str(current.get("id")) != record_id:  # a merged id reads as its survivor
            raise RecordError(
                f"HubSpot company {record_id} was merged into {current.get('id')}; "
                "syncd archives no survivor of a merge",
                reference=record_id,
            )
        properties = _properties(current)
        kept = role.taken_from(properties.get(role.property_name)) if role else None
        # a role another property says (suppliers by `type`, customers by another) stays
        elsewhere = any(r.held_by(properties.get(r.property_name)) for r in others)
        if role and (kept is not None or elsewhere):
            values = {role.property_name: kept or ""}
            await self._write("PATCH", path, entity, {"properties": values})
        else:
            await self._client.call("DELETE", path, write=True)

    async def adopt(self, entity: str, record_id: str) -> Record:
        """Give an existing company the entity's role (a customer becoming a supplier too).

        For an engine that finds, before creating a company, one that already exists
        under another role (same KvK number): tick the role instead of a duplicate.
        """
        role = self._role(entity)
        if role is None:
            return await self._read_one(entity, record_id)
        path = f"{self._path(entity)}/{record_id}"
        params = {"properties": role.property_name}
        have = _properties((await self._client.call("GET", path, params=params)).body)
        if not role.held_by(have.get(role.property_name)):
            values = {role.property_name: role.added_to(have.get(role.property_name))}
            await self._write("PATCH", path, entity, {"properties": values})
        return await self._read_one(entity, record_id)

    # -- writing, in batches ------------------------------------------------------------------

    async def create_batch(
        self, entity: str, items: Sequence[tuple[Mapping[str, Value], str]]
    ) -> list[BatchOutcome]:
        """Create companies, 100 per request; one outcome per item, in order.

        Each input carries an ``objectWriteTraceId`` (its index), so that HubSpot answers a
        partly bad batch with 207 and the good companies are still created.
        """
        outcomes: list[BatchOutcome | None] = [None] * len(items)
        inputs: list[tuple[int, JsonObject]] = []
        for index, (fields, correlation) in enumerate(items):
            try:
                values = await self._create_values(entity, fields, correlation)
            except RecordError as exc:
                outcomes[index] = exc
                continue
            inputs.append(
                (
                    index,
                    {"properties": values, "associations": [], "objectWriteTraceId": str(index)},
                )
            )
        await self._send_all(entity, "create", inputs, outcomes, key="objectWriteTraceId")
        return _done(outcomes)

    async def update_batch(
        self, entity: str, items: Sequence[tuple[str, Mapping[str, Value], str | None]]
    ) -> list[BatchOutcome]:
        """Partial updates of (id, fields, correlation or None), 100 per request.

        Nothing is read back: each outcome is built from HubSpot's answer, whose results
        carry at least the properties written, as stored. A record holds only the fields
        whose property the answer carries: a left-out property is unknown, not blank (and
        so is the correlation key when it was not written).
        """
        outcomes: list[BatchOutcome | None] = [None] * len(items)
        inputs: list[tuple[int, JsonObject]] = []
        for index, (record_id, fields, correlation) in enumerate(items):
            try:
                values = await self._update_values(entity, fields, correlation)
            except RecordError as exc:
                outcomes[index] = exc
                continue
            inputs.append((index, {"id": record_id, "properties": values}))
        await self._send_all(entity, "update", inputs, outcomes, key="ids")
        return _done(outcomes)

    async def upsert_batch(
        self, entity: str, items: Sequence[tuple[str, Mapping[str, Value]]]
    ) -> list[BatchOutcome]:
        """Create or update by correlation key (the unique property), 100 per request.

        The role is added to the roles a company already has, never put in their place.
        """
        spec = self._spec(entity)
        existing = {
            _properties(obj).get(spec.correlation): obj
            for obj in await self._batch_read(
                entity, [key for key, _ in items], id_property=spec.correlation
            )
        }
        outcomes: list[BatchOutcome | None] = [None] * len(items)
        inputs: list[tuple[int, JsonObject]] = []
        for index, (key, fields) in enumerate(items):
            try:
                values = await self._native(entity, fields)
                if role := self._role(entity):
                    have = existing.get(key, {}).get("properties", {}).get(role.property_name)
                    values[role.property_name] = role.added_to(have)
                await self._check(entity, values)
            except RecordError as exc:
                outcomes[index] = exc
                continue
            item = {"id": key, "idProperty": spec.correlation, "properties": values}
            inputs.append((index, item))
        await self._send_all(entity, "upsert", inputs, outcomes, key="ids")
        return _done(outcomes)

    async def _send_all(
        self,
        entity: str,
        operation: str,
        inputs: Sequence[tuple[int, JsonObject]],
        outcomes: list[BatchOutcome | None],
        *,
        key: str,
    ) -> None:
        """Send every input, 100 per request.

        An error of a whole request is raised: as it is for the first request, as
        OutcomeUnknownError once an earlier request went through (some items were written).
        """
        for number, chunk in enumerate(_chunks(inputs, BATCH_SIZE)):
            try:
                await self._send_batch(entity, operation, chunk, outcomes, key=key)
            except GatewayError as exc:
                if number == 0:
                    raise
                raise OutcomeUnknownError(
                    f"batch/{operation} failed after {number * BATCH_SIZE} of "
                    f"{len(inputs)} items were written: {exc}"
                ) from exc

    async def _send_batch(
        self,
        entity: str,
        operation: str,
        chunk: Sequence[tuple[int, JsonObject]],
        outcomes: list[BatchOutcome | None],
        *,
        key: str,
    ) -> None:
        """One batch request; fills ``outcomes`` for the chunk's items."""
        body = {"inputs": [item for _, item in chunk]}
        path = f"{self._path(entity)}/batch/{operation}"
        try:
            answer = await self._write("POST", path, entity, body)
        except RecordError as exc:  # HubSpot refused the whole request
            for index, _ in chunk:
                outcomes[index] = exc
            return
        by_key = {_input_key(item, key): index for index, item in chunk}  # trace id or id
        for obj in _results(answer, f"POST {path}", write=True):
            trace = obj.get("objectWriteTraceId") if key == "objectWriteTraceId" else None
            found = by_key.get(trace) if trace is not None else self._match(obj, chunk, by_key)
            if found is not None:
                outcomes[found] = self._outcome(entity, obj, answered_only=operation == "update")
        errors = answer.get("errors")
        for error in errors if isinstance(errors, list) else []:
            context = error.get("context") if isinstance(error, dict) else None
            refs = context.get(key) if isinstance(context, dict) else None
            for ref in refs if isinstance(refs, list) else []:
                if (failed := by_key.get(str(ref))) is not None:
                    outcomes[failed] = self._record_error(entity, error)
        for index, _ in chunk:
            if outcomes[index] is None:
                outcomes[index] = RecordError(
                    f"HubSpot's answer to batch/{operation} did not mention this record"
                )

    def _outcome(self, entity: str, obj: JsonObject, *, answered_only: bool) -> BatchOutcome:
        """A batch result as its record (only the fields it carries, with
        ``answered_only``), or the RecordError of a result that cannot be read."""
        try:
            record = self._stored(entity, obj)
        except RecordError as exc:
            return exc
        if answered_only:
            return _answered_fields(record, self._mapping(entity), _properties(obj))
        return record

    def _match(
        self,
        obj: JsonObject,
        chunk: Sequence[tuple[int, JsonObject]],
        by_key: Mapping[str, int],
    ) -> int | None:
        """The input a batch result answers: by id, or by the upsert's unique value."""
        if obj["id"] in by_key:
            return by_key[obj["id"]]
        for _, item in chunk:
            id_property = item.get("idProperty")
            if id_property and _properties(obj).get(id_property) == item["id"]:
                return by_key.get(item["id"])
        return None

    # -- values and checks --------------------------------------------------------------------

    async def _create_values(
        self, entity: str, fields: Mapping[str, Value], correlation: str
    ) -> dict[str, str]:
        values = await self._native(entity, fields)
        values[self._spec(entity).correlation] = correlation
        if role := self._role(entity):
            values[role.property_name] = role.added_to(None)
        await self._check(entity, values)
        return values

    async def _update_values(
        self, entity: str, fields: Mapping[str, Value], correlation: str | None
    ) -> dict[str, str]:
        values = await self._native(entity, fields)
        if correlation is not None:
            values[self._spec(entity).correlation] = correlation
        await self._check(entity, values)
        return values

    async def _native(self, entity: str, fields: Mapping[str, Value]) -> dict[str, str]:
        """Canonical fields as HubSpot property strings (RecordError from the mapping)."""
        native = self._mapping(entity).to_native(Side.CRM, fields)
        return {name: to_text(value) for name, value in native.items()}

    async def _check(self, entity: str, values: Mapping[str, str]) -> None:
        problems = (await self._schema(entity)).problems(values)
        if problems:
            name, reason = next(iter(problems.items()))
            raise RecordError(reason, field=self._canonical(entity, name))

    def _record_error(self, entity: str, error: Mapping[str, Any]) -> RecordError:
        prop = property_named(error)
        message = f"HubSpot refused it: {error.get('category', '')} {error.get('message', '')}"
        if error.get("category") == "OBJECT_NOT_FOUND":
            return NotFound(message.strip())
        return RecordError(message.strip(), field=self._canonical(entity, prop))

    def _canonical(self, entity: str, prop: str | None) -> str | None:
        """The canonical field a property holds (or the property, if no field does)."""
        for fieldmap in self._mapping(entity).fields:
            if fieldmap.crm == prop:
                return fieldmap.name
        return prop

    async def _schema(self, entity: str) -> PropertySchema:
        object_type = self._object(entity)
        if self._schema_lock is None:
            self._schema_lock = asyncio.Lock()
        async with self._schema_lock:
            if object_type not in self._schemas:
                path = self._client.settings.properties_path(object_type)
                reply = await self._client.call("GET", path)
                self._schemas[object_type] = PropertySchema.from_results(
                    reply.body.get("results", [])
                )
        return self._schemas[object_type]

    async def _write(self, method: str, path: str, entity: str, body: Mapping[str, Any]) -> Any:
        """A write; a RecordError from HubSpot comes back naming the canonical field."""
        try:
            return (await self._client.call(method, path, body=body, write=True)).body
        except NotFound:
            raise
        except RecordError as exc:
            raise RecordError(str(exc), field=self._canonical(entity, exc.field)) from exc

    # -- reading helpers ------------------------------------------------------------------------

    async def _search(
        self, entity: str, filters: Sequence[JsonObject], *, any_role: bool = False
    ) -> list[JsonObject]:
        """Every company with the role (any company, with ``any_role``) matching
        ``filters``."""
        pages = self._search_pages(entity, filters, any_role=any_role)
        return [obj async for page in pages for obj in page]

    async def _search_pages(
        self,
        entity: str,
        filters: Sequence[JsonObject],
        *,
        at_most: int | None = None,
        any_role: bool = False,
    ) -> AsyncIterator[list[JsonObject]]:
        """The companies with the role (any company, with ``any_role``) matching
        ``filters``, a page at a time, keyset-paged on the id (so no company twice).

        _Crowded, at the first page, if HubSpot counts more than ``at_most`` of them.
        """
        base = list(filters)
        if (role := self._role(entity)) and not any_role:
            base.append(_filter(role.property_name, "IN", role.values))
        last: str | None = None
        while True:
            page_filters = base + ([_filter("hs_object_id", "GT", last)] if last else [])
            body = {
                "filterGroups": [{"filters": page_filters}],
                "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                "properties": self._names(entity),
                "limit": SEARCH_PAGE,
                "after": "0",
            }
            path = f"{self._path(entity)}/search"
            reply = await self._client.call("POST", path, body=body, search=True)
            results = _results(reply.body, f"POST {path}")
            if at_most is not None and last is None and _total(reply.body) > at_most:
                raise _Crowded(results)
            yield [o for o in results if any_role or self._has_role(entity, o)]
            if len(results) < SEARCH_PAGE:
                return
            last = str(max(int(o["id"]) for o in results))

    async def _batch_read(
        self, entity: str, ids: Sequence[str], *, id_property: str | None = None
    ) -> list[JsonObject]:
        """The companies of ``ids``: a request per 100, side by side (within the limits)."""
        path = f"{self._path(entity)}/batch/read"

        async def read(chunk: list[str]) -> list[JsonObject]:
            body: JsonObject = {
                "inputs": [{"id": i} for i in chunk],
                "properties": self._names(entity),
                "propertiesWithHistory": [],
            }
            if id_property is not None:
                body["idProperty"] = id_property
            reply = await self._client.call("POST", path, body=body)
            return _results(reply.body, f"POST {path}")

        chunks = _chunks(list(ids), BATCH_SIZE)
        return [found for part in await side_by_side(map(read, chunks)) for found in part]

    async def _read_one(self, entity: str, record_id: str) -> Record:
        path = f"{self._path(entity)}/{record_id}"
        params = {"properties": ",".join(self._names(entity))}
        reply = await self._client.call("GET", path, params=params)
        return self._stored(entity, _results({"results": [reply.body]}, f"GET {path}")[0])

    def _stored(self, entity: str, obj: JsonObject) -> Record:
        result = self._to_record(entity, obj)
        if isinstance(result, RejectedRecord):
            raise RecordError(result.message, field=result.field, reference=result.id)
        return result

    def _page(self, entity: str, objects: Iterable[JsonObject]) -> Page:
        return Page.of(self._to_record(entity, obj) for obj in objects)

    def _listed(self, entity: str, objects: Sequence[JsonObject]) -> Page:
        """A list page: the entity's companies, and the others by their match keys."""
        ours: list[JsonObject] = []
        others: list[JsonObject] = []
        for obj in objects:
            (ours if self._has_role(entity, obj) else others).append(obj)
        page = self._page(entity, ours)
        mapping = self._mapping(entity)
        page.others.extend(
            mapping.key_record(Side.CRM, str(o["id"]), _properties(o)) for o in others
        )
        return page

    def _to_record(self, entity: str, obj: JsonObject) -> Record | RejectedRecord:
        record_id = str(obj["id"])
        properties = obj.get("properties")
        if properties is None:
            properties = {}
        if not isinstance(properties, dict):
            message = f"its properties are {describe(properties)}, not a table of values"
            return RejectedRecord(record_id, message)
        modified = self._modified(entity, obj)
        if modified is None:
            name = self._spec(entity).modified
            raw = properties.get(name) or obj.get("updatedAt")
            message = f"property {name!r}: {str(raw)[:60]!r} is not a HubSpot time"
            return RejectedRecord(record_id, message, name)
        return self._mapping(entity).record(Side.CRM, record_id, properties, modified)

    def _modified(self, entity: str, obj: JsonObject) -> datetime | None:
        """The company's modification time; None if HubSpot sent something else."""
        raw = _properties(obj).get(self._spec(entity).modified)
        return _parse_time(raw or obj.get("updatedAt") or "1970-01-01T00:00:00Z")

    def _sort_time(self, entity: str, obj: JsonObject) -> datetime:
        return self._modified(entity, obj) or _EPOCH

    # -- the mapping --------------------------------------------------------------------------

    def _mapping(self, entity: str) -> EntityMapping:
        return mapping_of(self._mappings, entity)

    def _spec(self, entity: str) -> SideSpec:
        return self._mapping(entity).crm

    def _object(self, entity: str) -> str:
        return self._spec(entity).options.get("object", "companies")

    def _path(self, entity: str) -> str:
        return self._client.settings.objects_path(self._object(entity))

    def _role(self, entity: str) -> CompanyRole | None:
        return self._spec(entity).role

    def _other_roles(self, entity: str) -> list[CompanyRole]:
        """The roles of the other entities on the same CRM object, by other properties."""
        own = self._role(entity)
        return [
            role
            for other, mapping in self._mappings.items()
            if other != entity
            and (role := mapping.crm.role) is not None
            and self._object(other) == self._object(entity)
            and (own is None or role.property_name != own.property_name)
        ]

    def _has_role(self, entity: str, obj: JsonObject) -> bool:
        role = self._role(entity)
        return role is None or role.held_by(_properties(obj).get(role.property_name))

    def _names(self, entity: str) -> list[str]:
        """The properties syncd reads: the mapped ones and those it keeps records by."""
        spec = self._spec(entity)
        names = [f.crm for f in self._mapping(entity).fields]
        names += [spec.id, spec.modified, spec.correlation, MERGED_IDS]
        if role := self._role(entity):
            names.append(role.property_name)
        return list(dict.fromkeys(names))


def build_hubspot(
    settings: GatewaySettings, side: Side, mappings: Mapping[str, EntityMapping]
) -> HubSpotGateway:
    """The ``hubspot`` gateway kind, from its config options (see GATEWAY_KINDS)."""
    if side is not Side.CRM:
        raise ConfigError([Problem("config", f"{side}.kind", "hubspot can only be the crm side")])
    options = settings.options
    token = options["token"]
    assert isinstance(token, Secret)
    default = ClientSettings()  # what an option left out comes to
    client = ClientSettings(
        base_url=str(options.get("base_url", default.base_url)).rstrip("/"),
        api_version=str(options.get("api_version", default.api_version)),
        search_per_second=_number(options, "search_per_second", default.search_per_second),
        requests_per_ten_seconds=_number(
            options, "requests_per_ten_seconds", default.requests_per_ten_seconds
        ),
        daily_budget=int(_number(options, "daily_budget", default.daily_budget)),
        timeout_seconds=_number(options, "timeout_seconds", default.timeout_seconds),
        ca_bundle=ca_bundle(options),
    )
    return HubSpotGateway(
        token.value,
        mappings,
        client,
        settle_seconds=float(_number(options, "search_settle_seconds", 60.0)),
    )


# --- helpers ------------------------------------------------------------------------------


def _number(options: Mapping[str, object], key: str, default: float) -> float:
    value = options.get(key, default)
    return float(value) if isinstance(value, int | float) else default


def _answered_fields(
    record: Record, mapping: EntityMapping, properties: Mapping[str, Any]
) -> Record:
    """``record`` with only the fields whose property ``properties`` holds.

    The mapping reads a missing property as blank; in an answer that carries only some
    properties (batch/update's) that blank would be taken for a value HubSpot stored.
    """
    answered = {f.name for f in mapping.fields if f.native_name(Side.CRM) in properties}
    fields = {name: value for name, value in record.fields.items() if name in answered}
    return dataclasses.replace(record, fields=fields)


def _merged(wanted: Sequence[str], objects: Sequence[JsonObject]) -> dict[str, str]:
    """Asked-for ids that a merge folded into another company: old id -> survivor."""
    asked = set(wanted)
    moved: dict[str, str] = {}
    for obj in objects:
        for old in asked.intersection(str(_properties(obj).get(MERGED_IDS) or "").split(";")):
            if old != obj["id"]:
                moved[old] = obj["id"]
    return moved


def _filter(prop: str, operator: str, value: str | Sequence[str]) -> JsonObject:
    if isinstance(value, str):
        return {"propertyName": prop, "operator": operator, "value": value}
    return {"propertyName": prop, "operator": operator, "values": list(value)}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def _ms(moment: datetime, *, up: bool = False) -> int:
    """Epoch milliseconds, exactly: rounded down, or up with ``up``."""
    whole, rest = divmod(moment - _EPOCH, _MS)
    return whole + (1 if up and rest else 0)


def _parse_time(value: object) -> datetime | None:
    """HubSpot's time (ISO 8601, or epoch milliseconds); None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    try:
        if value.isascii() and value.isdigit():
            return datetime.fromtimestamp(int(value) / 1000, UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _properties(obj: JsonObject) -> dict[str, Any]:
    """A company's properties; empty when HubSpot sent none (or something else)."""
    properties = obj.get("properties")
    return properties if isinstance(properties, dict) else {}


def _results(body: object, request: str, *, write: bool = False) -> list[JsonObject]:
    """The ``results`` of an answer, each a company with an id (as text).

    A shape HubSpot never sends is the answer of something else: an error naming the
    request (OutcomeUnknownError for a write, which may still have been done).
    """
    results = body.get("results", []) if isinstance(body, dict) else None
    problem = None
    if not isinstance(results, list):
        problem = f"the answer is {describe(body)} without a list of results"
    else:
        for position, obj in enumerate(results):
            if not isinstance(obj, dict) or not _usable_id(obj.get("id")):
                shown = describe(obj.get("id")) if isinstance(obj, dict) else describe(obj)
                problem = f"result {position} has no company id (it has {shown})"
                break
    if problem is None:
        assert isinstance(results, list)
        return [{**obj, "id": str(obj["id"])} for obj in results]
    if write:
        raise OutcomeUnknownError(
            f"HubSpot {request}: {problem}; the write may have happened: look it up first"
        )
    raise PermanentError(f"HubSpot {request}: {problem}; nothing of this answer was used")


def _usable_id(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return False
    return str(value).isascii() and str(value).isdigit()


def _next_after(body: object) -> str | None:
    """The cursor of the next page, if the answer names one."""
    paging = body.get("paging") if isinstance(body, dict) else None
    following = paging.get("next") if isinstance(paging, dict) else None
    after = following.get("after") if isinstance(following, dict) else None
    return str(after) if after not in (None, "") else None


def _total(body: object) -> int:
    total = body.get("total") if isinstance(body, dict) else None
    return total if isinstance(total, int) and not isinstance(total, bool) else 0


def _role_problems(role: CompanyRole | None, schema: PropertySchema) -> list[str]:
    """Why the portal's role property cannot hold the role as the mapping says it."""
    prop = schema.definitions.get(role.property_name) if role else None
    if role is None or prop is None:
        return []  # no role, or a missing property (reported with the others)
    named = role.meanings or [role.ticked]
    problems = [
        f"{role.property_name!r} has no option {v!r}" for v in named if v not in prop.options
    ]
    if role.meanings is None and not prop.multi:
        problems.append(
            f"{role.property_name!r} is not a multiple-checkbox property; describe its options "
            "with [crm] role_options instead of role_value"
        )
    if role.meanings is not None and prop.multi:
        problems.append(
            f"{role.property_name!r} is a multiple-checkbox property; name the option with "
            "[crm] role_value instead of role_options"
        )
    return problems


def _chunks(items: Sequence[_T], size: int) -> Iterable[list[_T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _input_key(item: Mapping[str, Any], key: str) -> str:
    return str(item.get("objectWriteTraceId") if key == "objectWriteTraceId" else item["id"])


def _done(outcomes: Sequence[BatchOutcome | None]) -> list[BatchOutcome]:
    assert all(o is not None for o in outcomes)
    return [o for o in outcomes if o is not None]
