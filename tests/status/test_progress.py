"""Progress bars for whole listings: on a terminal only, and only while one runs."""

from __future__ import annotations

import io

from rich.console import Console

from syncd.engine.progress import NoProgress
from syncd.records import Side
from syncd.status.progress import ConsoleProgress, progress_for


def terminal() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=120)


def test_a_bar_counts_what_was_listed_of_about_how_many() -> None:
    progress = ConsoleProgress(terminal())

    bar = progress.listing("demo/customer", Side.CRM, expected=50)
    bar.listed(30)

    (task,) = progress.bars.tasks
    assert task.description == "demo/customer: listing crm"
    assert (task.completed, task.total) == (30, 50)
    bar.listed(60)  # more than were linked: the total follows
    assert (task.completed, task.total) == (60, 60)
    bar.done()


def test_a_first_sync_has_no_total_to_estimate_from() -> None:
    progress = ConsoleProgress(terminal())

    bar = progress.listing("demo/customer", Side.AFAS, expected=None)
    bar.listed(200)

    (task,) = progress.bars.tasks
    assert (task.completed, task.total) == (200, None)
    bar.done()


def test_bars_show_while_listings_run_and_go_when_they_end() -> None:
    progress = ConsoleProgress(terminal())

    crm = progress.listing("demo/customer", Side.CRM, expected=None)
    afas = progress.listing("demo/customer", Side.AFAS, expected=None)
    assert progress.bars.live.is_started
    crm.done()
    assert progress.bars.live.is_started  # AFAS still lists
    afas.done()
    afas.done()  # once is enough

    assert not progress.bars.live.is_started
    assert progress.bars.tasks == []


def test_no_bars_without_a_terminal() -> None:
    assert isinstance(progress_for(None), NoProgress)  # JSON lines
    assert isinstance(progress_for(Console(file=io.StringIO())), NoProgress)  # a pipe
    assert isinstance(progress_for(terminal()), ConsoleProgress)
