"""Stage 2a: the linked pairs this cycle reconciles, with both records as they are now.

A pair is reconciled when a side brought one of its records changed since the base (or
anything at all in a full sweep), when the recovery settled a write of it, or when one of
its records is due out of quarantine. Records the pull did not bring are read by id.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from syncd.engine.actions import MergedRecord, PairState
from syncd.engine.stages.context import CycleContext
from syncd.engine.stages.listings import SidePull
from syncd.engine.stages.lookups import CycleLookups
from syncd.engine.stages.standing import Standing
from syncd.gateways.base import MovingGateway
from syncd.policy import Direction
from syncd.records import Record, Side
from syncd.state.rows import Link


@dataclass(frozen=True)
class LinkedPairs:
    pairs: list[PairState]
    merged: list[MergedRecord]  # linked records a merge folded into another: not deleted, moved


async def linked_pairs(
    ctx: CycleContext,
    standing: Standing,
    lookups: CycleLookups,
    pulled: Mapping[Side, SidePull],
    handled: frozenset[int],
) -> LinkedPairs:
    await lookups.open_conflict_fields()  # what is unchanged since a conflict opened is left alone
    moves = await _moves_into(ctx, lookups, pulled)
    links = [
        link
        for link in await _links_to_look_at(ctx, standing, lookups, pulled, handled, moves)
        if ctx.full
        or link.id in standing.touched
        or not _is_at_base(ctx, standing, lookups, link, pulled)
    ]
    # A listing of hints (a lagging search index) says which records changed, not what
    # they hold: an earlier version taken for an edit would undo a write. Its records
    # are read by id like those it did not bring (the pairs here are not at their base).
    current = {side: {} if pulled[side].hints_only else dict(pulled[side].records) for side in Side}
    moved: dict[Side, dict[str, str]] = {side: dict(moves[side]) for side in Side}

    async def read_missing(side: Side) -> None:
        # Read what the pull did not bring; even after a full listing, a record missing
        # from it is read once more before it is taken for deleted.
        missing = [link.id_on(side) for link in links if link.id_on(side) not in current[side]]
        if missing:
            page = await lookups.read(side, missing)
            current[side].update({r.id: r for r in page.records})
            moved[side].update(page.moved)

    await asyncio.gather(*(read_missing(side) for side in Side))  # both sides at once
    merged = await _find_merged(lookups, links, current, moved)
    # A link that follows its record's survivor is reconciled with it at once: a move's
    # new company (or a merge's values) reach the other side in this same cycle.
    followed = {
        m.link.id: _repointed(m.link, m.side, m.survivor)
        for m in merged
        if not m.survivor_linked and m.survivor in current[m.side]
    }
    skip = {m.link.id for m in merged} - followed.keys()
    rejected = lookups.rejected.keys()
    pairs = [
        PairState(link, current[Side.CRM].get(link.crm_id), current[Side.AFAS].get(link.afas_id))
        for link in (followed.get(k.id, k) for k in links)
        if link.id not in skip and not any((s, link.id_on(s)) in rejected for s in Side)
    ]
    return LinkedPairs(pairs, merged)


def _repointed(link: Link, side: Side, survivor: str) -> Link:
    if side is Side.CRM:
        return dataclasses.replace(link, crm_id=survivor)
    return dataclasses.replace(link, afas_id=survivor)


def is_unchanged(
    ctx: CycleContext, lookups: CycleLookups, side: Side, link: Link, record: Record
) -> bool:
    """``record`` changed nothing since the pair's base (our own write come back), nor,
    in a field in open conflict, since the conflict opened (the overlap window brings
    a conflicted pair again: it stays as it is, nothing to read or plan)."""
    base = link.base
    conflict_values = lookups.open_conflict_values_if_read().get(link.id or 0, {})
    at = 0 if side is Side.CRM else 1
    for f in ctx.mapping.fields:
        value = record.fields.get(f.name)
        if f.direction is Direction.ON_CREATE or (f.name in base and base[f.name] == value):
            continue
        if f.name not in conflict_values or conflict_values[f.name][at] != value:
            return False
    return True


def _is_at_base(
    ctx: CycleContext,
    standing: Standing,
    lookups: CycleLookups,
    link: Link,
    pulled: Mapping[Side, SidePull],
) -> bool:
    """Each side that brought the pair's record brought it unchanged.

    The overlap window brings records again and our own writes come back: such a
    record changed nothing on its side, and the other side did not show a change
    either, so the pair is left alone as if neither was pulled (no read of the other
    side, nothing to plan). A record in quarantine is never left alone.
    """
    found = [(s, r) for s in Side if (r := pulled[s].records.get(link.id_on(s))) is not None]
    if not found or standing.has_record_in_quarantine(link):
        return False
    return all(is_unchanged(ctx, lookups, side, link, record) for side, record in found)


async def _links_to_look_at(
    ctx: CycleContext,
    standing: Standing,
    lookups: CycleLookups,
    pulled: Mapping[Side, SidePull],
    handled: frozenset[int],
    moves: Mapping[Side, Mapping[str, str]],
) -> list[Link]:
    if ctx.full:
        found = lookups.all_links
    else:
        found = []
        # pairs held for a move to a company not linked: freed once it is (waits.py)
        freed = await ctx.waits.due() if ctx.waits is not None else {}
        for side in Side:
            ids = [
                *pulled[side].records,
                *standing.due_for_retry(side),
                *moves[side],
                *freed.get(side, ()),
            ]
            found.extend((await lookups.links_of(side, ids)).values())
        for link_id in standing.touched:
            link = await ctx.store.get_link(link_id)
            if link is not None:
                found.append(link)
    unique = {
        link.id: link for link in found if link.detached_at is None and link.id not in handled
    }
    active = [link for link in unique.values() if not standing.is_pair_waiting(link)]
    lookups.hand_to_applier(active)
    return active


async def _moves_into(
    ctx: CycleContext, lookups: CycleLookups, pulled: Mapping[Side, SidePull]
) -> dict[Side, dict[str, str]]:
    """Per side, the ended records that unlinked records of this listing replaced by a
    move (an AFAS contact moved to another organisation): old id -> new id.

    A listing of changes brings the new record only; the ended one is not listed (it
    is inactive) and would look deleted at the next sweep, while the new one would be
    created on the other side a second time. A sweep reads every missing linked record
    by id, which tells the same (``Page.moved``)."""
    found: dict[Side, dict[str, str]] = {side: {} for side in Side}
    if ctx.full:
        return found
    for side in Side:
        gateway = ctx.gateways[side]
        ids = list(pulled[side].records)
        if not ids or not isinstance(gateway, MovingGateway):
            continue
        known = await lookups.links_of(side, ids)
        new = [i for i in ids if i not in known]
        if new:
            found[side] = await gateway.moved_here(ctx.entity, new)
    return found


async def _find_merged(
    lookups: CycleLookups,
    links: Sequence[Link],
    current: Mapping[Side, Mapping[str, Record]],
    moved: Mapping[Side, Mapping[str, str]],
) -> list[MergedRecord]:
    """Linked records that a merge folded into another: not deleted, moved."""
    found = []
    for link in links:
        for side in Side:
            old = link.id_on(side)
            survivor = moved[side].get(old)
            if old in current[side] or survivor is None:
                continue
            other = (await lookups.links_of(side, [survivor])).get(survivor)
            found.append(MergedRecord(link, side, survivor, other is not None and other != link))
    return found
