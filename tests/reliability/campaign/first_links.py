"""Which lost-looking edits a first link overwrote as its rules say, for the checks.

A pair's first link settles each field the two records hold differently by the field's
``first_link`` rule: an edit made before a company's records were linked (entered on
both sides by users, or a company adopted into its second role) may rightly give way
to the other side's value. Only then, and only to the value the rule picks: the other
side's value when the pair was linked (its last edit before the link, or what it was
seeded or created with), never a blank. Any other edit that is gone is a lost edit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from syncd.events import EventName
from syncd.mapping import EntityMapping
from syncd.policy import ConflictRule, FirstLink
from syncd.records import Side, Value, is_blank
from syncd.state.store import StateStore
from tests.reliability.campaign.world import ENTITIES, Edit, Snapshot

_PICKS = {
    Side.AFAS: (FirstLink.AFAS, FirstLink.NEWEST),
    Side.CRM: (FirstLink.CRM, FirstLink.NEWEST),
}
"""The first-link rules that may take each side's value."""

Origins = Mapping[tuple[Side, str, str], Mapping[str, Value]]
"""(side, entity, KvK) -> the canonical fields a record was seeded or created with."""


@dataclass(frozen=True)
class FirstLinks:
    """When each company's pair of each entity was first linked, and what its records
    held before anyone edited them."""

    linked_at: Mapping[tuple[str, str], datetime]  # (entity, KvK) -> the first link
    origins: Origins
    conflict: ConflictRule = ConflictRule.MANUAL  # the campaigns' rules: SyncRules()

    def overwrote(
        self,
        edit: Edit,
        edits: Sequence[Edit],
        snapshot: Snapshot,
        mappings: Mapping[str, EntityMapping],
    ) -> bool:
        """Whether ``edit`` was made before a pair of its company was first linked and
        its edited record now holds the value that pair's first-link rule picked."""
        for entity in ENTITIES if edit.entity is None else (edit.entity,):
            linked = self.linked_at.get((entity, edit.kvk))
            if linked is None or edit.at >= linked:
                continue
            rule = mappings[entity].field(edit.field).first_link
            if (rule or FirstLink.following(self.conflict)) not in _PICKS[edit.side.other]:
                continue
            picked = self._held_at(edit.side.other, entity, edit, edits, linked, mappings)
            edited = snapshot.of(edit.side, entity).get(edit.kvk, [])
            if not is_blank(picked) and any(h.fields.get(edit.field) == picked for h in edited):
                return True
        return False

    def _held_at(
        self,
        side: Side,
        entity: str,
        edit: Edit,
        edits: Sequence[Edit],
        moment: datetime,
        mappings: Mapping[str, EntityMapping],
    ) -> Value:
        """What ``side``'s record of ``entity`` held in the edited field at ``moment``."""
        before = [
            e
            for e in edits
            if (e.side, e.kvk, e.field) == (side, edit.kvk, edit.field)
            and e.entity in (None, entity)
            and e.at < moment
        ]
        if before:
            last = max(before, key=lambda e: e.seq)
            return mappings[entity].field(edit.field).normal(last.value)
        origin = self.origins.get((side, entity, edit.kvk))
        if origin is None and side is Side.CRM:  # created in one role, adopted into this one
            origin = next(
                (o for (s, _, k), o in self.origins.items() if (s, k) == (side, edit.kvk)), None
            )
        return (origin or {}).get(edit.field)


async def first_links(
    store: StateStore, connection: str, snapshot: Snapshot, origins: Origins
) -> FirstLinks:
    """The first link of each company's pairs, from the status log's ``record_linked``
    events (a created record's link is no first link: nothing differed)."""
    kvk_of = {
        (entity, held.record_id): kvk
        for (side, entity), records in snapshot.records.items()
        if side is Side.CRM
        for kvk, copies in records.items()
        for held in copies
    }
    linked_at: dict[tuple[str, str], datetime] = {}
    after = 0
    while events := await store.events(
        connection, after_id=after, names=[str(EventName.RECORD_LINKED)]
    ):
        after = events[-1].id or after
        for event in events:
            kvk = kvk_of.get((event.entity or "", event.record or ""))
            if kvk is not None and event.at is not None:
                at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
                linked_at.setdefault((event.entity or "", kvk), at)
    return FirstLinks(linked_at, origins)
