"""What the operator asks the state store: health per connection and entity, history."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from syncd.engine.awaiting import read_awaiting_review, read_waiting_for_sibling
from syncd.engine.indoubt import InDoubt, creates_in_doubt, cycle_boundaries
from syncd.events import EventName
from syncd.mapping import EntityMapping
from syncd.records import Side
from syncd.state.rows import LanePoll, Link, StatusEvent
from syncd.state.store import StateStore
from syncd.status.record_lookup import link_refs, quarantine_refs
from syncd.status.record_names import RecordRef
from syncd.status.render import GUARD_HINT, sibling_waits

# A lane's last outcome: how its last cycle ended, or that its side failed (as the daemon
# starts, a side down fails the lane before any cycle begins).
CYCLE_ENDS = (
    EventName.CYCLE_FINISHED,
    EventName.CYCLE_FAILED,
    EventName.GUARD_TRIPPED,
    EventName.SOURCE_FAILED,
)
LEASES = (EventName.LEASE_ACQUIRED, EventName.LEASE_RELEASED, EventName.LEASE_LOST)
Lane = tuple[str, str]  # (connection, entity)


@dataclass(frozen=True)
class EntityHealth:
    connection: str
    entity: str
    linked: int
    excluded: int  # records no longer synced: their partner was deleted or blocked
    conflicts: int
    quarantined: int
    last_cycle: datetime | None
    # When `syncd run` polls next, give or take jitter: an interval after the later of
    # the last cycle and the last quiet poll.
    next_cycle: datetime | None
    last_outcome: str | None  # cycle_finished, cycle_failed, guard_tripped or source_failed
    last_message: str | None
    cursors: dict[str, str | None]
    requests: dict[str, object]  # per side, its request budget after the last cycle
    # The newest quiet poll: it listed nothing new and did nothing, so wrote no event.
    last_poll: datetime | None = None
    replica: str | None = None  # the replica that took the lane's lease last, if any
    in_doubt: tuple[InDoubt, ...] = ()  # creates whose outcome is not known yet, per side
    awaiting_review: int = 0  # unlinked records held back until a person's match review
    # Per sibling entity, creates waiting for its create first (a company's second role).
    waiting_for_sibling: dict[str, int] = field(default_factory=dict)
    # Records that wait for their company to be linked (contacts), by reason.
    waiting_for_company: dict[str, int] = field(default_factory=dict)

    @property
    def quiet_since_cycle(self) -> datetime | None:
        """The last quiet poll, if it came after the last cycle: the lane runs, and
        found nothing new since."""
        if self.last_poll is None or (self.last_cycle and self.last_poll <= self.last_cycle):
            return None
        return self.last_poll

    @property
    def healthy(self) -> bool:
        return self.last_outcome in (None, EventName.CYCLE_FINISHED)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_cycle"] = self.last_cycle.isoformat() if self.last_cycle else None
        data["next_cycle"] = self.next_cycle.isoformat() if self.next_cycle else None
        data["last_poll"] = self.last_poll.isoformat() if self.last_poll else None
        data["healthy"] = self.healthy
        data["in_doubt"] = [d.as_dict() for d in self.in_doubt]
        return data


async def lanes_health(
    store: StateStore, lanes: Sequence[Lane], interval: timedelta | None = None
) -> list[EntityHealth]:
    """Each lane's health; the quiet polls of all lanes in one read."""
    polls = await store.lane_polls()
    return [await entity_health(store, c, e, interval, polls=polls) for c, e in lanes]


async def entity_health(
    store: StateStore,
    connection: str,
    entity: str,
    interval: timedelta | None = None,
    *,
    polls: Mapping[Lane, LanePoll] | None = None,
) -> EntityHealth:
    """One lane's health; ``polls``: the lanes' quiet polls, if read already."""
    if polls is None:
        polls = await store.lane_polls(connection)
    ends = await _newest_event(store, connection, entity, [str(n) for n in CYCLE_ENDS])
    last_cycle = ends.at if ends else None
    poll = polls.get((connection, entity))
    last_poll = poll.at if poll else None
    ran = max((at for at in (last_cycle, last_poll) if at is not None), default=None)
    lease = await _newest_event(store, connection, entity, [str(n) for n in LEASES])
    cursors = {}
    for side in Side:
        cursor = await store.get_cursor(connection, entity, side)
        cursors[str(side)] = cursor.modified.isoformat() if cursor else None
    return EntityHealth(
        connection=connection,
        entity=entity,
        linked=await store.link_count(connection, entity),
        excluded=await store.link_count(connection, entity, detached=True),
        conflicts=len(await store.conflicts(connection, entity)),
        quarantined=len(await store.quarantined(connection, entity)),
        last_cycle=last_cycle,
        next_cycle=ran + interval if ran and interval else None,
        last_outcome=ends.name if ends else None,
        last_message=_event_message(ends) if ends else None,
        cursors=cursors,
        requests=_request_budgets(ends),
        last_poll=last_poll,
        replica=_lease_holder(lease),
        in_doubt=tuple(await _in_doubt(store, connection, entity)),
        awaiting_review=(await read_awaiting_review(store, connection, entity)).count(),
        waiting_for_sibling=await read_waiting_for_sibling(store, connection, entity),
        waiting_for_company=dict(await store.waiting_reasons(connection, entity)),
    )


async def _in_doubt(store: StateStore, connection: str, entity: str) -> list[InDoubt]:
    """The journal's unsettled creates; each side's window as the last cycle that kept
    some waiting recorded it (status opens no gateway to ask)."""
    pending = await store.pending_journal(connection, entity)
    if not pending:
        return []
    told = await store.events(
        connection,
        entity=entity,
        names=[str(EventName.CREATES_IN_DOUBT)],
        limit=len(Side),
        newest=True,
    )
    windows: dict[Side, timedelta | None] = {}
    for event in told:  # oldest first: the newest word on a side wins
        seconds = event.data.get("window_seconds")
        if isinstance(seconds, int | float):
            windows[Side(str(event.data.get("target")))] = timedelta(seconds=seconds)
    ends = await cycle_boundaries(store, connection, entity, pending)
    return creates_in_doubt(pending, ends, windows)


async def _newest_event(
    store: StateStore, connection: str, entity: str, names: Sequence[str]
) -> StatusEvent | None:
    """The newest event of ``names``."""
    found = await store.events(connection, entity=entity, names=names, limit=1, newest=True)
    return found[-1] if found else None


def _lease_holder(event: StatusEvent | None) -> str | None:
    """Who holds a lane's lease, as its newest lease event says (replicas only)."""
    if event is None or event.name != EventName.LEASE_ACQUIRED:
        return None
    return str(event.data.get("replica"))


def _request_budgets(event: StatusEvent | None) -> dict[str, object]:
    found = event.data.get("requests") if event else None
    return dict(found) if isinstance(found, dict) else {}


def _event_message(event: StatusEvent) -> str | None:
    for key in ("message", "error"):
        if event.data.get(key):
            return str(event.data[key])
    counts = event.data.get("counts")
    if isinstance(counts, dict):
        return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no changes"
    return None


def health_as_text(rows: Sequence[EntityHealth]) -> str:
    lines = []
    for h in rows:
        state = "ok" if h.healthy else h.last_outcome or "?"
        when = h.last_cycle.strftime("%Y-%m-%d %H:%M:%S") if h.last_cycle else "never"
        when += polled_text(h)
        if h.next_cycle:
            when += f", next about {h.next_cycle:%H:%M:%S}"
        lines.append(
            f"{h.connection}/{h.entity}: {state}  linked {h.linked}, excluded {h.excluded}, "
            f"conflicts {h.conflicts}, quarantined {h.quarantined}; last cycle {when}"
            + (f" ({h.last_message})" if h.last_message else "")
            + _budget_text(h.requests)
            + (f"; replica {h.replica}" if h.replica else "")
            + "".join(f"\n  {d.as_text()}" for d in h.in_doubt)
            + (
                f"\n  {h.awaiting_review} unlinked records held back (ambiguous, or like "
                "one on the other side): syncd match --plan, then --apply"
                if h.awaiting_review
                else ""
            )
            + "".join(f"\n  {line}" for line in sibling_waits(h.waiting_for_sibling))
            + "".join(
                f"\n  {count} wait for their company: {reason}"
                for reason, count in sorted(h.waiting_for_company.items())
            )
            + (f"\n  {GUARD_HINT}" if h.last_outcome == EventName.GUARD_TRIPPED else "")
        )
    return "\n".join(lines) or "no connections"


def polled_text(h: EntityHealth) -> str:
    """``, polled 10:14:55, nothing new since`` when a quiet poll came after the last
    cycle (its date too when that differs from the cycle's); else nothing."""
    quiet = h.quiet_since_cycle
    if quiet is None:
        return ""
    same_day = h.last_cycle is not None and h.last_cycle.date() == quiet.date()
    shape = "%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S"
    return f", polled {quiet.strftime(shape)}, nothing new since"


def by_connection(lanes: Sequence[tuple[EntityHealth, str]]) -> str:
    """``syncd status``: each lane's text under a header per connection, which says
    whether all its lanes are well."""
    groups: dict[str, list[tuple[EntityHealth, str]]] = {}
    for health, text in lanes:
        groups.setdefault(health.connection, []).append((health, text))
    blocks = []
    for name, group in groups.items():
        unwell = sum(not health.healthy for health, _ in group)
        state = f"{unwell} of {len(group)} not ok" if unwell else "ok"
        texts = "\n".join(text for _, text in group)
        blocks.append(f"{name}: {state}\n" + textwrap.indent(texts, "  "))
    return "\n\n".join(blocks) or "no connections"


def _budget_text(requests: dict[str, object]) -> str:
    parts = []
    for side, status in sorted(requests.items()):
        if isinstance(status, dict) and "budget_left" in status:
            parts.append(
                f"{side} requests today {status.get('requests_today')}, "
                f"budget left {status['budget_left']}"
            )
    return "; " + "; ".join(parts) if parts else ""


async def history(
    store: StateStore, connection: str, entity: str, record: str
) -> list[StatusEvent]:
    """Every event about a record and its partner on the other side, oldest first."""
    ids = {record}
    for side in Side:
        link = (await store.links_by_ids(connection, entity, side, [record])).get(record)
        if link is not None:
            ids |= {link.crm_id, link.afas_id}
    found: list[StatusEvent] = []
    for record_id in sorted(ids):
        after = 0
        while page := await store.events(
            connection, entity=entity, record=record_id, after_id=after
        ):
            found.extend(page)
            after = page[-1].id or after
    return sorted(found, key=lambda e: e.id or 0)


def best_matches(links: Sequence[Link], wanted: str) -> list[Link]:
    """Of the links a search for ``wanted`` found: those with it as an id, else those
    whose name it is (any case), else all (their names contain it)."""
    text = wanted.strip()
    by_id = [link for link in links if text in (link.crm_id, link.afas_id)]
    if by_id:
        return by_id
    exact = [link for link in links if (link.name or "").casefold() == text.casefold()]
    return exact or list(links)


async def find_records(
    store: StateStore, connection: str, entities: Sequence[str], wanted: str
) -> list[Link]:
    """The linked records ``wanted`` names: a HubSpot id, an AFAS number, or (part of)
    a name. Several when a name fits several records: the operator picks one."""
    return best_matches(await store.find_links(connection, entities, wanted), wanted)


@dataclass(frozen=True)
class NeedsAPerson:
    """A record that waits for a person: a field in conflict, or syncd could not read or
    write it (quarantined)."""

    what: str  # "conflict #3 on email", "quarantined"
    why: str  # the values in conflict, or the reason
    record: RecordRef
    link_id: int | None = None  # for tools (--json): the state store's link

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, "why": self.why, "link_id": self.link_id}


async def needing_a_person(
    store: StateStore,
    connection: str,
    entity: str,
    mappings: Mapping[str, EntityMapping],
    limit: int = 10,
) -> list[NeedsAPerson]:
    """The first ``limit`` records of a lane with open conflicts, then those quarantined."""
    conflicts = (await store.conflicts(connection, entity))[:limit]
    refs = await link_refs(store, [c.link_id for c in conflicts])
    found = [
        NeedsAPerson(
            f"conflict #{c.id} on {c.field}",
            f"crm {c.crm!r}, afas {c.afas!r}",
            refs.get(c.link_id, RecordRef(entity)),
            c.link_id,
        )
        for c in conflicts
    ]
    held = (await store.quarantined(connection, entity))[: limit - len(found)]
    named = await quarantine_refs(store, held, mappings)
    found += [
        NeedsAPerson("quarantined", q.reason, ref) for q, ref in zip(held, named, strict=True)
    ]
    return found
