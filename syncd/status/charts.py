"""The status page's pictures: what runs now, the last day per lane, the daily budget.

Each is an HTML section of the page (see :mod:`syncd.status.server`): small SVG charts
(:mod:`syncd.status.svg`) with their numbers in a ``<details>`` table beside them.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from syncd.records import Side
from syncd.state.rows import RunningWork
from syncd.status import estimates
from syncd.status.activity import Hour, LaneDay
from syncd.status.svg import Column, Part, bar_chart, budget_bar

SIDES = tuple(str(side) for side in Side)
STYLE = """
svg.chart{vertical-align:middle}svg.chart .hit{fill:transparent}
svg.chart .axis{stroke:#bbb}.bar-changes{fill:#2a6fb0}.bar-crm{fill:#e8743b}
.bar-afas{fill:#5b9a3c}.key-crm{color:#c85a22}.key-afas{color:#45802a}.track{fill:#e6e6e6}.budget{fill:#2a6fb0}.budget-high{fill:#a11}
details table{margin:.3rem 0}summary{cursor:pointer;color:#555}
"""


def running_section(running: Sequence[RunningWork], now: datetime) -> str:
    """Long work under way in any process sharing the store (a first sync, a full sweep,
    a match plan): a row per side listed; nothing when none runs."""
    if not running:
        return ""
    rows = "".join(_running_row(work, now) for work in running)
    return (
        "<h2>Running now</h2><table><tr><th>where</th><th>side</th><th>what</th>"
        "<th>listed</th><th>how far</th><th>estimate</th><th>runs on</th></tr>"
        f"{rows}</table>"
    )


def _running_row(work: RunningWork, now: datetime) -> str:
    return (
        f"<tr><td>{_escape(work.lane)}</td><td>{_escape(str(work.side))}</td>"
        f"<td>{_escape(str(work.kind))}</td><td class='num'>{_escape(_counted(work))}</td>"
        f"<td>{_progress_bar(work)}</td><td>{_escape(_estimate(work, now))}</td>"
        f"<td>{_escape(work.host)}, pid {work.pid}</td></tr>"
    )


def _counted(work: RunningWork) -> str:
    if not work.expected:
        return f"{work.listed:,}"
    return f"{work.listed:,} of about {work.expected:,}"


def _progress_bar(work: RunningWork) -> str:
    """A bar that fills; without a total, one that only shows work goes on."""
    done = estimates.share(work)
    if done is None:
        return (
            f"<progress aria-label='{_escape(work.lane)}, {work.side}: total unknown'></progress>"
        )
    return f"<progress max='100' value='{round(done * 100)}'></progress> {done:.0%}"


def _estimate(work: RunningWork, now: datetime) -> str:
    rate = estimates.per_minute(work, now)
    pace = f"{rate:,.0f} a minute" if rate is not None else "just begun"
    if work.expected is None:
        return f"total unknown; {pace}"
    if work.expected == 0:
        return f"total unknown: nothing was linked; {pace}"
    left = estimates.time_left(work, now)
    return pace + (f", about {_duration(left)} left" if left is not None else "")


def _duration(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def day_section(days: Sequence[LaneDay]) -> str:
    """Per lane, its changes and requests per hour over the last 24 hours."""
    if not days:
        return ""
    rows = "".join(_day_row(day) for day in days)
    return (
        "<h2>Last 24 hours</h2><table><tr><th>where</th><th>changes per hour</th>"
        f"<th>requests per hour ({_sides_key()})</th><th>numbers</th></tr>{rows}</table>"
    )


def _sides_key() -> str:
    """The sides' names in their bars' colours: the requests chart's legend."""
    return " / ".join(f"<span class='key-{side}'>{side}</span>" for side in SIDES)


def _day_row(day: LaneDay) -> str:
    where = f"{day.connection}/{day.entity}"
    requested = ", ".join(f"{side} {day.requested(side):,}" for side in SIDES)
    changes = bar_chart(
        f"{where}: {day.changed:,} changes in the last 24 hours, per hour",
        [Column(_changes_title(h), (Part("bar-changes", h.changed),)) for h in day.hours],
    )
    requests = bar_chart(
        f"{where}: requests in the last 24 hours, per hour ({requested})",
        [
            Column(
                _requests_title(h),
                tuple(Part(f"bar-{side}", h.requests.get(side, 0)) for side in SIDES),
            )
            for h in day.hours
        ],
    )
    return (
        f"<tr><td>{_escape(where)}</td><td>{changes} {day.changed:,}</td>"
        f"<td>{requests} {_escape(requested)}</td><td>{_hours_table(day.hours)}</td></tr>"
    )


def _changes_title(hour: Hour) -> str:
    return f"{_hour(hour)}: {_kinds(hour.changes)}"


def _requests_title(hour: Hour) -> str:
    sent = ", ".join(f"{side} {hour.requests.get(side, 0):,}" for side in SIDES)
    return f"{_hour(hour)}: requests {sent}"


def _kinds(changes: Mapping[str, int]) -> str:
    return ", ".join(f"{kind} {n:,}" for kind, n in sorted(changes.items())) or "no changes"


def _hour(hour: Hour) -> str:
    return f"{hour.start:%H}:00-{(hour.start + timedelta(hours=1)):%H}:00 UTC"


def _hours_table(hours: Sequence[Hour]) -> str:
    head = "".join(f"<th>{side} requests</th>" for side in SIDES)
    rows = "".join(
        f"<tr><td>{_escape(_hour(h))}</td><td>{_escape(_kinds(h.changes))}</td>"
        + "".join(f"<td class='num'>{h.requests.get(side, 0):,}</td>" for side in SIDES)
        + "</tr>"
        for h in reversed(hours)  # the newest hour first
    )
    return (
        f"<details><summary>per hour</summary><table><tr><th>hour</th><th>changes</th>{head}"
        f"</tr>{rows}</table></details>"
    )


def budget_section(budgets: Mapping[tuple[str, str], Mapping[str, int]]) -> str:
    """Per connection and side that keeps one (HubSpot), today's requests of its daily
    budget, as its newest cycle reported them."""
    if not budgets:
        return ""
    rows = "".join(
        _budget_row(connection, side, budget["requests_today"], budget["daily_budget"])
        for (connection, side), budget in sorted(budgets.items())
    )
    return (
        "<h2>Daily request budget</h2><table><tr><th>connection</th><th>side</th>"
        f"<th>used today</th><th></th></tr>{rows}</table>"
    )


def _budget_row(connection: str, side: str, used: int, budget: int) -> str:
    share = f" ({used / budget:.0%})" if budget > 0 else ""
    text = f"{used:,} of {budget:,}{share}"
    bar = budget_bar(f"{connection}, {side}: {text} of today's requests", used, budget)
    return (
        f"<tr><td>{_escape(connection)}</td><td>{_escape(side)}</td><td>{bar}</td>"
        f"<td>{_escape(text)}</td></tr>"
    )


def _escape(value: object) -> str:
    return html.escape(str(value))
