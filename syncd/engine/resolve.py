"""An operator settles a conflict: take one side's value, or give the value."""

from __future__ import annotations

from dataclasses import dataclass

from syncd.engine.actions import Action, AdvanceBase, Update
from syncd.engine.apply.applier import Applier
from syncd.engine.cycle import Connection
from syncd.engine.reconcile import FieldDecision, Outcome
from syncd.errors import SyncdError
from syncd.events import EventName
from syncd.records import Record, Side, Value
from syncd.state.rows import Conflict, StatusEvent


class ResolveError(SyncdError):
    """The conflict cannot be resolved as asked (unknown id, a record gone...)."""


class ConflictNotOpen(ResolveError):
    """No such open conflict: unknown, or settled already (by a cycle or a person)."""


@dataclass(frozen=True)
class Resolution:
    conflict: Conflict
    value: Value
    written: tuple[Side, ...]


async def find_conflict(conn: Connection, conflict_id: int) -> Conflict:
    for conflict in await conn.store.conflicts(conn.name):
        if conflict.id == conflict_id:
            return conflict
    raise ConflictNotOpen(f"no open conflict {conflict_id} in connection {conn.name!r}")


async def resolve_conflict(
    conn: Connection,
    conflict_id: int,
    *,
    take: Side | None = None,
    value: Value = None,
    by: str | None = None,
) -> Resolution:
    """Write the chosen value where it differs (journalled), then close the conflict.

    ``take`` uses that side's *current* value (read now, not the one recorded with the
    conflict), so an edit made since is not thrown away by accident. ``by`` (who settled
    it: a user name, the status page) is named in the ``conflict_closed`` event.
    """
    conflict = await find_conflict(conn, conflict_id)
    link = await conn.store.get_link(conflict.link_id)
    if link is None or link.id is None or link.detached_at is not None:
        raise ResolveError(f"conflict {conflict_id}: its link is gone")
    records = {
        side: await _read_record(conn, conflict.entity, side, link.id_on(side)) for side in Side
    }
    field = conn.mappings[conflict.entity].field(conflict.field)
    chosen = records[take].fields.get(conflict.field) if take else field.normal(value)
    how = f"operator took {take}" if take else "operator gave the value"
    pair = (link.crm_id, link.afas_id)
    actions: list[Action] = []
    for side in Side:
        before = records[side].fields.get(conflict.field)
        if before != chosen:
            decision = FieldDecision(conflict.field, Outcome.RESOLVED, chosen, side, how)
            actions.append(
                Update(pair, side, {conflict.field: chosen}, (decision,), {conflict.field: before})
            )
    if not actions:
        actions.append(AdvanceBase(pair, {conflict.field: chosen}))
    applier = Applier(
        conn.store,
        conn.gateways,
        conn.name,
        conflict.entity,
        {pair: link},
        {},
        conn.now,
        record_name=conn.mappings[conflict.entity].display_name,
    )
    counts = await applier.apply(actions)
    if counts["quarantined"]:
        raise ResolveError(f"conflict {conflict_id}: a side refused the value; see quarantine")
    await _close_conflict(conn, conflict, link.crm_id, how, by)
    return Resolution(conflict, chosen, tuple(a.target for a in actions if isinstance(a, Update)))


async def _read_record(conn: Connection, entity: str, side: Side, record_id: str) -> Record:
    page = await conn.gateways[side].read(entity, [record_id])
    for record in page.records:
        return record
    raise ResolveError(f"{side} record {record_id} is gone or cannot be read")


async def _close_conflict(
    conn: Connection, conflict: Conflict, crm_id: str, how: str, by: str | None
) -> None:
    async with conn.store.transaction() as tx:
        for closed in await tx.close_conflicts(conflict.link_id, [conflict.field], how):
            await tx.add_event(
                StatusEvent(
                    conn.name,
                    conflict.entity,
                    str(EventName.CONFLICT_CLOSED),
                    record=crm_id,
                    data={"field": closed.field, "resolution": how, "by": by},
                )
            )
