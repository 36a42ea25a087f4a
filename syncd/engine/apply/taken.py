"""A create refused because its unique value is taken: adopt that record, or say why not.

HubSpot keeps a contact's e-mail unique and answers a create with a taken one with the
contact holding it. That contact may be the very person the create was for (matching
did not find it: HubSpot's search had not shown it yet), so it is *adopted*: linked
instead of created, and the fields on which the two differ are settled as at a first
link. It is the same person only when it is not linked already and is at the same
company; otherwise the create is refused with the reason, never sent again as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from syncd.engine.actions import Create
from syncd.engine.apply.context import ApplyContext
from syncd.errors import RecordError, TakenError
from syncd.gateways.base import BatchOutcome, Gateway
from syncd.records import Record, Side, Value

__all__ = ["Adoption", "adopt_taken"]


@dataclass(frozen=True)
class Adoption:
    """The record a create found holding its unique value, and the base to link with:
    the fields on which both already agree."""

    record: Record
    base: Mapping[str, Value]


async def adopt_taken(
    context: ApplyContext,
    gateway: Gateway,
    target: Side,
    creates: Sequence[Create],
    outcomes: Sequence[BatchOutcome],
    company_field: str | None,
) -> list[BatchOutcome | Adoption]:
    """``outcomes``, each TakenError replaced by an :class:`Adoption` of the record
    holding the value when that is the same person, else by a RecordError saying why."""
    taken = [o.existing_id for o in outcomes if isinstance(o, TakenError)]
    if not taken:
        return list(outcomes)
    found = {r.id: r for r in (await gateway.read(context.entity, taken)).records}
    linked = await context.store.links_by_ids(context.connection, context.entity, target, taken)
    decided: list[BatchOutcome | Adoption] = []
    for create, outcome in zip(creates, outcomes, strict=True):
        if not isinstance(outcome, TakenError):
            decided.append(outcome)
            continue
        existing = found.get(outcome.existing_id)
        why = _why_not(outcome, existing, outcome.existing_id in linked, create, company_field)
        if why is not None or existing is None:
            decided.append(RecordError(why or "", field=outcome.field))
            continue
        agreed = {k: v for k, v in create.base.items() if existing.fields.get(k) == v}
        decided.append(Adoption(existing, agreed))
    return decided


def _why_not(
    taken: TakenError,
    existing: Record | None,
    linked: bool,
    create: Create,
    company_field: str | None,
) -> str | None:
    """Why the record holding the value is not the one to create, or None if it is."""
    holder = f"{taken.existing_id}"
    if existing is None:
        return f"{taken}; record {holder} holding it is archived or gone: restore or free it"
    if linked:
        return f"{taken}; record {holder} holding it is linked to another record already"
    if company_field is not None:
        wanted, has = create.fields.get(company_field), existing.fields.get(company_field)
        if wanted != has:
            return (
                f"{taken}; record {holder} holding it is at another company ({has}, not "
                f"{wanted}): move or correct one of them"
            )
    return None
