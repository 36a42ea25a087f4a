"""What a speed strategy may ask of the running cycle (:class:`~syncd.engine.speed.seam.
CycleAccess`), answered by the stages: its listings so far, its look-ups, its planner and
its applier."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from syncd.engine.actions import Action, PairState, Plan
from syncd.engine.apply.applier import Applier
from syncd.engine.cursors import create_cutoff
from syncd.engine.plan import is_at_base
from syncd.engine.speed.seam import SpeedStrategy
from syncd.engine.stages.context import CycleContext
from syncd.engine.stages.listings import PullSoFar
from syncd.engine.stages.lookups import CycleLookups
from syncd.engine.stages.pairs import is_unchanged
from syncd.engine.stages.plan import plan_fresh, plan_pairs, review_pending
from syncd.engine.stages.read_again import read_again
from syncd.engine.stages.standing import Standing
from syncd.mapping import EntityMapping
from syncd.policy import SyncRules
from syncd.records import Page, Record, Side
from syncd.state.rows import Link


class StageAccess:
    def __init__(
        self,
        ctx: CycleContext,
        speed: SpeedStrategy,
        standing: Standing,
        lookups: CycleLookups,
        applier: Applier,
        collecting: Mapping[Side, PullSoFar],
    ) -> None:
        self.ctx = ctx
        self.speed = speed
        self.standing = standing
        self.lookups = lookups
        self._applier = applier
        self.collecting = collecting

    @property
    def mapping(self) -> EntityMapping:
        return self.ctx.mapping

    @property
    def rules(self) -> SyncRules:
        return self.ctx.rules

    @property
    def applier(self) -> Applier:
        return self._applier

    def create_cutoff(self, side: Side) -> datetime:
        return create_cutoff(self.ctx.started, self.ctx.lag(side))

    async def first_sync_alone(self) -> bool:
        standing = self.standing
        # Records that wait for their company (contacts) are sorted before any create:
        # deciding while listing would create them unsorted.
        return not (
            self.ctx.waits is not None
            or standing.touched
            or standing.quarantined
            or any(standing.doubted.values())
            or any(standing.in_doubt.values())
            or await self._was_ever_linked()
            or await review_pending(self.ctx)
        )

    async def _was_ever_linked(self) -> bool:
        """Links (counted as the cycle began), or their tombstones: a record whose partner
        is gone is not new."""
        if self.standing.link_count:
            return True
        store, name, entity = self.ctx.store, self.ctx.connection, self.ctx.entity
        return bool(await store.link_count(name, entity, detached=True))

    async def declined(self) -> frozenset[tuple[str, str]]:
        return (await self.lookups.awaiting_review()).declined

    def creates_later(self) -> frozenset[Side]:
        """A second role's creates may wait for its first's: the cycle's plan says."""
        later = any(s < self.ctx.entity for s in self.ctx.siblings)
        return frozenset(Side) if later else frozenset()

    async def links_of(self, side: Side, ids: Sequence[str]) -> dict[str, Link]:
        return await self.lookups.links_of(side, ids)

    async def read(self, side: Side, ids: Sequence[str]) -> Page:
        return await self.lookups.read(side, ids)

    def unreadable(self, side: Side, record_id: str) -> bool:
        return self.lookups.unreadable(side, record_id)

    async def leaves_alone(self) -> Callable[[Side, Link, Record], bool]:
        """Left to the cycle's plan: links the recovery touched, records in quarantine
        (they wait, or are retried there). Needing nothing: a record unchanged since the
        base or its conflicts (if the partner changed, its own page brings the pair)."""
        await self.lookups.open_conflict_fields()
        ctx, standing, lookups = self.ctx, self.standing, self.lookups

        def alone(side: Side, link: Link, record: Record) -> bool:
            return (
                link.id in standing.touched
                or standing.has_record_in_quarantine(link)
                or is_unchanged(ctx, lookups, side, link, record)
            )

        return alone

    async def plan_pairs(self, pairs: list[PairState]) -> Plan:
        """The plan of ``pairs`` alone, with the fresh read before write."""
        planned = await plan_pairs(self.ctx, self.standing, self.lookups, pairs)
        fresh = await read_again(self.lookups, planned.inputs, planned.plan)
        if fresh is None:
            return planned.plan
        return (await plan_fresh(self.ctx, self.speed, fresh)).plan

    async def apply(self, actions: list[Action]) -> None:
        await self._applier.apply(actions)

    def listed_record(self, side: Side, record_id: str) -> Record | None:
        return self.collecting[side].records.get(record_id)

    async def agreement(self) -> Callable[[Link, Record, Record], bool]:
        # Unlike leaves_alone, a pair in conflict is always planned: the sweep is where a
        # changed conflict rule reaches the conflicts that stand.
        conflicted = await self.lookups.open_conflict_fields()
        standing, rules = self.standing, self.ctx.field_rules

        def agrees(link: Link, crm: Record, afas: Record) -> bool:
            return (
                link.id not in conflicted
                and link.id not in standing.touched
                and not standing.has_record_in_quarantine(link)
                and is_at_base(link.base, crm, afas, rules)
            )

        return agrees

    def forget_listed(self, side: Side, ids: Sequence[str]) -> None:
        self.collecting[side].forget(ids)
