"""Writing relations through UpdateConnectors, one record a request.

``create`` POSTs the relation with a new organisation (``MatchOga`` 6, ``AutoNum`` as
configured) and the correlation key at ``correlation_update``; ``create_beside`` POSTs it
under the organisation of a relation of another entity (``MatchOga`` 0 with that
relation's organisation number, read from its GetConnector's ``organisation`` field):
the debtor and the creditor of one company share it; ``update`` PUTs only the given
fields, finding the organisation through the relation (``MatchOga`` 9) and dating an
address change today (``BeginDate``); ``deactivate`` PUTs ``deactivate_update`` = true
(customers are blocked, never deleted). After a write the record is read back, so the
engine sees it as stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from syncd.errors import GatewayError, OutcomeUnknownError, RecordError
from syncd.gateways.afas.client import AfasClient
from syncd.gateways.afas.payload import connector_payload
from syncd.gateways.afas.reading import RelationReader
from syncd.gateways.afas.relations import RelationMapping
from syncd.gateways.base import BatchOutcome
from syncd.records import Page, Record, RejectedRecord, Value

__all__ = ["RelationWriter", "WriteOptions", "unreadable_error", "write_all"]

_Written = TypeVar("_Written")

_RELATION_FLAGS = {"KnSalesRelationOrg": "IsDb", "KnPurchaseRelationOrg": "IsCr"}


@dataclass(frozen=True)
class WriteOptions:
    """How new relations are made (the administrator's choices, see docs/afas-setup.md)."""

    currency: str = "EUR"
    autonum: bool = True  # let Profit number the organisation


class RelationWriter:
    """Creates, updates and blocks relations, and reads back what it wrote."""

    def __init__(
        self,
        client: AfasClient,
        relations: RelationMapping,
        reader: RelationReader,
        options: WriteOptions,
        today: Callable[[], date],
    ) -> None:
        self._client = client
        self._relations = relations
        self._reader = reader
        self._options = options
        self._today = today

    async def create(self, entity: str, fields: Mapping[str, Value], correlation: str) -> Record:
        return await self._read_back_one(entity, await self._post(entity, fields, correlation))

    async def update(
        self,
        entity: str,
        record_id: str,
        fields: Mapping[str, Value],
        correlation: str | None = None,
    ) -> Record:
        await self._put(entity, record_id, fields, correlation)
        return await self._read_back_one(entity, record_id)

    async def create_beside(
        self,
        entity: str,
        items: Sequence[tuple[Mapping[str, Value], str]],
        beside: Mapping[str, tuple[str, str]],
    ) -> list[BatchOutcome]:
        """Create (fields, correlation) items: one POST each, sent side by side up to the
        client's concurrency, then read back together. An item whose correlation
        ``beside`` names (with an entity and a relation of it) goes under that relation's
        organisation; a relation that is gone leaves its item to a new organisation."""
        organisations = await self._reader.organisations(beside)
        writes = [
            self._post(entity, fields, correlation, organisations.get(correlation))
            for fields, correlation in items
        ]
        return await self._read_back(entity, await write_all(writes))

    async def update_batch(
        self, entity: str, items: Sequence[tuple[str, Mapping[str, Value], str | None]]
    ) -> list[BatchOutcome]:
        """Partial updates of (id, fields, correlation or None), as :meth:`create_beside`."""
        writes = [self._put(entity, *item) for item in items]
        return await self._read_back(entity, await write_all(writes))

    async def deactivate(self, entity: str, record_id: str) -> None:
        spec = self._relations.spec(entity)
        connector, key = spec.options["update_connector"], spec.options["update_key"]
        flag = {spec.options["deactivate_update"]: True}
        body = connector_payload(connector, flag, key=(key, record_id))
        await self._client.put(f"connectors/{connector}", body)

    async def _post(
        self,
        entity: str,
        fields: Mapping[str, Value],
        correlation: str,
        organisation: str | None = None,
    ) -> str:
        """Create one relation (under ``organisation``, if given); its number."""
        spec = self._relations.spec(entity)
        connector, key = spec.options["update_connector"], spec.options["update_key"]
        values = self._relations.native(entity, fields)
        values[spec.options["correlation_update"]] = correlation
        defaults = self._create_defaults(connector, organisation)
        body = connector_payload(connector, values, defaults=defaults, always=["KnOrganisation"])
        answer = await self._client.post(f"connectors/{connector}", body)
        return _created_key(answer, connector, key)

    async def _put(
        self, entity: str, record_id: str, fields: Mapping[str, Value], correlation: str | None
    ) -> str:
        """Update one relation; its number."""
        spec = self._relations.spec(entity)
        connector, key = spec.options["update_connector"], spec.options["update_key"]
        values = self._relations.native(entity, fields)
        if correlation is not None:
            values[spec.options["correlation_update"]] = correlation
        defaults = self._update_defaults()
        body = connector_payload(connector, values, key=(key, record_id), defaults=defaults)
        await self._client.put(f"connectors/{connector}", body)
        return record_id

    async def _read_back(
        self, entity: str, written: Sequence[str | RecordError]
    ) -> list[BatchOutcome]:
        """Each written relation as stored (or why it cannot be), in ``written``'s order."""
        page = await self._reader.read(entity, [w for w in written if isinstance(w, str)])
        return as_stored(entity, written, page)

    async def _read_back_one(self, entity: str, record_id: str) -> Record:
        [outcome] = await self._read_back(entity, [record_id])
        if isinstance(outcome, RecordError):
            raise outcome
        return outcome

    def _create_defaults(
        self, connector: str, organisation: str | None
    ) -> dict[str, Mapping[str, object]]:
        relation: dict[str, object] = {"CuId": self._options.currency}
        flag = _RELATION_FLAGS.get(connector)
        if flag is not None:
            relation[flag] = True
        if organisation is None:  # always a new organisation (never one found by KvK)
            new = {"PadAdr": True, "AutoNum": self._options.autonum, "MatchOga": "6"}
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


def as_stored(entity: str, written: Sequence[str | RecordError], page: Page) -> list[BatchOutcome]:
    """Each write as ``page`` read it back (or why it cannot be), in ``written``'s order:
    a refused write is its RecordError, a written one its record."""
    stored = {r.id: r for r in page.records}
    rejected = {r.id: r for r in page.rejected}
    return [
        w if isinstance(w, RecordError) else stored.get(w) or unreadable_error(entity, w, rejected)
        for w in written
    ]


def unreadable_error(
    entity: str, record_id: str, rejected: Mapping[str, RejectedRecord]
) -> RecordError:
    """Why a relation just written cannot be returned as stored."""
    bad = rejected.get(record_id)
    if bad is not None:
        return RecordError(bad.message, field=bad.field, reference=record_id)
    message = f"AFAS {entity} {record_id} was written but is blocked or gone"
    return RecordError(message, reference=record_id)


async def write_all(writes: Sequence[Awaitable[_Written]]) -> list[_Written | RecordError]:
    """Run independent writes at once: what each one gives, or the RecordError refusing it.

    An error of a whole request is raised as it is when nothing was written, and as
    OutcomeUnknownError when some writes went through, so that every intent stays
    pending and is settled by a lookup (the engine's recovery), never repeated blindly.
    """
    results = await asyncio.gather(*writes, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException) and not isinstance(r, RecordError)]
    done = [r for r in results if not isinstance(r, BaseException)]
    if failed:
        if not done and isinstance(failed[0], GatewayError):
            raise failed[0]
        if isinstance(failed[0], GatewayError):
            raise OutcomeUnknownError(
                f"{len(done)} of {len(results)} AFAS writes went through, then: {failed[0]}"
            ) from failed[0]
        raise failed[0]
    return [r for r in results if not isinstance(r, BaseException) or isinstance(r, RecordError)]


def _created_key(answer: object, connector: str, key: str) -> str:
    """The key AFAS gave the new record; OutcomeUnknownError when its answer says none."""
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
