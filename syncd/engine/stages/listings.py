"""What a cycle's listings bring: each side's records, as they come and once listed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from syncd.engine.cursors import newest_seen
from syncd.engine.speed.seam import Pages
from syncd.records import Cursor, Page, Record, RejectedRecord


@dataclass(frozen=True)
class Listing:
    """One side's pull of a cycle, opened as the cycle begins."""

    cursor: Cursor | None  # where the last cycle's pull left off
    whole: bool  # every record (the first pull, or a sweep); else the changes since
    started: datetime  # before it was asked for: the cursor's pulled_at
    pages: Pages
    hinted: bool = False  # hinted records read by id: the cursor stays where it is
    since: datetime | None = None  # changes since: where the listing starts

    def seen_before(self, record: Record) -> bool:
        """``record`` is one the last pull saw as it is: at or before the cursor, with no
        overlap window open before it (where a change saved late could hide)."""
        cursor = self.cursor
        if cursor is None or record.modified is None or self.since != cursor.modified:
            return False
        return Cursor(record.modified, record.id) <= cursor


@dataclass(frozen=True)
class SidePull:
    """What one side's listing brought this cycle."""

    records: Mapping[str, Record]
    rejected: tuple[RejectedRecord, ...]
    others: tuple[Record, ...]  # other entities', by match keys
    complete: bool  # every active record was listed (full sweep or first pull)
    cursor: Cursor | None
    decided_while_listing: int  # listed and done with beside the listing
    hints_only: bool  # values from a lagging search index: read by id to decide

    @property
    def listed(self) -> int:
        return len(self.records) + len(self.rejected) + self.decided_while_listing


@dataclass
class PullSoFar:
    """What one side's listing has brought so far."""

    records: dict[str, Record] = field(default_factory=dict)
    rejected: list[RejectedRecord] = field(default_factory=list)
    others: list[Record] = field(default_factory=list)
    cursor: Cursor | None = None
    decided_while_listing: int = 0
    hints_only: bool = False

    @property
    def listed(self) -> int:
        return len(self.records) + len(self.rejected) + self.decided_while_listing

    def so_far(self) -> Page:
        """What the listing brought so far, as one page."""
        return Page(list(self.records.values()), list(self.rejected), others=list(self.others))

    def forget(self, decided: Sequence[str] | frozenset[str]) -> None:
        """Records the cycle is done with: the rest of it leaves them be, and they still
        count as listed."""
        for record_id in decided:
            if self.records.pop(record_id, None) is not None:
                self.decided_while_listing += 1

    def keep(self, page: Page, decided: set[str]) -> None:
        """Keep what ``page`` brings, but for the records ``decided`` already."""
        self.decided_while_listing += len(decided)
        for record in page.records:
            if record.id not in decided:
                self.records[record.id] = record
        # Other entities' records are changes on the same side's clock: a side with no
        # record of this entity yet (no suppliers) gets a cursor from them, and its next
        # poll lists changes since, not everything again.
        self.cursor = newest_seen(self.cursor, [*page.records, *page.others])
        self.rejected.extend(page.rejected)
        self.others.extend(page.others)
        self.hints_only |= page.hints_only

    def hand_over(self, complete: bool) -> SidePull:
        """What was listed, for the stages after the pull; kept here no longer (the
        speed strategy's work may outlive the pull, and must not hold the records)."""
        records, self.records = self.records, {}
        rejected, self.rejected = self.rejected, []
        others, self.others = self.others, []
        return SidePull(
            records,
            tuple(rejected),
            tuple(others),
            complete,
            self.cursor,
            self.decided_while_listing,
            self.hints_only,
        )
