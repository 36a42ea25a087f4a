"""A complete side held in memory: the reference implementation of the Gateway contract.

:class:`MemoryGateway` is not a mock. It keeps *native* rows per entity, shaped the way the
side's read API shows them (the mapping's native field names, plus the id, modification
time and correlation fields its :class:`~syncd.mapping.SideSpec` names), and converts
through the entity's mapping on every read and write. So every cycle that runs against it
exercises the mapping end to end, and a row the mapping cannot read comes back as a
:class:`~syncd.records.RejectedRecord`, exactly as it would from AFAS or HubSpot.

Stored rows look like this (CRM side of the shipped customer mapping)::

    {"hs_object_id": "9000000001", "hs_lastmodifieddate": datetime(2024, 1, 1, 0, 0, 1,
     tzinfo=UTC), "name": "Bakkerij De Korenaar B.V.", "country": "Netherlands", ...,
     "afas_debtor_number": "10001", "afas_roles": "customer"}

* Each entity is its own table. (In HubSpot, customers and suppliers are both companies
  and one company can be both; in AFAS, a debtor and a creditor can share an
  organisation. Here such a company is two unrelated records, one per entity.)
* Ids are autonumbered strings: HubSpot-like object ids on the CRM side (one numbering
  for all entities, from 9000000001), debtor numbers (from 10001) and creditor numbers
  (from 70001) on the AFAS side. A row put with its own id keeps it, and numbering goes
  on after the highest numeric id.
* Modification times are timezone-aware datetimes (ISO 8601 text only in fixture files)
  and strictly increase with every write: a logical clock (:data:`LOGICAL_EPOCH` plus one
  second per write, and never before the newest time put) unless a ``clock`` is given; a
  clock that stands still or goes back is nudged forward by a microsecond.
* ``create`` stores the correlation key under the side spec's ``correlation`` field and,
  on the CRM side, the entity's role (the value of ``role_property`` that means it) as
  the HubSpot gateway tags a company it creates.
* Deactivating sets the side's inactive flag (the first of the AFAS side spec's
  ``inactive`` fields, ``Blocked`` by default; ``archived`` on the CRM side; a row with any
  of them set is inactive) to true and moves the modification
  time. Inactive rows stay stored and visible through :meth:`MemoryGateway.rows`, but are
  never listed, read or found; ``update`` refuses them, as it refuses unknown ids, with a
  RecordError.
* Listings are keyset-paged afresh for every page, like the real APIs: a record edited
  during a listing moves to its end and may come twice (the engine dedupes).
* On the AFAS side it is an :class:`~syncd.gateways.base.OrganisationGateway`: a company
  row (debtor, creditor) is at the organisation its ``organisation`` field (the mapping's
  ``[afas]``) names, or, when it has none (as in fixtures), at an organisation numbered
  as the row itself (so a contact row's ``"OrganisationId": "10001"`` is at debtor
  10001). The CRM side has no organisations and refuses to be asked
  (:mod:`~syncd.gateways.memory_organisations`).
* With ``search_lags``, ``changed_since`` answers from a search index that lags behind
  writes, as HubSpot's does: each record as it stood when the index last caught up
  (:meth:`MemoryGateway.catch_up_search`), its earlier values and modification time,
  and none of the records created since. Its pages say so (``Page.hints_only``);
  ``read`` and ``list_all`` show the records as they are.

Besides the :class:`~syncd.gateways.base.Gateway` protocol it has a *user* API, for
tests, the CLI and the simulators' seeds: :meth:`~MemoryGateway.put`,
:meth:`~MemoryGateway.edit`, :meth:`~MemoryGateway.remove`, :meth:`~MemoryGateway.rows`
(the rows are :mod:`syncd.gateways.native_tables`'); and fault injection for crash tests:
:meth:`~MemoryGateway.fail_next` and :attr:`~MemoryGateway.calls`
(:mod:`syncd.gateways.fault_injection`).
"""

from __future__ import annotations

import copy
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import replace
from datetime import datetime

from syncd.errors import RecordError
from syncd.gateways.base import BatchOutcome
from syncd.gateways.fault_injection import FaultInjection, InjectsFaults
from syncd.gateways.memory_organisations import MemoryOrganisations
from syncd.gateways.native_tables import NativeRow, NativeTables, id_order
from syncd.mapping import EntityMapping, SideSpec, mapping_of
from syncd.records import Page, Record, RejectedRecord, Side, Value


class MemoryGateway(MemoryOrganisations, InjectsFaults):
    """One side (CRM or AFAS) of a connection, for every entity in ``mappings``."""

    def __init__(
        self,
        side: Side,
        mappings: Mapping[str, EntityMapping],
        clock: Callable[[], datetime] | None = None,
        *,
        page_size: int = 100,
        search_lags: bool = False,
    ) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, not {page_size}")
        self._side = side
        self._mappings = dict(mappings)
        self.page_size = page_size
        self._tables = NativeTables(side, self._mappings, clock)
        self.search_lags = search_lags
        self._search_index: dict[str, dict[str, NativeRow]] = {entity: {} for entity in mappings}
        self._organisations_seen = {}
        self._faults = FaultInjection()
        self.calls = self._faults.calls
        """Protocol calls made so far, by operation name (see ``OPERATIONS``)."""
        self.closed = False

    # -- the Gateway protocol ------------------------------------------------------------

    @property
    def side(self) -> Side:
        return self._side

    @property
    def requests_sent(self) -> int:
        """Protocol calls, the nearest thing to requests an in-memory system has."""
        return sum(self.calls.values())

    @property
    def entities(self) -> tuple[str, ...]:
        return tuple(self._mappings)

    async def changed_since(self, entity: str, since: datetime | None) -> AsyncIterator[Page]:
        fault = self._faults.begin("changed_since")
        table = self._tables.table(entity)
        rows = self._search_index[entity] if self.search_lags else table
        after: tuple[datetime, str] | None = None
        while True:
            chunk = self._next_chunk(entity, rows, since, after)
            if not chunk:
                break
            page = self._to_page(entity, chunk)
            yield replace(page, hints_only=True) if self.search_lags else page
            if len(chunk) < self.page_size:
                break
            after = self._order_key(entity, chunk[-1])
        self._faults.end(fault)

    async def list_all(self, entity: str) -> AsyncIterator[Page]:
        fault = self._faults.begin("list_all")
        table = self._tables.table(entity)
        after: tuple[int, str] | None = None
        while True:
            self._faults.begin_page()
            ids = sorted(
                (
                    record_id
                    for record_id, row in table.items()
                    if self._tables.is_active(entity, row)
                    and (after is None or id_order(record_id) > after)
                ),
                key=id_order,
            )[: self.page_size]
            if not ids:
                break
            yield self._to_page(entity, [table[record_id] for record_id in ids])
            if len(ids) < self.page_size:
                break
            after = id_order(ids[-1])
        self._faults.end(fault)

    async def read(self, entity: str, ids: Sequence[str]) -> Page:
        fault = self._faults.begin("read")
        table = self._tables.table(entity)
        wanted = dict.fromkeys(ids)  # keeps the caller's order, drops repeats
        active = self._tables.is_active
        rows = [table[i] for i in wanted if i in table and active(entity, table[i])]
        page = self._to_page(entity, rows)
        self._faults.end(fault)
        return page

    async def find_by_correlation(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        fault = self._faults.begin("find_by_correlation")
        wanted = set(keys)
        found: dict[str, Record] = {}
        for record in self._active_records(entity):
            key = record.correlation
            if key is not None and key in wanted and key not in found:
                found[key] = record
        self._faults.end(fault)
        return found

    async def find_by_values(self, entity: str, field: str, values: Sequence[str]) -> list[Record]:
        fault = self._faults.begin("find_by_values")
        self._mapping(entity).field(field)  # an unknown field is the caller's mistake
        wanted = set(values)
        found = [r for r in self._active_records(entity) if r.fields.get(field) in wanted]
        self._faults.end(fault)
        return found

    async def create(self, entity: str, fields: Mapping[str, Value], correlation: str) -> Record:
        fault = self._faults.begin("create")
        spec = self._spec(entity)
        row = self._to_stored(entity, fields)
        row[spec.correlation] = correlation
        if spec.role is not None:
            row[spec.role.property_name] = spec.role.value_with_role(None)
        record_id = self._tables.insert(entity, row)
        self._faults.end(fault)
        return self._stored_record(entity, record_id)

    async def update(
        self,
        entity: str,
        record_id: str,
        fields: Mapping[str, Value],
        correlation: str | None = None,
    ) -> Record:
        fault = self._faults.begin("update")
        row = self._tables.active_row(entity, record_id)
        changes = self._to_stored(entity, fields)
        if correlation is not None:
            changes[self._spec(entity).correlation] = correlation
        row.update(changes)
        row[self._spec(entity).modified] = self._tables.tick()
        self._faults.end(fault)
        return self._stored_record(entity, record_id)

    async def create_batch(
        self, entity: str, items: Sequence[tuple[Mapping[str, Value], str]]
    ) -> list[BatchOutcome]:
        """Each item as ``create`` would do it; a refused one is its RecordError."""
        self.calls["create_batch"] += 1
        return [await _outcome_of(self.create(entity, fields, key)) for fields, key in items]

    async def update_batch(
        self, entity: str, items: Sequence[tuple[str, Mapping[str, Value], str | None]]
    ) -> list[BatchOutcome]:
        """Each item as ``update`` would do it; a refused one is its RecordError."""
        self.calls["update_batch"] += 1
        return [
            await _outcome_of(self.update(entity, record_id, fields, correlation))
            for record_id, fields, correlation in items
        ]

    async def deactivate(self, entity: str, record_id: str) -> None:
        fault = self._faults.begin("deactivate")
        row = self._tables.table(entity).get(record_id)
        if row is None:
            raise RecordError(
                f"{self._side} {entity} {record_id} does not exist", reference=record_id
            )
        flag = self.inactive_field(entity)
        if not row.get(flag):
            row[flag] = True
            row[self._spec(entity).modified] = self._tables.tick()
        self._faults.end(fault)

    async def aclose(self) -> None:
        fault = self._faults.begin("aclose")
        self.closed = True
        self._faults.end(fault)

    # -- the user API --------------------------------------------------------------------

    def remap(self, entity: str, mapping: EntityMapping) -> None:
        """Read and write ``entity`` through a changed mapping; the rows stay as they are
        (what a restart with an edited mapping file does to a real system)."""
        self._mappings[entity] = mapping

    def put(self, entity: str, native_row: Mapping[str, object]) -> str:
        """A user creates a record from a native row; returns its id.

        The row may carry its own id, modification time (a timezone-aware datetime) and
        inactive flag, as a fixture or a seed does; otherwise the id is autonumbered and
        the modification time is the next tick of the clock.
        """
        return self._tables.put(entity, native_row)

    def edit(self, entity: str, record_id: str, native_changes: Mapping[str, object]) -> None:
        """A user edits a record (active or not): merge the changes, move its time."""
        spec = self._spec(entity)
        if spec.id in native_changes or spec.modified in native_changes:
            raise ValueError(f"edit cannot change {spec.id} or {spec.modified}")
        row = self._tables.row(entity, record_id)
        row.update(copy.deepcopy(dict(native_changes)))
        row[spec.modified] = self._tables.tick()

    def remove(self, entity: str, record_id: str) -> None:
        """A user hard-deletes a record (as a CRM delete or an AFAS creditor delete)."""
        self._tables.row(entity, record_id)
        del self._tables.table(entity)[record_id]

    def catch_up_search(self) -> None:
        """The lagging search index (``search_lags``) shows every record as it is now."""
        self._search_index = self._tables.copy()

    def rows(self, entity: str) -> list[NativeRow]:
        """Copies of every stored native row, inactive ones too, ordered by id."""
        table = self._tables.table(entity)
        return [copy.deepcopy(table[record_id]) for record_id in sorted(table, key=id_order)]

    def row(self, entity: str, record_id: str) -> NativeRow:
        """A copy of one stored native row, active or not; KeyError if there is none."""
        return copy.deepcopy(self._tables.row(entity, record_id))

    def is_active(self, entity: str, record_id: str) -> bool:
        return self._tables.is_active(entity, self._tables.row(entity, record_id))

    def inactive_field(self, entity: str) -> str:
        """The native flag deactivating sets (blocked or archived)."""
        return self.inactive_fields(entity)[0]

    def inactive_fields(self, entity: str) -> tuple[str, ...]:
        """The native flags any of which marks a row inactive."""
        return self._tables.inactive_fields(entity)

    # -- rows as records -----------------------------------------------------------------

    def _mapping(self, entity: str) -> EntityMapping:
        return mapping_of(self._mappings, entity)

    def _spec(self, entity: str) -> SideSpec:
        return self._mapping(entity).side(self._side)

    def _to_stored(self, entity: str, fields: Mapping[str, Value]) -> NativeRow:
        """Canonical fields -> native values under their read names (RecordError if not)."""
        return self._mapping(entity).to_native(self._side, fields)

    def _order_key(self, entity: str, row: NativeRow) -> tuple[datetime, str]:
        spec = self._spec(entity)
        modified = row[spec.modified]
        assert isinstance(modified, datetime)
        return modified, str(row[spec.id])

    def _next_chunk(
        self,
        entity: str,
        rows: Mapping[str, NativeRow],
        since: datetime | None,
        after: tuple[datetime, str] | None,
    ) -> list[NativeRow]:
        """The next page of changed ``rows``, found afresh like a keyset-paged query."""
        self._faults.begin_page()
        keyed = [
            (self._order_key(entity, row), row)
            for row in rows.values()
            if self._tables.is_active(entity, row)
        ]
        selected = sorted(
            (key, row)
            for key, row in keyed
            if (since is None or key[0] >= since) and (after is None or key > after)
        )
        return [row for _, row in selected[: self.page_size]]

    def _to_page(self, entity: str, rows: Iterable[NativeRow]) -> Page:
        return Page.of(self._to_record(entity, row) for row in rows)

    def _to_record(self, entity: str, row: NativeRow) -> Record | RejectedRecord:
        spec = self._spec(entity)
        if self._side is Side.AFAS and self._mapping(entity).reference is None:
            self._note_organisation(entity, row)
        modified = row.get(spec.modified)
        stamp = modified if isinstance(modified, datetime) else None
        return self._mapping(entity).record(self._side, str(row[spec.id]), row, stamp)

    def _active_records(self, entity: str) -> Iterator[Record]:
        table = self._tables.table(entity)
        for record_id in sorted(table, key=id_order):
            row = table[record_id]
            if self._tables.is_active(entity, row):
                result = self._to_record(entity, row)
                if isinstance(result, Record):
                    yield result

    def _stored_record(self, entity: str, record_id: str) -> Record:
        result = self._to_record(entity, self._tables.row(entity, record_id))
        if isinstance(result, RejectedRecord):
            raise RecordError(result.message, field=result.field, reference=record_id)
        return result


async def _outcome_of(write: Awaitable[Record]) -> BatchOutcome:
    try:
        return await write
    except RecordError as refused:
        return refused
