"""Writing companies (or contacts) in batches: 100 per request, a 207 split into
per-record outcomes.

``create_batch``, ``update_batch`` and ``upsert_batch`` check every item's values first
(a refused item costs no request and fails no batch). Creates carry an
``objectWriteTraceId`` so that HubSpot answers a partly bad batch with 207 and still
creates the good companies. ``update_batch`` is not read back: its outcomes are the
fields its answer carries.

Contacts: a create carries its primary company in its ``associations``; an update whose
company changed makes it primary first (one associations request per 100), and a contact
whose only change is its company is read back (one batch read for all such). HubSpot
fails a whole contacts batch create with one 409 when an e-mail is taken, naming only
the contact holding the first taken one; nothing of that batch is created. The items
with that e-mail get a TakenError naming the holder (its e-mail read with one batch
read), and the rest are sent again; if none of them has its e-mail (say the holder has
it as an additional e-mail), the batch is split in halves until the taken item stands
alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from syncd.errors import GatewayError, OutcomeUnknownError, RecordError, TakenError
from syncd.gateways.base import BatchOutcome
from syncd.gateways.hubspot.answers import JsonObject, chunks, properties_of, results_of
from syncd.gateways.hubspot.companies import CompanyMapping
from syncd.gateways.hubspot.reading import BATCH_SIZE, CompanyReader
from syncd.gateways.hubspot.roles import CompanyRoles
from syncd.gateways.hubspot.schemas import PortalSchemas
from syncd.gateways.hubspot.writing import UNIQUE_EMAIL, CompanyWriter
from syncd.mapping import EntityMapping
from syncd.records import Record, Side, Value

__all__ = ["BatchWriter"]

_TRACE = "objectWriteTraceId"
_Outcomes = list[BatchOutcome | None]  # filled in as the answers come
_Inputs = Sequence[tuple[int, JsonObject]]  # (the item's index, what is sent for it)


class BatchWriter:
    """Creates, updates and upserts companies, 100 per request."""

    def __init__(
        self,
        companies: CompanyMapping,
        roles: CompanyRoles,
        schemas: PortalSchemas,
        writer: CompanyWriter,
        reader: CompanyReader,
    ) -> None:
        self._companies = companies
        self._roles = roles
        self._schemas = schemas
        self._writer = writer
        self._reader = reader

    async def create_batch(
        self, entity: str, items: Sequence[tuple[Mapping[str, Value], str]]
    ) -> list[BatchOutcome]:
        """Create companies, 100 per request; one outcome per item, in order.

        Each input carries an ``objectWriteTraceId`` (its index), so that HubSpot answers a
        partly bad batch with 207 and the good companies are still created.
        """
        outcomes: _Outcomes = [None] * len(items)
        inputs: list[tuple[int, JsonObject]] = []
        for index, (fields, correlation) in enumerate(items):
            try:
                body = await self._writer.create_body(entity, fields, correlation)
            except RecordError as exc:
                outcomes[index] = exc
                continue
            inputs.append((index, {**body, "objectWriteTraceId": str(index)}))
        await self._send_all(entity, "create", inputs, outcomes, key="objectWriteTraceId")
        for index, (fields, _) in enumerate(items):
            if isinstance(record := outcomes[index], Record):
                company = self._writer.company_written(entity, fields)
                outcomes[index] = self._writer.primaries.with_company(entity, record, company)
        return _every(outcomes)

    async def update_batch(
        self, entity: str, items: Sequence[tuple[str, Mapping[str, Value], str | None]]
    ) -> list[BatchOutcome]:
        """Partial updates of (id, fields, correlation or None), 100 per request.

        Nothing is read back: each outcome is built from HubSpot's answer, whose results
        carry at least the properties written, as stored. A record holds only the fields
        whose property the answer carries: a left-out property is unknown, not blank (and
        so is the correlation key when it was not written).
        """
        outcomes: _Outcomes = [None] * len(items)
        inputs: list[tuple[int, JsonObject]] = []
        moves: dict[int, tuple[str, str]] = {}  # index -> (record id, its new company)
        for index, (record_id, fields, correlation) in enumerate(items):
            try:
                values = await self._writer.update_values(entity, fields, correlation)
            except RecordError as exc:
                outcomes[index] = exc
                continue
            if company := self._writer.company_written(entity, fields):
                moves[index] = (record_id, company)
            inputs.append((index, {"id": record_id, "properties": values}))
        refused = await self._writer.primaries.make_primary(entity, list(moves.values()))
        for index, (record_id, _) in moves.items():
            if record_id in refused:
                outcomes[index] = refused[record_id]
        sent = [(i, item) for i, item in inputs if outcomes[i] is None]
        only_moved = [(i, item) for i, item in sent if i in moves and not item["properties"]]
        await self._send_all(
            entity, "update", [p for p in sent if p not in only_moved], outcomes, key="ids"
        )
        await self._read_back(entity, [i for i, _ in only_moved], items, outcomes)
        for index, (_, company) in moves.items():
            if isinstance(record := outcomes[index], Record):
                outcomes[index] = self._writer.primaries.with_company(entity, record, company)
        return _every(outcomes)

    async def _read_back(
        self,
        entity: str,
        indexes: Sequence[int],
        items: Sequence[tuple[str, Mapping[str, Value], str | None]],
        outcomes: _Outcomes,
    ) -> None:
        """The records of updates that wrote no property (a contact given another
        company), read by id in one batch read: their modification time as stored."""
        if not indexes:
            return
        found = await self._reader.batch_read(entity, [items[i][0] for i in indexes])
        by_id = {obj["id"]: obj for obj in found}
        for index in indexes:
            obj = by_id.get(items[index][0])
            outcomes[index] = (
                self._outcome(entity, obj, answered_only=False)
                if obj is not None
                else RecordError("HubSpot has no such record (any more)")
            )

    async def upsert_batch(
        self, entity: str, items: Sequence[tuple[str, Mapping[str, Value]]]
    ) -> list[BatchOutcome]:
        """Create or update by correlation key (the unique property), 100 per request.

        The role is added to the roles a company already has, never put in their place.
        A contact's company (an association) is not written by an upsert.
        """
        spec = self._companies.spec(entity)
        existing = {
            properties_of(obj).get(spec.correlation): obj
            for obj in await self._reader.batch_read(
                entity, [key for key, _ in items], id_property=spec.correlation
            )
        }
        outcomes: _Outcomes = [None] * len(items)
        inputs: list[tuple[int, JsonObject]] = []
        for index, (key, fields) in enumerate(items):
            try:
                values = self._writer.native(entity, fields)
                if role := self._roles.role(entity):
                    have = existing.get(key, {}).get("properties", {}).get(role.property_name)
                    values[role.property_name] = role.value_with_role(have)
                await self._schemas.check(entity, values)
            except RecordError as exc:
                outcomes[index] = exc
                continue
            item = {"id": key, "idProperty": spec.correlation, "properties": values}
            inputs.append((index, item))
        await self._send_all(entity, "upsert", inputs, outcomes, key="ids")
        return _every(outcomes)

    async def _send_all(
        self, entity: str, operation: str, inputs: _Inputs, outcomes: _Outcomes, *, key: str
    ) -> None:
        """Send every input, 100 per request.

        An error of a whole request is raised: as it is for the first request, as
        OutcomeUnknownError once an earlier request went through (some items were written).
        """
        for number, chunk in enumerate(chunks(inputs, BATCH_SIZE)):
            try:
                if operation == "create":
                    await self._create_resolving_taken(entity, chunk, outcomes)
                else:
                    await self._send_batch(entity, operation, chunk, outcomes, key=key)
            except GatewayError as exc:
                if number == 0:
                    raise
                raise OutcomeUnknownError(
                    f"batch/{operation} failed after {number * BATCH_SIZE} of "
                    f"{len(inputs)} items were written: {exc}"
                ) from exc

    async def _create_resolving_taken(
        self, entity: str, chunk: _Inputs, outcomes: _Outcomes
    ) -> None:
        """A batch create; when HubSpot refuses it whole for a taken e-mail, the items
        with that e-mail get the TakenError and the others are sent again."""
        try:
            await self._send_batch(entity, "create", chunk, outcomes, key=_TRACE, taken=True)
            return
        except TakenError as taken:
            if len(chunk) == 1:
                outcomes[chunk[0][0]] = taken
                return
            holding = await self._holding_email(entity, taken.existing_id, chunk)
            for index in holding:
                outcomes[index] = taken
            rest = [(i, item) for i, item in chunk if i not in holding]
            halves = [rest] if holding else [rest[: len(rest) // 2], rest[len(rest) // 2 :]]
        for part in halves:
            if part:
                await self._create_resolving_taken(entity, part, outcomes)

    async def _holding_email(self, entity: str, holder: str, chunk: _Inputs) -> set[int]:
        """The items of ``chunk`` whose e-mail is the one the contact ``holder`` has."""
        found = await self._reader.batch_read(entity, [holder])
        emails = {str(properties_of(o).get(UNIQUE_EMAIL) or "").casefold() for o in found}
        emails.discard("")
        return {
            index
            for index, item in chunk
            if str(properties_of(item).get(UNIQUE_EMAIL) or "").casefold() in emails
        }

    async def _send_batch(
        self,
        entity: str,
        operation: str,
        chunk: _Inputs,
        outcomes: _Outcomes,
        *,
        key: str,
        taken: bool = False,
    ) -> None:
        """One batch request; fills ``outcomes`` for the chunk's items (``taken``: a
        TakenError of the whole request is raised, for the caller to find its item)."""
        body = {"inputs": [item for _, item in chunk]}
        path = f"{self._companies.path(entity)}/batch/{operation}"
        try:
            answer = await self._writer.send("POST", path, entity, body)
        except RecordError as exc:  # HubSpot refused the whole request
            if taken and isinstance(exc, TakenError):
                raise
            for index, _ in chunk:
                outcomes[index] = exc
            return
        by_key = {_input_key(item, key): index for index, item in chunk}  # trace id or id
        for obj in results_of(answer, f"POST {path}", write=True):
            trace = obj.get("objectWriteTraceId") if key == "objectWriteTraceId" else None
            found = by_key.get(trace) if trace is not None else _input_index(obj, chunk, by_key)
            if found is not None:
                outcomes[found] = self._outcome(entity, obj, answered_only=operation == "update")
        errors = answer.get("errors")
        for error in errors if isinstance(errors, list) else []:
            context = error.get("context") if isinstance(error, dict) else None
            refs = context.get(key) if isinstance(context, dict) else None
            for ref in refs if isinstance(refs, list) else []:
                if (failed := by_key.get(str(ref))) is not None:
                    outcomes[failed] = self._writer.refusal(entity, error)
        for index, _ in chunk:
            if outcomes[index] is None:
                outcomes[index] = RecordError(
                    f"HubSpot's answer to batch/{operation} did not mention this record"
                )

    def _outcome(self, entity: str, obj: JsonObject, *, answered_only: bool) -> BatchOutcome:
        """A batch result as its record (only the fields it carries, with
        ``answered_only``), or the RecordError of a result that cannot be read."""
        try:
            record = self._companies.stored_record(entity, obj)
        except RecordError as exc:
            return exc
        if answered_only:
            return _answered_fields(record, self._companies.mapping(entity), properties_of(obj))
        return record


def _input_index(obj: JsonObject, chunk: _Inputs, by_key: Mapping[str, int]) -> int | None:
    """The input a batch result answers: by id, or by the upsert's unique value."""
    if obj["id"] in by_key:
        return by_key[obj["id"]]
    for _, item in chunk:
        id_property = item.get("idProperty")
        if id_property and properties_of(obj).get(id_property) == item["id"]:
            return by_key.get(item["id"])
    return None


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


def _input_key(item: Mapping[str, Any], key: str) -> str:
    return str(item.get("objectWriteTraceId") if key == "objectWriteTraceId" else item["id"])


def _every(outcomes: _Outcomes) -> list[BatchOutcome]:
    """The outcomes, once every item has one."""
    assert all(o is not None for o in outcomes)
    return [o for o in outcomes if o is not None]
