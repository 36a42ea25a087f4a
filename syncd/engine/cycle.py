"""One cycle of one entity of one connection, end to end.

pull (both sides at once) -> read what the pull did not bring -> match -> plan (pure)
-> read what the plan updates once more (plan again if it changed meanwhile) -> guards
-> apply (journal first) -> commit cursors. The cursor only advances after the whole
plan was applied, so a failed cycle is simply repeated.

Three cycles do part of that while they still list: an incremental one applies the pairs
of each page of changes as it comes, a full sweep lets go of the pairs that agree as
their second record is listed (:mod:`syncd.engine.waves`), and an entity's first sync
decides and creates while the slower side lists (:mod:`syncd.engine.early`).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from syncd.engine import guards
from syncd.engine.apply import Applier
from syncd.engine.awaiting import GONE, Awaiting, awaiting_review
from syncd.engine.early import EarlyDecisions
from syncd.engine.heap import held_still
from syncd.engine.indoubt import InDoubt, creates_in_doubt, cycle_boundaries, outcome_window
from syncd.engine.match import MatchDecision, MatchInput, MatchKind, match_unlinked, unmatched
from syncd.engine.plan import (
    Action,
    Merged,
    Note,
    PairState,
    Plan,
    PlanInput,
    Quarantine,
    Update,
    at_base,
    check_guards,
    field_rules,
    make_plan,
)
from syncd.engine.recovery import settle_pending
from syncd.engine.siblings import found_in_afas, siblings_of, waiting_for
from syncd.engine.waves import Beside, Sweep, Waves
from syncd.errors import for_people
from syncd.events import EventName
from syncd.gateways.base import Gateway, SharingGateway
from syncd.gateways.http.pages_ahead import HeadStart, side_by_side
from syncd.mapping import EntityMapping
from syncd.policy import Direction, SyncRules
from syncd.records import Cursor, Page, Record, RejectedRecord, Side
from syncd.state.conflicts import OpenConflicts
from syncd.state.rows import JournalAction, Link, Quarantined, StatusEvent
from syncd.state.store import StateStore

FLIP_FLOP_WINDOW = timedelta(days=1)
_In = TypeVar("_In")
_Out = TypeVar("_Out")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Connection:
    """Everything a cycle needs about one connection (an AFAS environment + a CRM)."""

    name: str
    gateways: Mapping[Side, Gateway]
    store: StateStore
    mappings: Mapping[str, EntityMapping]
    rules: SyncRules
    overlap: timedelta = timedelta(minutes=5)
    now: Callable[[], datetime] = utc_now


@dataclass
class Pulled:
    """What one side's listing brought this cycle."""

    records: dict[str, Record] = field(default_factory=dict)
    rejected: list[RejectedRecord] = field(default_factory=list)
    others: list[Record] = field(default_factory=list)  # other entities', by match keys
    complete: bool = False  # every active record was listed (full sweep or first pull)
    cursor: Cursor | None = None
    decided_early: int = 0  # listed and done with: created or paired early, or agreeing
    hints_only: bool = False  # values from a lagging search index: read by id to decide

    @property
    def listed(self) -> int:
        return len(self.records) + len(self.rejected) + self.decided_early


@dataclass(frozen=True)
class Listing:
    """One side's pull of a cycle, its first page asked for as the cycle begins."""

    cursor: Cursor | None  # where the last cycle's pull left off
    whole: bool  # every record (the first pull, or a sweep); else the changes since
    started: datetime  # before it was asked for: the cursor's pulled_at
    pages: HeadStart[Page]


@dataclass
class CycleReport:
    connection: str
    entity: str
    full: bool
    plan: Plan
    counts: Counter[str] = field(default_factory=Counter)
    applied: bool = False
    in_doubt: list[InDoubt] = field(default_factory=list)  # a dry run's creates not settled yet

    @property
    def clean(self) -> bool:
        """True when the plan was applied and nothing needs a person or a retry."""
        trouble = ("quarantined", "outcome_unknown", "creates_in_doubt", "conflicts")
        return self.applied and not any(self.counts[k] for k in trouble)


async def run_cycle(
    conn: Connection,
    entity: str,
    *,
    full: bool = False,
    dry_run: bool = False,
    accept_guards: bool = False,
) -> CycleReport:
    """Run one cycle; with ``dry_run`` nothing is written anywhere, the plan is returned."""
    cycle = _Cycle(conn, entity, full=full, dry_run=dry_run)
    try:
        async with held_still():
            return await cycle.run(accept_guards=accept_guards)
    except Exception as error:
        if not dry_run:
            await cycle.event(EventName.CYCLE_FAILED, None, error=for_people(error))
        raise


class _Cycle:
    def __init__(self, conn: Connection, entity: str, *, full: bool, dry_run: bool) -> None:
        self.conn = conn
        self.entity = entity
        self.mapping = conn.mappings[entity]
        self.siblings = siblings_of(conn.mappings, entity)  # this entity's records' other roles
        self.full = full
        self.dry_run = dry_run
        self.store = conn.store
        self.links: dict[tuple[str, str], Link] = {}
        # Links already read this cycle, by side and id (tombstones too), so no record's
        # link is looked up twice; after a full read of the links every id is known.
        self.known: dict[Side, dict[str, Link]] = {side: {} for side in Side}
        self.asked: dict[Side, set[str]] = {side: set() for side in Side}
        # Records read by id this cycle (not listed): already as fresh as a re-read.
        self.read_now: dict[Side, set[str]] = {side: set() for side in Side}
        self.all_known = False
        self.all_links: list[Link] = []  # a sweep's every link, read while the sides list
        self.rejected: dict[tuple[Side, str], RejectedRecord] = {}  # unreadable, this cycle
        self.merged: list[Merged] = []
        self.quarantined: dict[tuple[Side, str], Quarantined] = {}
        # Sources of creates whose outcome is unknown: before settling (read them, they
        # may be due for a create again) and after (still in doubt: not created again).
        self.doubted: dict[Side, set[str]] = {side: set() for side in Side}
        self.in_doubt: dict[Side, set[str]] = {side: set() for side in Side}
        self.creating: asyncio.Task[None] | None = None  # a first sync's early creates
        self.paired_early: list[Action] = []  # and the actions of its pairs found early
        self.waves = Waves(self)  # an incremental cycle's pages, applied as they come
        self.sweep = Sweep(self)  # a sweep's pages: the pairs that agree, let go
        self.listings: dict[Side, Listing] = {}  # each side's pull, asked for at once
        self.pulling: dict[Side, Pulled] = {}  # what the listings brought so far
        self.links_read: asyncio.Future[None] | None = None  # a sweep's every link
        self.rules = field_rules(self.mapping, conn.rules)
        self.touched: set[int] = set()  # links the recovery settled writes of
        self.link_count = 0  # active links before the cycle
        # Read beside the pull: at 100,000 links a few thousand conflicts take a while.
        self.conflicts_read: asyncio.Future[OpenConflicts] | None = None
        self.opened: OpenConflicts = {}  # once they are read
        # Records held for a person's match review: read when matching needs them (after
        # the pull, or as a first sync's early decisions begin), not while pages apply.
        self.awaiting: Awaiting | None = None
        self.gone_held: list[Note] = []  # held for review, read by id and not found
        self.open_fields: dict[int, frozenset[str]] | None = None
        self.applier = self._applier()
        self.started = conn.now()
        self.sent_before = {side: _sent(gateway) for side, gateway in conn.gateways.items()}

    async def run(self, *, accept_guards: bool) -> CycleReport:
        # The sides are asked for their first pages once the cursors say which: the
        # requests are on their way while the cycle records its start, reads its
        # quarantine and journal and settles earlier writes (~10 ms a cycle, more in a
        # fresh process). Settling only reads the sides, so a listing asked for before
        # it shows what it would have shown after.
        cursors = {
            side: await self.store.get_cursor(self.conn.name, self.entity, side) for side in Side
        }
        self.listings = {side: self._listing(side, cursors[side]) for side in Side}
        try:
            return await self._run(accept_guards)
        finally:  # a cycle that failed before reading them leaves no request behind
            for listing in self.listings.values():
                await listing.pages.aclose()

    def _listing(self, side: Side, cursor: Cursor | None) -> Listing:
        gateway, started = self.conn.gateways[side], self.conn.now()
        if self.full or cursor is None:
            # The first pull lists everything: a search-based "changed since" may not
            # show the newest records yet (HubSpot), and matching needs them all.
            return Listing(cursor, True, started, HeadStart(gateway.list_all(self.entity)))
        since = _since(cursor, self.conn.overlap, self._lag(side))
        pages = HeadStart(gateway.changed_since(self.entity, since))
        return Listing(cursor, False, started, pages)

    async def _run(self, accept_guards: bool) -> CycleReport:
        if not self.dry_run:
            await self.event(EventName.CYCLE_STARTED, None, full=self.full)
        self.quarantined.update(
            {
                (q.side, q.record_id): q
                for q in await self.store.quarantined(self.conn.name, self.entity)
            }
        )
        self.doubted = await self._creates_in_doubt()
        self.touched = (
            set()
            if self.dry_run
            else await settle_pending(self.store, self.conn.gateways, self.applier)
        )
        self.in_doubt = await self._creates_in_doubt()
        # Before the pull: a first sync's early creates are linked while it lists, and an
        # incremental cycle's changes are applied as their pages come.
        self.link_count = await self.store.link_count(self.conn.name, self.entity)
        try:
            self.conflicts_read = asyncio.ensure_future(
                self.store.conflicted_fields(self.conn.name, self.entity)
            )
            pulled = await self._pull_both()
            report = await self._plan_and_apply(pulled, accept_guards)
            if self.creating is not None:
                # The early creates are part of what was applied: an error of theirs
                # after the listings fails the cycle here, before its cursors move.
                await self.creating
        finally:
            await _stopped(self.creating)  # still going only when this cycle failed
            await _stopped(self.conflicts_read)
        if report.applied:
            await self._finish(pulled, report)
        return report

    async def _plan_and_apply(self, pulled: dict[Side, Pulled], accept_guards: bool) -> CycleReport:
        open_conflicts = await self._conflicts()
        pairs = await self._pairs(pulled, self.touched, open_conflicts)
        matches = await self._matches(pulled)
        sibling_first, sibling_linked = await self._siblings_say(matches)
        inputs = PlanInput(
            entity=self.entity,
            mapping=self.mapping,
            rules=self.conn.rules,
            pairs=pairs,
            matches=matches,
            open_conflicts=open_conflicts,
            link_count=self.link_count,
            listed={s: p.listed for s, p in pulled.items()} if self.full else None,
            quarantine=self._rejections(),
            awaiting_review=await self._awaiting_review(),
            recent_writes=await self._recent_writes(pairs),
            create_cutoff={side: self._cutoff(side) for side in Side},
            merged=self.merged,
            sibling_first=sibling_first,
            sibling_linked=sibling_linked,
        )
        plan = await _computed(make_plan, inputs)
        if not self.dry_run:
            plan = await self._with_fresh_targets(inputs, plan)
        plan.actions.extend(self.paired_early)  # planned as their pages came (first sync)
        self.paired_early = []
        plan.notes.extend(self.waves.notes)
        plan.notes.extend(self.gone_held)
        if self.waves.held:  # the whole cycle's guarded actions are judged together
            plan.actions.extend(self.waves.held)
            plan.findings = check_guards(plan, inputs)
        # What planning read goes before anything is applied: a first sync's listings
        # (and the matches and pairs made of them) are most of its memory, and the plan
        # holds what applying needs. Finishing needs only each side's cursor.
        del inputs, matches, pairs
        for side, listed in pulled.items():
            pulled[side] = replace(listed, records={}, rejected=[], others=[])
        report = CycleReport(self.conn.name, self.entity, self.full, plan)
        if self.dry_run:  # shown with the plan; a cycle that runs logs creates_in_doubt
            report.in_doubt = await self._in_doubt_summary()
        if plan.findings and not accept_guards and not await self._confirmed(plan):
            report.counts = Counter(self.applier.counts)  # what the waves applied, if any
            if not self.dry_run:
                for finding in plan.findings:
                    await self.event(
                        EventName.GUARD_TRIPPED,
                        None,
                        guard=finding.guard,
                        message=finding.message,
                        count=finding.count,
                    )
            return report
        if self.dry_run:
            return report
        report.counts = await self.applier.apply(plan.actions)
        report.counts.update(await self._record_notes(plan))
        # What waits for a person, not only what this cycle looked at: a pair in conflict
        # that neither side changed is not planned again, its conflict still stands.
        standing = await self.store.open_conflict_count(self.conn.name, self.entity)
        report.counts.pop("conflicts", None)
        if standing:
            report.counts["conflicts"] = standing
        report.applied = True
        plan.actions.extend(self.waves.applied)  # the report shows all the cycle did
        return report

    async def _siblings_say(
        self, matches: Sequence[MatchDecision]
    ) -> tuple[dict[tuple[Side, str], str], dict[str, str]]:
        """What sibling entities say of the records to create (siblings.py): which wait
        for a sibling's create first, and which AFAS records are a linked company."""
        first: dict[tuple[Side, str], str] = {}
        linked: dict[str, str] = {}
        if not self.siblings:
            return first, linked
        new = {
            side: [m.record.id for m in matches if m.kind is MatchKind.CREATE and m.side is side]
            for side in Side
        }
        name, entity, siblings = self.conn.name, self.entity, self.siblings
        crm, afas = self.conn.gateways[Side.CRM], self.conn.gateways[Side.AFAS]
        if new[Side.CRM]:
            waits = await waiting_for(self.store, crm, name, entity, siblings, new[Side.CRM])
            first.update(((Side.CRM, i), s) for i, s in waits.items())
        if new[Side.AFAS] and isinstance(afas, SharingGateway):
            found = await found_in_afas(self.store, afas, name, entity, siblings, new[Side.AFAS])
            linked, waits = found
            first.update(((Side.AFAS, i), s) for i, s in waits.items())
        return first, linked

    async def _with_fresh_targets(self, inputs: PlanInput, plan: Plan) -> Plan:
        """The plan again if a record it writes over changed since it was listed.

        The fresh read before write: a listing is no snapshot (a long one takes minutes,
        and a record can change while its pages are read), so the records the plan
        updates are read once more, and a change found there is reconciled, not
        overwritten.
        """
        pairs = list(inputs.pairs)
        stale = False

        async def fresh_on(side: Side) -> dict[str, Record]:
            targets = [
                a.target_id
                for a in plan.actions
                if isinstance(a, Update)
                and a.target is side
                and a.target_id not in self.read_now[side]
            ]
            return {r.id: r for r in (await self.read(side, targets)).records} if targets else {}

        read = await asyncio.gather(*(fresh_on(side) for side in Side))  # both sides at once
        for side, fresh in zip(Side, read, strict=True):
            for n, pair in enumerate(pairs if fresh else ()):
                now, listed = fresh.get(pair.link.id_on(side)), pair.on(side)
                if now is not None and listed is not None and now.fields != listed.fields:
                    pairs[n] = (
                        replace(pair, crm=now) if side is Side.CRM else replace(pair, afas=now)
                    )
                    stale = True
        return await _computed(make_plan, replace(inputs, pairs=pairs)) if stale else plan

    async def _confirmed(self, plan: Plan) -> bool:
        """True when an operator confirmed these guards (``syncd guards confirm``)."""
        allowed = await guards.confirmed(self.store, self.conn.name, self.entity)
        return guards.covered(plan.findings, allowed)

    def _applier(self) -> Applier:
        return Applier(
            self.store,
            self.conn.gateways,
            self.conn.name,
            self.entity,
            self.links,
            self.quarantined,
            self.conn.now,
            siblings=self.siblings,
        )

    # --- pull ----------------------------------------------------------------------------

    async def _pull_both(self) -> dict[Side, Pulled]:
        cursors = {side: listing.cursor for side, listing in self.listings.items()}
        early = await self._early_decisions(cursors)
        # Both sides listing changes: each page is applied as it comes (see waves.py).
        waves: Beside | None = None
        if self.full and early is None:  # a sweep: its pairs that agree are let go
            waves = self.sweep
            self.links_read = asyncio.ensure_future(self._read_all_links())
        elif not (self.dry_run or self.full or None in cursors.values()):
            waves = self.waves
        pulling = self.pulling = {side: Pulled() for side in Side}
        # Done only once every pull has stopped (a gather is done at its first error,
        # the other side's pull still inside its listing, which the cycle then closes).
        both = asyncio.ensure_future(
            side_by_side(
                [
                    *(self._pull(side, pulling, early, waves) for side in Side),
                    # an early first sync has no links before it: its own are left alone
                    *([self.links_read] if self.links_read is not None else []),
                ]
            )
        )
        if early is not None:
            self.creating = await _listed_beside(both, early)
            self.paired_early = early.paired
            for side in Side:
                _forget(pulling[side], early.decided[side])
                await self._read_again(pulling[side], side, early.set_aside[side])
            # Nothing was ever linked, and the early creates' links are of records just
            # forgotten: no listed record has a link, so none is looked up (at 100,000
            # per side, 200,000 ids).
            self.all_known = True
        else:
            try:
                await both
                if waves is not None:
                    await waves.done()
            finally:
                await _stopped(both)  # one side's error leaves the other's pull going
                if waves is not None:
                    await waves.stop()  # still going only when this cycle failed
                await _stopped(self.links_read)
        for side, pulled in pulling.items():
            self.rejected.update({(side, r.id): r for r in pulled.rejected})
        return pulling

    async def _pull(
        self,
        side: Side,
        pulling: Mapping[Side, Pulled],
        early: EarlyDecisions | None,
        waves: Beside | None,
    ) -> None:
        listing, pulled = self.listings[side], pulling[side]
        listed = early.listed if early is not None else waves.listed if waves else None
        await _collect(listing.pages, pulled, side, listed)
        pulled.complete = listing.whole
        if early is not None:  # only ever a first sync's: both sides listed whole
            await early.listed_whole(side, _so_far(pulled), lambda: _so_far(pulling[side.other]))
        pulled.cursor = _moved(listing.cursor, pulled.cursor, listing.started, self.conn.now())

    async def _read_again(self, pulled: Pulled, side: Side, ids: Sequence[str]) -> None:
        """Records the listing did not keep, whose early pair was not final: matched
        with the rest after all."""
        if ids:
            page = await self.read(side, ids)
            pulled.records.update((r.id, r) for r in page.records)
            pulled.rejected.extend(page.rejected)
            pulled.decided_early -= len(ids)

    async def _read_all_links(self) -> None:
        """A sweep compares every link: they are read while the sides list."""
        self.all_links = await self.store.get_links(self.conn.name, self.entity)
        self._remember(self.all_links)
        self.all_known = True

    async def _ever_linked(self) -> bool:
        """Links, or their tombstones: a record whose partner is gone is not new."""
        count = self.store.link_count
        return bool(
            await count(self.conn.name, self.entity)
            or await count(self.conn.name, self.entity, detached=True)
        )

    async def _early_decisions(
        self, cursors: Mapping[Side, Cursor | None]
    ) -> EarlyDecisions | None:
        """On the entity's first sync, records are decided (and creates begin) while the
        slower side still lists."""
        first = self.full or all(cursor is None for cursor in cursors.values())
        if (
            self.dry_run
            or not first
            or self.touched
            or self.quarantined
            or any(self.doubted.values())
            or any(self.in_doubt.values())
            or await self._ever_linked()
            or await self._awaiting_review()
        ):
            return None
        # A second role's creates may wait for its first's: the cycle's plan says.
        later = set(Side) if any(s < self.entity for s in self.siblings) else set()
        return EarlyDecisions(
            self.entity,
            self.mapping,
            self.conn.rules,
            self.applier,
            self._cutoff,
            declined=(await self._awaiting()).declined,
            creates_later=later,
        )

    # --- linked pairs --------------------------------------------------------------------

    async def _pairs(
        self,
        pulled: Mapping[Side, Pulled],
        touched_ids: set[int],
        open_conflicts: Mapping[int, frozenset[str]],
    ) -> list[PairState]:
        links = [
            link
            for link in await self._touched_links(pulled, touched_ids)
            if self.full or link.id in touched_ids or not self._at_base(link, pulled)
        ]
        # A listing of hints (a lagging search index) says which records changed, not what
        # they hold: an earlier version taken for an edit would undo a write. Its records
        # are read by id like those it did not bring (the pairs here are not at their base).
        current = {
            side: {} if pulled[side].hints_only else dict(pulled[side].records) for side in Side
        }
        moved: dict[Side, dict[str, str]] = {side: {} for side in Side}

        async def read_missing(side: Side) -> None:
            # Read what the pull did not bring; even after a full listing, a record missing
            # from it is read once more before it is taken for deleted.
            missing = [link.id_on(side) for link in links if link.id_on(side) not in current[side]]
            if missing:
                page = await self.read(side, missing)
                current[side].update({r.id: r for r in page.records})
                moved[side] = page.moved

        await asyncio.gather(*(read_missing(side) for side in Side))  # both sides at once
        self.merged = await self._merged(links, current, moved)
        skip = {m.link.id for m in self.merged}
        rejected = self.rejected.keys()
        return [
            PairState(
                link, current[Side.CRM].get(link.crm_id), current[Side.AFAS].get(link.afas_id)
            )
            for link in links
            if link.id not in skip and not any((s, link.id_on(s)) in rejected for s in Side)
        ]

    def _at_base(self, link: Link, pulled: Mapping[Side, Pulled]) -> bool:
        """Each side that brought the pair's record brought it unchanged.

        The overlap window brings records again and our own writes come back: such a
        record changed nothing on its side, and the other side did not show a change
        either, so the pair is left alone as if neither was pulled (no read of the other
        side, nothing to plan). A record in quarantine is never left alone.
        """
        found = [(s, r) for s in Side if (r := pulled[s].records.get(link.id_on(s))) is not None]
        if not found or self._in_quarantine_either(link):
            return False
        return all(self._unchanged(side, link, record) for side, record in found)

    def _unchanged(self, side: Side, link: Link, record: Record) -> bool:
        """``record`` changed nothing since the pair's base (our own write come back), nor,
        in a field in open conflict, since the conflict opened (the overlap window brings
        a conflicted pair again: it stays as it is, nothing to read or plan)."""
        base = link.base
        opened = self.opened.get(link.id or 0, {})
        at = 0 if side is Side.CRM else 1
        for f in self.mapping.fields:
            value = record.fields.get(f.name)
            if f.direction is Direction.ON_CREATE or (f.name in base and base[f.name] == value):
                continue
            if f.name not in opened or opened[f.name][at] != value:
                return False
        return True

    # --- pages applied as they come (waves.py) --------------------------------------------

    async def leaves_alone(self) -> Callable[[Side, Link, Record], bool]:
        """Left to the cycle's plan: links the recovery touched, records in quarantine
        (they wait, or are retried there). Needing nothing: a record unchanged since the
        base or its conflicts (if the partner changed, its own page brings the pair)."""
        await self._conflicts()

        def alone(side: Side, link: Link, record: Record) -> bool:
            return (
                link.id in self.touched
                or self._in_quarantine_either(link)
                or self._unchanged(side, link, record)
            )

        return alone

    def _in_quarantine_either(self, link: Link) -> bool:
        """A record of the pair is in quarantine (waiting for its retry, or due)."""
        return any((side, link.id_on(side)) in self.quarantined for side in Side)

    def unreadable(self, side: Side, record_id: str) -> bool:
        return (side, record_id) in self.rejected

    # --- a sweep's pairs that agree (waves.py) ----------------------------------------------

    def listed_record(self, side: Side, record_id: str) -> Record | None:
        return self.pulling[side].records.get(record_id)

    async def agreement(self) -> Callable[[Link, Record, Record], bool]:
        # Unlike leaves_alone, a pair in conflict is always planned: the sweep is where a
        # changed conflict rule reaches the conflicts that stand.
        conflicted = await self._conflicts()

        def agrees(link: Link, crm: Record, afas: Record) -> bool:
            return (
                link.id not in conflicted
                and link.id not in self.touched
                and not self._in_quarantine_either(link)
                and at_base(link.base, crm, afas, self.rules)
            )

        return agrees

    def forget_listed(self, side: Side, ids: Sequence[str]) -> None:
        _forget(self.pulling[side], set(ids))

    async def plan_pairs(self, pairs: list[PairState]) -> Plan:
        """The plan of ``pairs`` alone, with the fresh read before write (pure but for
        the reads: a few hundred pairs, planned in the loop)."""
        inputs = PlanInput(
            entity=self.entity,
            mapping=self.mapping,
            rules=self.conn.rules,
            pairs=pairs,
            matches=[],
            open_conflicts=await self._conflicts(),
            link_count=self.link_count,
            recent_writes=await self._recent_writes(pairs),
        )
        self.links.update({(p.link.crm_id, p.link.afas_id): p.link for p in pairs})
        return await self._with_fresh_targets(inputs, make_plan(inputs))

    async def apply(self, actions: list[Action]) -> None:
        await self.applier.apply(actions)

    async def _merged(
        self,
        links: Sequence[Link],
        current: Mapping[Side, Mapping[str, Record]],
        moved: Mapping[Side, Mapping[str, str]],
    ) -> list[Merged]:
        """Linked records that a merge folded into another: not deleted, moved."""
        found = []
        for link in links:
            for side in Side:
                old = link.id_on(side)
                survivor = moved[side].get(old)
                if old in current[side] or survivor is None:
                    continue
                other = (await self.links_of(side, [survivor])).get(survivor)
                found.append(Merged(link, side, survivor, other is not None and other != link))
        return found

    async def _touched_links(
        self, pulled: Mapping[Side, Pulled], touched_ids: set[int]
    ) -> list[Link]:
        if self.full:
            found = self.all_links
        else:
            found = []
            for side in Side:
                ids = list(pulled[side].records) + self._due(side)
                found.extend((await self.links_of(side, ids)).values())
            for link_id in touched_ids:
                link = await self.store.get_link(link_id)
                if link is not None:
                    found.append(link)
        unique = {
            link.id: link
            for link in found
            if link.detached_at is None
            and link.id not in self.waves.handled
            and link.id not in self.sweep.handled
        }
        active = [link for link in unique.values() if not self._waiting(link)]
        self.links.update({(link.crm_id, link.afas_id): link for link in active})
        return active

    async def links_of(self, side: Side, ids: Sequence[str]) -> dict[str, Link]:
        """The links of ``ids`` on ``side``, read from the store at most once per cycle."""
        if self.links_read is not None:
            await self.links_read  # a sweep's: all of them, read while the sides list
        new = [i for i in ids if i not in self.asked[side]]
        if new and not self.all_known:
            self._remember(
                (await self.store.links_by_ids(self.conn.name, self.entity, side, new)).values()
            )
            self.asked[side].update(new)
        return {i: self.known[side][i] for i in ids if i in self.known[side]}

    def _remember(self, links: Iterable[Link]) -> None:
        for link in links:
            for side in Side:
                self.known[side][link.id_on(side)] = link

    def _due(self, side: Side) -> list[str]:
        now = self.conn.now()
        return [
            q.record_id
            for (s, _), q in self.quarantined.items()
            if s is side and (q.next_attempt is None or q.next_attempt <= now)
        ]

    def _waiting(self, link: Link) -> bool:
        """A pair with a record in quarantine waits for its retry time."""
        return any(self._in_quarantine(side, link.id_on(side)) for side in Side)

    def _in_quarantine(self, side: Side, record_id: str) -> bool:
        q = self.quarantined.get((side, record_id))
        return q is not None and q.next_attempt is not None and q.next_attempt > self.conn.now()

    # --- unlinked records ----------------------------------------------------------------

    async def _matches(self, pulled: Mapping[Side, Pulled]) -> list[MatchDecision]:
        awaiting = await self._awaiting()
        unlinked = {side: await self._unlinked(side, pulled[side], awaiting) for side in Side}
        if not any(unlinked.values()):
            return []
        candidates = {
            side: await self._candidates(side, unlinked[side.other], pulled[side], awaiting)
            for side in Side
        }
        linked = {
            side: frozenset(await self.links_of(side, [c.id for c in candidates[side]]))
            for side in Side
        }
        keys, held = self.mapping.match_keys, self._held()
        review, declined = self.mapping.review_keys, awaiting.declined
        # Only records that would be created can be adopted: after change listings, a
        # first pass finds those, to look up just theirs. Whole listings brought every
        # record of the other entity already: matching picks among them, no pass needed.
        creating: Mapping[Side, Sequence[Record]] = {side: () for side in Side}
        if not all(p.complete for p in pulled.values()):
            creating = await _computed(
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
        data = MatchInput(unlinked, candidates, linked, keys, held, adoptable, review, declined)
        return await _computed(match_unlinked, data)

    async def _unlinked(self, side: Side, pulled: Pulled, awaiting: Awaiting) -> list[Record]:
        records = dict(pulled.records)
        # Held for review before the last review: decided again, as the review may
        # have settled them (a declined look-alike is created).
        reviewed = [i for i, before in awaiting.held[side].items() if before]
        due = [i for i in [*self._due(side), *self.doubted[side], *reviewed] if i not in records]
        if due:
            records.update({r.id: r for r in (await self.read(side, due)).records})
        known = await self.links_of(side, list(records))
        survivors = {m.survivor for m in self.merged if m.side is side}  # links follow them
        found = [
            r
            for r in records.values()
            if r.id not in known
            and r.id not in survivors
            and r.id not in self.in_doubt[side]
            and not self._in_quarantine(side, r.id)
        ]
        return await self._as_read(side, found, pulled) if pulled.hints_only else found

    async def _as_read(self, side: Side, records: list[Record], pulled: Pulled) -> list[Record]:
        """``records`` listed as hints, as read by id now (those gone are dropped), and
        so in ``pulled`` too: matching and creating use what they hold."""
        stale = [r.id for r in records if r.id not in self.read_now[side]]
        if not stale:
            return records
        asked = set(stale)
        now = {r.id: r for r in (await self.read(side, stale)).records if r.id in asked}
        for record_id in stale:
            pulled.records.pop(record_id, None)
        pulled.records.update(now)
        return [now.get(r.id, r) for r in records if r.id in now or r.id not in asked]

    async def _creates_in_doubt(self) -> dict[Side, set[str]]:
        """Per side, the records whose create on the other side is pending (unsettled)."""
        found: dict[Side, set[str]] = {side: set() for side in Side}
        for entry in await self.store.pending_journal(self.conn.name, self.entity):
            if entry.action is JournalAction.CREATE and entry.source_id is not None:
                found[entry.target.other].add(entry.source_id)
        return found

    async def _in_doubt_summary(self) -> list[InDoubt]:
        pending = await self.store.pending_journal(self.conn.name, self.entity)
        windows = {side: outcome_window(g) for side, g in self.conn.gateways.items()}
        ends = await cycle_boundaries(self.store, self.conn.name, self.entity, pending)
        return creates_in_doubt(pending, ends, windows)

    async def _candidates(
        self, side: Side, seeking: Sequence[Record], pulled: Pulled, awaiting: Awaiting
    ) -> list[Record]:
        """Records on ``side`` that the other side's unlinked records could pair with."""
        found = dict(pulled.records)
        if pulled.complete or not seeking:
            return list(found.values())
        gateway = self.conn.gateways[side]
        own_keys = [r.correlation for r in seeking if r.correlation]
        # Records held for review are unlinked and may be what ``seeking`` resembles:
        # only a whole listing would bring them otherwise.
        waiting = [i for i in awaiting.held[side] if i not in found]
        if own_keys or waiting:
            ids = [*own_keys, *waiting]
            found.update({r.id: r for r in (await self.read(side, ids)).records})
            gone = [i for i in waiting if i not in found and (side, i) not in self.rejected]
            self.gone_held += [Note(side, i, EventName.HELD_RECORD_GONE, GONE) for i in gone]
        back = await gateway.find_by_correlation(self.entity, [r.id for r in seeking])
        found.update({r.id: r for r in back.values()})
        for name in self._exact_key_fields():
            values = sorted({v for r in seeking if (v := r.fields.get(name))})
            if values:
                hits = await gateway.find_by_values(self.entity, name, values)
                found.update({r.id: r for r in hits})
        return list(found.values())

    async def _adoptable(
        self, side: Side, seeking: Sequence[Record], pulled: Pulled
    ) -> list[Record]:
        """Records of the other entity on ``side`` (where one record holds both) that
        the other side's unlinked records look like, by the exact match keys."""
        find = getattr(self.conn.gateways[side], "find_in_other_roles", None)
        if find is None:
            return []
        if pulled.complete:
            # A whole listing brought them all (by their match keys): matching picks.
            return pulled.others
        found: dict[str, Record] = {}
        for name in self._exact_key_fields():
            values = sorted({v for r in seeking if (v := r.fields.get(name))})
            if values:
                found.update({r.id: r for r in await find(self.entity, name, values)})
        return list(found.values())

    async def _named_in_other_roles(
        self, side: Side, seeking: Sequence[Record], candidates: Sequence[Record]
    ) -> list[Record]:
        """Records of sibling entities on ``side`` that correlation keys of the other
        side's unlinked records name, where this entity has no such record."""
        known = {c.id for c in candidates}
        named = sorted({k for r in seeking if (k := r.correlation) and k not in known})
        gateway = self.conn.gateways[side]
        if not named or not hasattr(gateway, "find_in_other_roles"):
            return []
        return [r for s in self.siblings for r in (await gateway.read(s, named)).records]

    def _exact_key_fields(self) -> list[str]:
        # A side can look up exact values; keys compared through a function (such as
        # "name:business") match only records listed in the same cycle (a full sweep).
        return sorted({key[0] for key in self.mapping.match_keys if ":" not in key[0]})

    async def read(self, side: Side, ids: Sequence[str]) -> Page:
        page = await self.conn.gateways[side].read(self.entity, ids)
        self.rejected.update({(side, r.id): r for r in page.rejected})
        self.read_now[side].update(r.id for r in page.records)
        return page

    # --- the rest ------------------------------------------------------------------------

    async def _conflicts(self) -> dict[int, frozenset[str]]:
        """The open conflicts' fields by link, as read at the start of the pull."""
        assert self.conflicts_read is not None, "read when the pull starts"
        if self.open_fields is None:
            self.opened = await self.conflicts_read
            self.open_fields = {i: frozenset(fields) for i, fields in self.opened.items()}
        return self.open_fields

    async def _awaiting(self) -> Awaiting:
        if self.awaiting is None:
            self.awaiting = await awaiting_review(self.store, self.conn.name, self.entity)
        return self.awaiting

    async def _recent_writes(self, pairs: Sequence[PairState]) -> dict[int, list[tuple[str, Side]]]:
        """Per link, the last day's writes that the side stored otherwise (flip-flops)."""
        ids = [p.link.id for p in pairs if p.link.id is not None]
        if not ids:
            return {}
        since = self.conn.now() - FLIP_FLOP_WINDOW
        found = await self.store.recent_updates(ids, since)
        return {
            link_id: [(name, entry.target) for entry in entries for name in entry.altered]
            for link_id, entries in found.items()
        }

    def _cutoff(self, target: Side) -> datetime:
        """Records changed after this are not created in ``target`` yet: a twin made
        there at the same time may not be visible to its searches for a while."""
        return self.started - self._lag(target)

    def _lag(self, side: Side) -> timedelta:
        """How long a change may stay out of ``side``'s searches (its ``visibility_lag``)."""
        lag = getattr(self.conn.gateways[side], "visibility_lag", timedelta(0))
        return lag if isinstance(lag, timedelta) else timedelta(0)

    async def _awaiting_review(self) -> bool:
        if not self.conn.rules.review_first:
            return False
        names = [str(EventName.MATCH_REVIEWED)]
        return not await self.store.events(self.conn.name, entity=self.entity, names=names, limit=1)

    def _rejections(self) -> list[Quarantine]:
        """Every row that could not be read this cycle, unless it waits in quarantine."""
        return [
            Quarantine(side, r.id, r.message, r.field, r.fields)
            for (side, record_id), r in self.rejected.items()
            if not self._in_quarantine(side, record_id)
        ]

    def _held(self) -> dict[Side, list[Record]]:
        """Unreadable records (this cycle's and quarantined ones), as far as they can be read."""
        held: dict[Side, dict[str, Record]] = {side: {} for side in Side}
        for (side, record_id), q in self.quarantined.items():
            if q.fields:
                held[side][record_id] = Record(record_id, q.fields)
        for (side, record_id), r in self.rejected.items():
            held[side][record_id] = Record(record_id, r.fields)
        return {side: list(found.values()) for side, found in held.items()}

    async def _finish(self, pulled: Mapping[Side, Pulled], report: CycleReport) -> None:
        async with self.store.transaction() as tx:
            for side in Side:
                cursor = _before_deferred(pulled[side].cursor, report.plan, side)
                if cursor is not None:
                    await tx.set_cursor(self.conn.name, self.entity, side, cursor)
            await tx.add_event(
                self._status(
                    EventName.CYCLE_FINISHED,
                    None,
                    {
                        "full": self.full,
                        "counts": dict(report.counts),
                        "waiting_for_sibling": report.plan.waiting_for_sibling,
                        "seconds": round((self.conn.now() - self.started).total_seconds(), 3),
                        "requests": self._requests(),
                    },
                )
            )

    async def _record_notes(self, plan: Plan) -> Counter[str]:
        """Ambiguous matches and skipped creates: nothing is written, the operator is told."""
        async with self.store.transaction() as tx:
            for note in plan.notes:
                data: dict[str, object] = {
                    "side": str(note.side),
                    "reason": note.reason,
                    "candidates": list(note.candidates),
                }
                await tx.add_event(self._status(note.event, note.record_id, data))
        return Counter(str(note.event) for note in plan.notes)

    def _requests(self) -> dict[str, object]:
        """Per side: requests this cycle used, and its budget where it keeps one."""
        found: dict[str, object] = {}
        for side, gateway in self.conn.gateways.items():
            status = getattr(gateway, "status", None)
            extra = status() if callable(status) else {}
            used = _sent(gateway) - self.sent_before[side]
            found[str(side)] = {"used": used, **extra}
        return found

    async def event(self, name: EventName, record: str | None, **data: object) -> None:
        async with self.store.transaction() as tx:
            await tx.add_event(self._status(name, record, data))

    def _status(self, name: EventName, record: str | None, data: dict[str, object]) -> StatusEvent:
        return StatusEvent(self.conn.name, self.entity, str(name), record=record, data=data)


def _sent(gateway: Gateway) -> int:
    sent = getattr(gateway, "requests_sent", 0)
    return sent if isinstance(sent, int) else 0


def _by_id(records: Sequence[Record]) -> list[Record]:
    """``records`` without a second copy of one (two lookups may both find it)."""
    return list({r.id: r for r in records}.values())


def _before_deferred(cursor: Cursor | None, plan: Plan, side: Side) -> Cursor | None:
    """Keep the cursor before deferred records, so the next pull brings them again
    (without the time of its pull, which would let the next one start after them)."""
    times = [r.modified for s, r in plan.deferred if s is side and r.modified is not None]
    if not times or cursor is None:
        return cursor
    earlier = min(cursor, Cursor(min(times) - timedelta(microseconds=1), ""))
    return replace(earlier, seen_at=None, pulled_at=None)


def _moved(
    cursor: Cursor | None, newest: Cursor | None, started: datetime, finished: datetime
) -> Cursor | None:
    """The cursor after a pull from ``started`` to ``finished`` that saw ``newest``."""
    if newest is not None and (cursor is None or newest > cursor):
        return replace(newest, seen_at=finished, pulled_at=started)
    return None if cursor is None else replace(cursor, pulled_at=started)


def _since(cursor: Cursor, overlap: timedelta, lag: timedelta) -> datetime:
    """Where an incremental pull starts.

    ``overlap`` before the newest change seen (M), for changes saved late under an
    earlier time. But the side's clock was at M or later when M was first seen, and has
    moved on since by as much as syncd's: when the last pull began it was past M + (that
    pull's start - M first seen), so every change up to that, less the ``overlap`` for
    late saves and the side's ``lag``, was there for the last pull to see. The pull
    starts there if that is later, up to M itself: a quiet side is not read again, cycle
    after cycle, for a burst of changes long past. syncd's clock is only compared with
    itself, never with the side's, and nothing after M is ever skipped.
    """
    if cursor.seen_at is None or cursor.pulled_at is None:
        return cursor.modified - overlap
    settled = cursor.pulled_at - cursor.seen_at - lag  # the side's clock past M, at least
    return cursor.modified - overlap + min(overlap, max(timedelta(0), settled))


async def _computed(pure: Callable[[_In], _Out], data: _In) -> _Out:
    """``pure(data)`` in a worker thread: matching and planning a first sync take seconds
    of CPU, and meanwhile the event loop keeps the requests of early creates (and of other
    connections' cycles) going. Pure functions share nothing the loop changes."""
    return await asyncio.to_thread(pure, data)


async def _listed_beside(listing: Awaitable[object], early: EarlyDecisions) -> asyncio.Task[None]:
    """Run the listing with the early creates beside it, until the listing is done; the
    creates go on (the task returned), while the cycle plans the rest. The first error of
    either stops both."""
    listed = asyncio.ensure_future(listing)
    creating = asyncio.ensure_future(early.run())
    try:
        # Creating ends before the listing only by an error: whichever ends first decides.
        await asyncio.wait({listed, creating}, return_when=asyncio.FIRST_COMPLETED)
        if creating.done():
            creating.result()
        listed.result()
    except BaseException:
        await _stopped(listed)
        await _stopped(creating)
        raise
    early.close()
    return creating


async def _stopped(task: asyncio.Future[Any] | None) -> None:
    """Cancel ``task`` if it is still going, and wait until it is."""
    if task is None:
        return
    if not task.done():
        task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def _forget(pulled: Pulled, decided: set[str]) -> None:
    """Records the cycle is done with (created or paired early, their pair in the plan
    already; a sweep's pairs that agree): the rest of the cycle leaves them be, and they
    still count as listed."""
    for record_id in decided:
        if pulled.records.pop(record_id, None) is not None:
            pulled.decided_early += 1


def _so_far(pulled: Pulled) -> Page:
    """What a listing brought so far, as one page."""
    return Page(list(pulled.records.values()), list(pulled.rejected), others=list(pulled.others))


async def _collect(
    pages: AsyncIterator[Page],
    pulled: Pulled,
    side: Side,
    listed: Callable[[Side, Page], set[str]] | None = None,
) -> None:
    """Keep what ``pages`` bring, but for the records ``listed`` decided already."""
    async for page in pages:
        decided = listed(side, page) if listed is not None else set()
        pulled.decided_early += len(decided)
        for record in page.records:
            if record.id not in decided:
                pulled.records[record.id] = record
            if record.modified is not None:
                seen = Cursor(record.modified, record.id)
                pulled.cursor = max(seen, pulled.cursor) if pulled.cursor else seen
        pulled.rejected.extend(page.rejected)
        pulled.others.extend(page.others)
        pulled.hints_only |= page.hints_only
