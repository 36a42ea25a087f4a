"""An operator's confirmation of a tripped guard, kept as status events.

A plan that trips a guard (a side that lists nothing, a mass delete, a mass blanking) is
not applied; every cycle logs ``guard_tripped`` again, so status keeps showing it. (An
incremental cycle has applied its other changes by then, as their pages came: only what
a guard counts waits for the whole plan, see :mod:`syncd.engine.waves`.) An
operator who has checked the plan (``syncd plan``) confirms with ``syncd guards confirm``:
that logs ``guard_confirmed`` with, per guard, how many records the tripped plan would
affect. The next cycle applies a plan whose findings are all covered by it: the same
guards, no more records each. A confirmation is used up by the next cycle that finishes,
so a later trip needs a new one; one that covers fewer records than a bigger plan does
not let that plan through.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from syncd.engine.plan import GuardFinding
from syncd.events import EventName
from syncd.state.rows import StatusEvent
from syncd.state.store import StateStore


@dataclass(frozen=True)
class Trip:
    """A guard as the newest cycle that tripped it reported it."""

    guard: str
    message: str
    count: int
    event_id: int


def covered(findings: Sequence[GuardFinding], confirmed: Mapping[str, int]) -> bool:
    """True when a confirmation lets a plan with these findings through."""
    return bool(findings) and all(
        f.guard in confirmed and f.count <= confirmed[f.guard] for f in findings
    )


async def tripped(store: StateStore, connection: str, entity: str) -> list[Trip]:
    """Guards tripped since the last cycle that finished, newest report per guard."""
    since = await _newest_id(store, connection, entity, EventName.CYCLE_FINISHED)
    found: dict[str, Trip] = {}
    for event in await store.events(
        connection, entity=entity, names=[EventName.GUARD_TRIPPED], after_id=since
    ):
        guard = str(event.data.get("guard"))
        found[guard] = Trip(guard, str(event.data.get("message", "")), _count(event), event.id or 0)
    return sorted(found.values(), key=lambda t: t.guard)


async def confirmed(store: StateStore, connection: str, entity: str) -> dict[str, int]:
    """The confirmation not yet used up by a finished cycle: records allowed per guard."""
    finished = await _newest_id(store, connection, entity, EventName.CYCLE_FINISHED)
    found = await store.events(
        connection,
        entity=entity,
        names=[EventName.GUARD_CONFIRMED],
        after_id=finished,
        limit=1,
        newest=True,
    )
    guards = found[-1].data.get("guards") if found else None
    return {str(k): int(v) for k, v in guards.items()} if isinstance(guards, dict) else {}


async def confirm(
    store: StateStore, connection: str, entity: str, *, by: str | None = None
) -> list[Trip]:
    """Confirm every guard tripped since the last finished cycle; returns them."""
    trips = await tripped(store, connection, entity)
    if trips:
        async with store.transaction() as tx:
            await tx.add_event(
                StatusEvent(
                    connection,
                    entity,
                    str(EventName.GUARD_CONFIRMED),
                    data={"guards": {t.guard: t.count for t in trips}, "by": by},
                )
            )
    return trips


async def _newest_id(store: StateStore, connection: str, entity: str, name: EventName) -> int:
    found = await store.events(connection, entity=entity, names=[name], limit=1, newest=True)
    return found[-1].id or 0 if found else 0


def _count(event: StatusEvent) -> int:
    value = event.data.get("count")
    return value if isinstance(value, int) else 0
