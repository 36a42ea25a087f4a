"""Safety guards: the checks that refuse a plan, and an operator's confirmation of them.

**Checks** (pure): a plan is refused before anything is written when a side that had
records lists none (a broken connector looks exactly like that), or when it would
detach or blank more than a set share of an entity's links.

**Confirmations**, kept as status events: a refused plan is not applied, and every cycle
logs ``guard_tripped`` again, so status keeps showing it. (An incremental cycle has
applied its other changes by then, as their pages came: only what a guard counts waits
for the whole plan, see :mod:`syncd.engine.speed.page_by_page`.) An operator who has
checked the plan (``syncd plan``) confirms with ``syncd guards confirm``: that logs
``guard_confirmed`` with, per guard, how many records the tripped plan would affect.
The next cycle applies a plan whose findings are all covered by it: the same guards, no
more records each. A confirmation is used up by the next cycle that finishes, so a later
trip needs a new one; one that covers fewer records than a bigger plan does not let
that plan through.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from syncd.engine.actions import Action, Detach, GuardFinding, Plan, Update
from syncd.engine.held_plan import HeldPlan
from syncd.events import EventName
from syncd.records import is_blank
from syncd.state.rows import StatusEvent

# Types only: the planner imports this module, and it stays free of the store.
if TYPE_CHECKING:
    from syncd.engine.plan import PlanInput
    from syncd.state.store import StateStore

# --- checks ---------------------------------------------------------------------------

SHOWN = 10  # records of a finding kept for the operator to look at; the count has them all


def check_guards(plan: Plan, inputs: PlanInput) -> list[GuardFinding]:
    """Findings that must stop the plan before anything is written."""
    guards = inputs.rules.guards
    findings: list[GuardFinding] = []
    if inputs.listed is not None and guards.refuse_empty_side and inputs.link_count > 0:
        for side, count in inputs.listed.items():
            if count == 0:
                findings.append(
                    GuardFinding(
                        "empty_side",
                        f"{side} listed no {inputs.entity} records, but {inputs.link_count} are "
                        "linked: a broken connector looks exactly like this",
                        inputs.link_count,
                    )
                )
    if inputs.link_count < guards.min_records_for_share:
        return findings
    gone = [(a.link.crm_id, a.link.afas_id) for a in plan.actions if isinstance(a, Detach)]
    if len(gone) / inputs.link_count > guards.max_delete_share:
        findings.append(
            GuardFinding(
                "delete_share",
                f"{len(gone)} of {inputs.link_count} linked {inputs.entity} records are gone on "
                f"one side (limit {guards.max_delete_share:.0%})",
                len(gone),
                tuple(gone[:SHOWN]),
            )
        )
    blanking = [a.pair for a in plan.actions if isinstance(a, Update) and _blanks_a_field(a)]
    if len(blanking) / inputs.link_count > guards.max_blank_share:
        findings.append(
            GuardFinding(
                "blank_share",
                f"{len(blanking)} of {inputs.link_count} linked {inputs.entity} records would "
                f"have a filled field blanked (limit {guards.max_blank_share:.0%})",
                len(blanking),
                tuple(blanking[:SHOWN]),
            )
        )
    return findings


def counted_by_guards(action: Action) -> bool:
    """An action a guard counts (a record gone, a filled field blanked): it waits for
    the guards' judgement of the whole cycle's plan."""
    return isinstance(action, Detach) or (isinstance(action, Update) and _blanks_a_field(action))


def _blanks_a_field(update: Update) -> bool:
    return any(
        is_blank(value) and not is_blank(update.before.get(name))
        for name, value in update.fields.items()
    )


# --- confirmations --------------------------------------------------------------------


@dataclass(frozen=True)
class Trip:
    """A guard as the newest cycle that tripped it reported it."""

    guard: str
    message: str
    count: int
    event_id: int
    pairs: tuple[tuple[str, str], ...] = ()  # the first few records it counts (crm, afas)


def are_covered(findings: Sequence[GuardFinding], confirmation: Mapping[str, int]) -> bool:
    """True when a confirmation lets a plan with these findings through."""
    return bool(findings) and all(
        f.guard in confirmation and f.count <= confirmation[f.guard] for f in findings
    )


async def read_trips(store: StateStore, connection: str, entity: str) -> list[Trip]:
    """Guards tripped since the last cycle that finished, newest report per guard."""
    since = await _newest_id(store, connection, entity, EventName.CYCLE_FINISHED)
    found: dict[str, Trip] = {}
    for event in await store.events(
        connection, entity=entity, names=[EventName.GUARD_TRIPPED], after_id=since
    ):
        guard = str(event.data.get("guard"))
        message = str(event.data.get("message", ""))
        found[guard] = Trip(guard, message, _count(event), event.id or 0, _pairs(event))
    return sorted(found.values(), key=lambda t: t.guard)


async def read_held_plan(store: StateStore, connection: str, entity: str) -> HeldPlan | None:
    """What the plan the lane's guards held back last would write; None when no guard
    has tripped since the last finished cycle."""
    if not await read_trips(store, connection, entity):
        return None
    found = await store.held_plan(connection, entity)
    return HeldPlan.from_data(*found) if found is not None else None


async def read_confirmation(store: StateStore, connection: str, entity: str) -> dict[str, int]:
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
    trips = await read_trips(store, connection, entity)
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


def _pairs(event: StatusEvent) -> tuple[tuple[str, str], ...]:
    found = event.data.get("records")
    if not isinstance(found, list):
        return ()
    return tuple((str(p[0]), str(p[1])) for p in found if isinstance(p, list) and len(p) == 2)


def _count(event: StatusEvent) -> int:
    value = event.data.get("count")
    return value if isinstance(value, int) else 0
