"""What waits for a person's match review, as the status events record it.

A record that matching holds back (ambiguous, or only resembling a record there) is noted
with a ``match_ambiguous`` event each time it is decided. A ``match_reviewed`` event
(``syncd match --apply``) holds the pairs the person declined: those are never held for
review again. A ``held_record_gone`` event (a cycle read a held record by id and did not
find it: deleted, or inactive, on its side) ends its wait: it is not counted, nor read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from syncd.events import EventName
from syncd.records import Side
from syncd.state.store import StateStore

GONE = "deleted or inactive on its side: no longer waits for the match review"
NOTES_READ = 10_000  # the newest notes read: a few full sweeps' worth of held records


@dataclass
class AwaitingReview:
    """Per side, the records noted as held (and not linked since), by id: whether the
    newest note is older than the last review (then the review may have settled it)."""

    held: dict[Side, dict[str, bool]] = field(default_factory=lambda: {s: {} for s in Side})
    declined: frozenset[tuple[str, str]] = frozenset()

    def count(self) -> int:
        return sum(len(ids) for ids in self.held.values())


async def read_waiting_for_sibling(
    store: StateStore, connection: str, entity: str
) -> dict[str, int]:
    """Per sibling entity, how many creates the lane's last finished cycle left waiting
    for it (siblings.py): such records are decided again each cycle until they go."""
    names = [str(EventName.CYCLE_FINISHED)]
    last = await store.events(connection, entity=entity, names=names, limit=1, newest=True)
    waiting = last[-1].data.get("waiting_for_sibling") if last else None
    if not isinstance(waiting, dict):
        return {}
    return {str(sibling): n for sibling, n in waiting.items() if isinstance(n, int) and n}


async def read_awaiting_review(store: StateStore, connection: str, entity: str) -> AwaitingReview:
    reviews = await store.events(connection, entity=entity, names=[str(EventName.MATCH_REVIEWED)])
    declined = frozenset(
        (str(crm), str(afas)) for r in reviews for crm, afas in r.data.get("declined", [])
    )
    last_review = max((r.id or 0 for r in reviews), default=0)
    notes = await store.events(
        connection,
        entity=entity,
        names=[str(EventName.MATCH_AMBIGUOUS), str(EventName.HELD_RECORD_GONE)],
        limit=NOTES_READ,
        newest=True,
    )
    found = AwaitingReview(declined=declined)
    sides = {str(side): side for side in Side}
    for note in notes:  # oldest first: the newest note of a record decides
        side = sides.get(str(note.data.get("side")))
        if side is None or note.record is None:
            continue
        if note.name == EventName.HELD_RECORD_GONE:
            found.held[side].pop(note.record, None)
        else:
            found.held[side][note.record] = (note.id or 0) < last_review
    for side in Side:
        if found.held[side]:
            linked = await store.links_by_ids(connection, entity, side, list(found.held[side]))
            for record_id in linked:
                del found.held[side][record_id]
    return found
