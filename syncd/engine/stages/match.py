"""Stage 2b, match: the unlinked records of both sides, matched against the other side
(link to an existing record, or plan a create), and what sibling entities say of the
records to create."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from syncd.engine.actions import MergedRecord, Note
from syncd.engine.awaiting import GONE, AwaitingReview
from syncd.engine.match import MatchDecision, MatchInput, MatchKind, match_unlinked, unmatched
from syncd.engine.siblings import find_afas_siblings, find_crm_waits
from syncd.engine.speed.seam import SpeedStrategy
from syncd.engine.stages.context import CycleContext
from syncd.engine.stages.listings import SidePull
from syncd.engine.stages.lookups import CycleLookups
from syncd.engine.stages.standing import Standing
from syncd.events import EventName
from syncd.gateways.base import MultiRoleGateway, SharingGateway
from syncd.records import Record, Side


@dataclass(frozen=True)
class Matches:
    decisions: list[MatchDecision]
    gone_held: list[Note]  # held for review, read by id and not found
    # Records to create that wait for a sibling's create first, by the sibling's name.
    sibling_first: dict[tuple[Side, str], str] = field(default_factory=dict)
    sibling_linked: dict[str, str] = field(default_factory=dict)  # AFAS records of a linked company


async def match(
    ctx: CycleContext,
    speed: SpeedStrategy,
    standing: Standing,
    lookups: CycleLookups,
    pulled: Mapping[Side, SidePull],
    merged: Sequence[MergedRecord],
) -> Matches:
    matching = _Matching(ctx, speed, standing, lookups, merged)
    decisions = await matching.decide(pulled)
    first, linked = await _ask_siblings(ctx, decisions)
    return Matches(decisions, matching.gone_held, first, linked)


class _Matching:
    """The look-ups that find what the unlinked records of one cycle could pair with."""

    def __init__(
        self,
        ctx: CycleContext,
        speed: SpeedStrategy,
        standing: Standing,
        lookups: CycleLookups,
        merged: Sequence[MergedRecord],
    ) -> None:
        self.ctx = ctx
        self.speed = speed
        self.standing = standing
        self.lookups = lookups
        self.merged = merged
        self.gone_held: list[Note] = []

    async def decide(self, pulled: Mapping[Side, SidePull]) -> list[MatchDecision]:
        awaiting = await self.lookups.awaiting_review()
        waits = self.ctx.waits
        freed = await waits.due() if waits is not None else {side: [] for side in Side}
        # A listing of hints has its unlinked records read by id: matching uses these.
        listed = {side: dict(pulled[side].records) for side in Side}
        unlinked = {
            side: await self._unlinked(
                side, listed[side], pulled[side].hints_only, awaiting, freed[side]
            )
            for side in Side
        }
        if not any(unlinked.values()):
            return []
        candidates = {
            side: await self._candidates(
                side, unlinked[side.other], listed[side], pulled[side].complete, awaiting
            )
            for side in Side
        }
        linked = {
            side: frozenset(await self.lookups.links_of(side, [c.id for c in candidates[side]]))
            for side in Side
        }
        keys, held = self.ctx.mapping.match_keys, self._held_records()
        review, declined = self.ctx.mapping.review_keys, awaiting.declined
        # Only records that would be created can be adopted: after change listings, a
        # first pass finds those, to look up just theirs. Whole listings brought every
        # record of the other entity already: matching picks among them, no pass needed.
        creating: Mapping[Side, Sequence[Record]] = {side: () for side in Side}
        if not all(p.complete for p in pulled.values()):
            creating = await self.speed.run_pure(
                unmatched,
                MatchInput(
                    unlinked, candidates, linked, keys, held, review_keys=review, declined=declined
                ),
            )
        adoptable = {
            side: _by_id(
                await self._adoptable(side, creating[side.other], pulled[side])
                + await self._named_in_other_roles(side, unlinked[side.other], candidates[side])
            )
            for side in Side
        }
        inputs = MatchInput(unlinked, candidates, linked, keys, held, adoptable, review, declined)
        return await self.speed.run_pure(match_unlinked, inputs)

    async def _unlinked(
        self,
        side: Side,
        records: dict[str, Record],
        hints_only: bool,
        awaiting: AwaitingReview,
        freed: Sequence[str],
    ) -> list[Record]:
        """``side``'s unlinked records (but those waiting for their company); with
        ``hints_only``, as read by id now (and so in ``records`` too: matching and
        creating use what they hold). ``freed``: waiting ones whose company is linked now
        (those of linked pairs, held for a move, are the pairs stage's)."""
        found = dict(records)
        freed_links = await self.lookups.links_of(side, freed)
        freed = [i for i in freed if i not in freed_links]
        # Held for review before the last review: decided again, as the review may
        # have settled them (a declined look-alike is created).
        reviewed = [i for i, before in awaiting.held[side].items() if before]
        doubted = self.standing.doubted[side]
        retry = self.standing.due_for_retry(side)
        due = [i for i in [*retry, *doubted, *reviewed, *freed] if i not in found]
        if due:
            found.update({r.id: r for r in (await self.lookups.read(side, due)).records})
        waits = self.ctx.waits
        if waits is not None:  # a freed record that is gone waits no more
            waits.release(side, [i for i in freed if i not in found])
        known = await self.lookups.links_of(side, list(found))
        survivors = {m.survivor for m in self.merged if m.side is side}  # links follow them
        unlinked = [
            r
            for r in found.values()
            if r.id not in known
            and r.id not in survivors
            and r.id not in self.standing.in_doubt[side]
            and not self.standing.is_waiting_in_quarantine(side, r.id)
        ]
        if hints_only:
            unlinked = await self._as_read(side, unlinked, records)
        return unlinked if waits is None else await waits.sort(side, unlinked)

    async def _as_read(
        self, side: Side, records: list[Record], listed: dict[str, Record]
    ) -> list[Record]:
        """``records`` listed as hints, as read by id now (those gone are dropped)."""
        stale = [r.id for r in records if r.id not in self.lookups.read_now[side]]
        if not stale:
            return records
        asked = set(stale)
        now = {r.id: r for r in (await self.lookups.read(side, stale)).records if r.id in asked}
        for record_id in stale:
            listed.pop(record_id, None)
        listed.update(now)
        return [now.get(r.id, r) for r in records if r.id in now or r.id not in asked]

    async def _candidates(
        self,
        side: Side,
        seeking: Sequence[Record],
        listed: Mapping[str, Record],
        complete: bool,
        awaiting: AwaitingReview,
    ) -> list[Record]:
        """Records on ``side`` that the other side's unlinked records could pair with."""
        found = dict(listed)
        if complete or not seeking:
            return list(found.values())
        gateway = self.ctx.gateways[side]
        own_keys = [r.correlation for r in seeking if r.correlation]
        # Records held for review are unlinked and may be what ``seeking`` resembles:
        # only a whole listing would bring them otherwise.
        waiting = [i for i in awaiting.held[side] if i not in found]
        if own_keys or waiting:
            ids = [*own_keys, *waiting]
            found.update({r.id: r for r in (await self.lookups.read(side, ids)).records})
            gone = [i for i in waiting if i not in found and not self.lookups.unreadable(side, i)]
            self.gone_held += [Note(side, i, EventName.HELD_RECORD_GONE, GONE) for i in gone]
        entity = self.ctx.entity
        back = await gateway.find_by_correlation(entity, [r.id for r in seeking])
        found.update({r.id: r for r in back.values()})
        for name in self._exact_key_fields():
            values = sorted({v for r in seeking if (v := r.fields.get(name))})
            if values:
                hits = await gateway.find_by_values(entity, name, values)
                found.update({r.id: r for r in hits})
        return list(found.values())

    async def _adoptable(
        self, side: Side, seeking: Sequence[Record], pulled: SidePull
    ) -> list[Record]:
        """Records of the other entity on ``side`` (where one record holds both) that
        the other side's unlinked records look like, by the exact match keys."""
        gateway = self.ctx.gateways[side]
        if not isinstance(gateway, MultiRoleGateway):
            return []
        if pulled.complete:
            # A whole listing brought them all (by their match keys): matching picks.
            return list(pulled.others)
        found: dict[str, Record] = {}
        for name in self._exact_key_fields():
            values = sorted({v for r in seeking if (v := r.fields.get(name))})
            if values:
                found.update(
                    {
                        r.id: r
                        for r in await gateway.find_in_other_roles(self.ctx.entity, name, values)
                    }
                )
        return list(found.values())

    async def _named_in_other_roles(
        self, side: Side, seeking: Sequence[Record], candidates: Sequence[Record]
    ) -> list[Record]:
        """Records of sibling entities on ``side`` that correlation keys of the other
        side's unlinked records name, where this entity has no such record."""
        known = {c.id for c in candidates}
        named = sorted({k for r in seeking if (k := r.correlation) and k not in known})
        gateway = self.ctx.gateways[side]
        if not named or not isinstance(gateway, MultiRoleGateway):
            return []
        return [r for s in self.ctx.siblings for r in (await gateway.read(s, named)).records]

    def _exact_key_fields(self) -> list[str]:
        # A side can look up exact values; keys compared through a function (such as
        # "name:business") match only records listed in the same cycle (a full sweep).
        return sorted({key[0] for key in self.ctx.mapping.match_keys if ":" not in key[0]})

    def _held_records(self) -> dict[Side, list[Record]]:
        """Unreadable records (this cycle's and quarantined ones), as far as they can be read."""
        held: dict[Side, dict[str, Record]] = {side: {} for side in Side}
        for (side, record_id), q in self.standing.quarantined.items():
            if q.fields:
                held[side][record_id] = Record(record_id, q.fields)
        for (side, record_id), r in self.lookups.rejected.items():
            held[side][record_id] = Record(record_id, r.fields)
        return {side: list(found.values()) for side, found in held.items()}


async def _ask_siblings(
    ctx: CycleContext, matches: Sequence[MatchDecision]
) -> tuple[dict[tuple[Side, str], str], dict[str, str]]:
    """What sibling entities say of the records to create (siblings.py): which wait
    for a sibling's create first, and which AFAS records are a linked company."""
    first: dict[tuple[Side, str], str] = {}
    linked: dict[str, str] = {}
    if not ctx.siblings:
        return first, linked
    new = {
        side: [m.record.id for m in matches if m.kind is MatchKind.CREATE and m.side is side]
        for side in Side
    }
    store, name, entity, siblings = ctx.store, ctx.connection, ctx.entity, ctx.siblings
    crm, afas = ctx.gateways[Side.CRM], ctx.gateways[Side.AFAS]
    if new[Side.CRM]:
        waits = await find_crm_waits(store, crm, name, entity, siblings, new[Side.CRM])
        first.update(((Side.CRM, i), s) for i, s in waits.items())
    if new[Side.AFAS] and isinstance(afas, SharingGateway):
        found = await find_afas_siblings(store, afas, name, entity, siblings, new[Side.AFAS])
        linked, waits = found
        first.update(((Side.AFAS, i), s) for i, s in waits.items())
    return first, linked


def _by_id(records: Sequence[Record]) -> list[Record]:
    """``records`` without a second copy of one (two lookups may both find it)."""
    return list({r.id: r for r in records}.values())
