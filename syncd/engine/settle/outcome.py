"""What a bulk action did, one entry per record: settled, skipped or failed, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")


@dataclass(frozen=True)
class Outcome(Generic[Item]):
    item: Item
    detail: str  # what was written, or why it was skipped or failed


@dataclass
class Settlement(Generic[Item]):
    """The records selected and, unless this was a dry run, what became of each."""

    selected: list[Item]
    dry_run: bool
    settled: list[Outcome[Item]] = field(default_factory=list)
    skipped: list[Outcome[Item]] = field(default_factory=list)
    failed: list[Outcome[Item]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.failed
