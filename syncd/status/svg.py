"""Small charts as inline SVG, drawn on the server: no script, no build step.

A bar chart is a row of columns (one per hour on the page), each a stack of coloured
parts (one per side, say) with a ``<title>`` that browsers show as a tooltip. Every chart
is ``role="img"`` with an ``aria-label``; the page puts its numbers in a table as well.
Colours come from the page's style sheet, by class.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

COLUMN_WIDTH = 5
GAP = 1
HEIGHT = 28
BUDGET_WIDTH = 120
BUDGET_HEIGHT = 10


@dataclass(frozen=True)
class Part:
    kind: str  # the CSS class that colours it (bar-changes, bar-crm, bar-afas)
    value: int


@dataclass(frozen=True)
class Column:
    title: str  # what its tooltip says
    parts: tuple[Part, ...]

    @property
    def total(self) -> int:
        return sum(p.value for p in self.parts)


def bar_chart(label: str, columns: Sequence[Column]) -> str:
    """Stacked bars on a shared scale (the tallest column fills the height); an empty
    column draws nothing but keeps its tooltip."""
    top = max((c.total for c in columns), default=0)
    width = len(columns) * (COLUMN_WIDTH + GAP)
    drawn = "".join(_column(n, column, top) for n, column in enumerate(columns))
    return (
        f'<svg class="chart" role="img" aria-label="{_escape(label)}" width="{width}" '
        f'height="{HEIGHT}" viewBox="0 0 {width} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{_escape(label)}</title>"
        f'<line class="axis" x1="0" y1="{HEIGHT}" x2="{width}" y2="{HEIGHT}"/>{drawn}</svg>'
    )


def _column(index: int, column: Column, top: int) -> str:
    x = index * (COLUMN_WIDTH + GAP)
    # A hit area as tall as the chart, so the tooltip shows over an empty hour too.
    parts = [f'<rect class="hit" x="{x}" y="0" width="{COLUMN_WIDTH}" height="{HEIGHT}"/>']
    floor = HEIGHT
    for part in column.parts:
        if part.value <= 0:
            continue
        # Scaled, yet at least a pixel: one request in a busy day still shows.
        height = max(1, round(part.value * HEIGHT / top))
        floor -= height
        parts.append(
            f'<rect class="{_escape(part.kind)}" x="{x}" y="{floor}" '
            f'width="{COLUMN_WIDTH}" height="{height}"/>'
        )
    return f"<g><title>{_escape(column.title)}</title>{''.join(parts)}</g>"


def budget_bar(label: str, used: int, budget: int) -> str:
    """How much of a budget is used, as a filled bar (full beyond the budget)."""
    share = min(1.0, used / budget) if budget > 0 else 1.0
    filled = round(share * BUDGET_WIDTH)
    kind = "budget-high" if share >= 0.9 else "budget"
    return (
        f'<svg class="chart" role="img" aria-label="{_escape(label)}" width="{BUDGET_WIDTH}" '
        f'height="{BUDGET_HEIGHT}" viewBox="0 0 {BUDGET_WIDTH} {BUDGET_HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{_escape(label)}</title>'
        f'<rect class="track" x="0" y="0" width="{BUDGET_WIDTH}" height="{BUDGET_HEIGHT}"/>'
        f'<rect class="{kind}" x="0" y="0" width="{filled}" height="{BUDGET_HEIGHT}"/></svg>'
    )


def _escape(value: str) -> str:
    return html.escape(value, quote=True)
