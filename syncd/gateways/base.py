"""The Gateway protocol: what the engine may ask of a side.

Every implementation (in-memory, AFAS, HubSpot) passes the same contract suite in
``tests/gateways/contract/``. The contract, in short:

* Records come back canonical (mapped through the entity's mapping); a row that cannot
  be mapped comes back as a :class:`~syncd.records.RejectedRecord`, never as an exception
  that would hide the rest of the page.
* ``changed_since(entity, since)`` yields every active record whose modification time is
  ``>= since`` (all records when ``since`` is None), each page ascending by (modified,
  id); the pages may come in another order (HubSpot's search pages come by id), as the
  engine keeps the newest (modified, id) it saw as its cursor, whatever the order.
  Records may repeat across calls; the engine dedupes. Inactive records (AFAS blocked,
  CRM archived) are not listed: to the engine they look deleted.
* ``list_all`` yields every active record (the full sweep).
* ``read`` returns the current state of the given ids as a page; ids that are gone or
  inactive are simply absent from it, ids that cannot be mapped are in ``rejected`` (so a
  record with bad data is never mistaken for a deleted one), and ids merged into another
  record are in ``moved`` (old id -> surviving id), the survivor among the records.
* ``create`` stores the correlation key on the new record, so that
  ``find_by_correlation`` finds it even if the create's response was lost.
* ``update`` writes only the fields given (a partial update) and returns the whole
  record; ``update_batch`` returns each record as stored with at least the fields written
  (a field it leaves out is unknown, not blank), so a side need not read it back.
* ``deactivate`` blocks (AFAS) or archives (CRM); nothing is ever hard-deleted.
* ``requests_sent`` counts the requests made so far (the status log reports them per
  cycle); a ``status()`` method, where there is one, tells of a request budget.
* A side where one record can hold several entities (a HubSpot company that is customer
  and supplier) is a :class:`MultiRoleGateway`: the engine gives an existing record the
  role instead of creating a second one. Its ``list_all`` pages carry such records of
  other entities in ``Page.others`` (their match-key fields only): after a whole listing
  the engine looks for them there, not with ``find_in_other_roles``.
* A side where records of sibling entities share a part (an AFAS debtor and creditor
  of one company share their organisation) has ``create_beside(entity, items,
  beside)``: :meth:`BatchGateway.create_batch`, each item whose correlation key
  ``beside`` names with (sibling entity, its record id) sharing that record's part,
  and ``relations_beside(entity, ids, sibling)``: the sibling's records sharing theirs.
* A side whose searches show changes late (HubSpot) has a ``visibility_lag``
  (a timedelta): records are not created there before their twin could be found. Its
  ``changed_since`` pages are ``hints_only`` when they may show a record's earlier
  version (a lagging search index): the engine reads by id what it decides on.
* A side that may save a write after its caller gave up (AFAS) has an
  ``outcome_window`` (a timedelta): a create whose outcome is unknown and that is not
  found there is not sent again before the window has passed since it was sent.
* A side where a contact is at an *organisation* that its company records (a debtor, a
  creditor) share (AFAS) is an :class:`OrganisationGateway`: a contact's company field
  holds the organisation's number; ``organisations_of`` reads which organisation company
  records are at, and ``organisations_seen`` tells what the company records read since
  the last call showed (a record can move to another organisation), so that the engine
  can translate it to the linked CRM company. Elsewhere (HubSpot) a contact's company
  field holds the company record's id itself. A contact ``update`` whose fields include the company
  *moves* the person: the returned record may have a new id (AFAS ends the contact at
  the old organisation and adds one at the new); ``read`` of the old id then reports it
  in ``moved``, and a :class:`MovingGateway` tells which new records a move made
  (``moved_here``), as a listing of changes shows the new record only.
* A create refused because a unique value is taken (a HubSpot contact's e-mail) raises,
  or returns in its batch place, :class:`TakenError` naming the record holding it.
* Errors: :class:`TransientError` (retry later), :class:`OutcomeUnknownError` (a write
  may have happened), :class:`RecordError` (this record is refused), :class:`AuthError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from syncd.errors import RecordError
from syncd.records import Page, Record, Side, Value


class Gateway(Protocol):
    """One side of a connection, for all entities."""

    @property
    def side(self) -> Side: ...

    def changed_since(self, entity: str, since: datetime | None) -> AsyncIterator[Page]:
        """Pages of records modified at or after ``since``, each ascending by (modified, id)."""
        ...

    def list_all(self, entity: str) -> AsyncIterator[Page]:
        """Pages of every active record (full sweep)."""
        ...

    async def read(self, entity: str, ids: Sequence[str]) -> Page:
        """Current state of ``ids``; absent ids are gone or inactive."""
        ...

    async def find_by_correlation(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        """Active records whose correlation key is one of ``keys``, by key."""
        ...

    async def find_by_values(self, entity: str, field: str, values: Sequence[str]) -> list[Record]:
        """Active records whose canonical ``field`` equals one of ``values``."""
        ...

    async def create(self, entity: str, fields: Mapping[str, Value], correlation: str) -> Record:
        """Create a record carrying ``correlation``; returns it as stored."""
        ...

    async def update(
        self,
        entity: str,
        record_id: str,
        fields: Mapping[str, Value],
        correlation: str | None = None,
    ) -> Record:
        """Write only ``fields`` (and the correlation key, when given); returns the record."""
        ...

    async def deactivate(self, entity: str, record_id: str) -> None:
        """Block (AFAS) or archive (CRM) the record."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


BatchOutcome = Record | RecordError
"""One item of a batch write: the record as stored, or why the side refused it.

An update's record may hold only some fields: at least those written, as stored."""


@runtime_checkable
class BatchGateway(Gateway, Protocol):
    """A gateway that writes many records per request (HubSpot: 100 per call).

    A refused item comes back as its RecordError, in the item's place; an error that
    concerns the whole request (TransientError, OutcomeUnknownError...) is raised.
    """

    async def create_batch(
        self, entity: str, items: Sequence[tuple[Mapping[str, Value], str]]
    ) -> list[BatchOutcome]:
        """Create (fields, correlation) items; one outcome per item, in order."""
        ...

    async def update_batch(
        self, entity: str, items: Sequence[tuple[str, Mapping[str, Value], str | None]]
    ) -> list[BatchOutcome]:
        """Partial updates of (id, fields, correlation or None); one outcome per item.

        A record outcome holds at least the fields written, as the side stored them; any
        other field may be left out (then it is unknown, not blank), and so may the
        correlation key when none was written.
        """
        ...


@runtime_checkable
class SharingGateway(BatchGateway, Protocol):
    """A side where the records of sibling entities share a part: the debtor and the
    creditor of one company are one AFAS organisation."""

    async def create_beside(
        self,
        entity: str,
        items: Sequence[tuple[Mapping[str, Value], str]],
        beside: Mapping[str, tuple[str, str]],
    ) -> list[BatchOutcome]:
        """Create (fields, correlation) items; an item whose correlation ``beside``
        names shares the part of that (entity, record id)."""
        ...

    async def relations_beside(
        self, entity: str, ids: Sequence[str], sibling: str
    ) -> dict[str, str]:
        """Per record of ``entity`` among ``ids``, a record of ``sibling`` sharing its part."""
        ...


@runtime_checkable
class OrganisationGateway(Gateway, Protocol):
    """A side where contacts are at organisations, which the records of its company
    entities (debtors, creditors) share: AFAS."""

    async def organisations_of(self, entity: str, ids: Sequence[str]) -> dict[str, str]:
        """Per record of the company entity ``entity`` among ``ids``, its organisation."""
        ...

    def organisations_seen(self, entity: str) -> dict[str, str | None]:
        """The organisation each record of the company entity ``entity`` showed when it
        was read since the last call (None: at none); each sighting is handed out once."""
        ...


@runtime_checkable
class MovingGateway(Gateway, Protocol):
    """A side where a record that moves gets a new id and its old one ends (an AFAS
    contact moved to another organisation): a listing of changes shows only the new one."""

    async def moved_here(self, entity: str, ids: Sequence[str]) -> dict[str, str]:
        """For records among ``ids`` that a move made: the ended record each replaced ->
        it (``read`` of the ended one reports the same in ``Page.moved``)."""
        ...


@runtime_checkable
class MultiRoleGateway(Gateway, Protocol):
    """A side where one record can hold several entities: a HubSpot company can be a
    customer and a supplier at once."""

    async def find_in_other_roles(
        self, entity: str, field: str, values: Sequence[str]
    ) -> list[Record]:
        """Records without ``entity``'s role whose canonical ``field`` is one of ``values``."""
        ...

    async def adopt(self, entity: str, record_id: str) -> Record:
        """Give an existing record ``entity``'s role; returns it as stored."""
        ...


@runtime_checkable
class CountingGateway(Gateway, Protocol):
    """A side that can tell, in one cheap request, about how many records a listing of
    everything will list (HubSpot: a search's ``total``); a progress bar's estimate."""

    async def count_all(self, entity: str) -> int | None:
        """About how many active records ``list_all`` lists; None if the side cannot
        tell. Only an estimate: a search may not count the newest records yet."""
        ...
