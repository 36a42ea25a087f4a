"""Progress bars on a terminal for the long listings: a first sync's and a full sweep's.

One rich :class:`~rich.progress.Progress` for the process, shown while any whole listing
runs and gone when none does (the event lines print above it). Only on a terminal: the
commands give JSON output no progress at all (:data:`syncd.engine.progress.NO_PROGRESS`).
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from syncd.engine.progress import ListingProgress, NoProgress, SideListing
from syncd.records import Side


class ConsoleProgress:
    """A bar per side and lane being listed whole: records listed of about how many
    (``?`` for a first sync, whose count nothing tells), time taken and, for a sweep,
    time left."""

    def __init__(self, console: Console) -> None:
        self.bars = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),  # blank while the total is not known
            console=console,
            transient=True,
        )
        self._running = 0

    def listing(self, lane: str, side: Side, expected: int | None) -> SideListing:
        if self._running == 0:
            self.bars.start()
        self._running += 1
        task = self.bars.add_task(f"{lane}: listing {side}", total=expected)
        return _Bar(self, task, expected)

    def finished(self, task: TaskID) -> None:
        self.bars.remove_task(task)
        self._running -= 1
        if self._running == 0:
            self.bars.stop()


class _Bar:
    def __init__(self, owner: ConsoleProgress, task: TaskID, expected: int | None) -> None:
        self._owner = owner
        self._task = task
        self._total = expected
        self._open = True

    def listed(self, count: int) -> None:
        if self._total is not None and count > self._total:
            self._total = count  # more than were linked: the better guess
        self._owner.bars.update(self._task, completed=count, total=self._total)

    def done(self) -> None:
        if self._open:
            self._open = False
            self._owner.finished(self._task)


def progress_for(console: Console | None) -> ListingProgress:
    """Bars when ``console`` is a terminal; otherwise nobody watches."""
    if console is None or not console.is_terminal:
        return NoProgress()
    return ConsoleProgress(console)
