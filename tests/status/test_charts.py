"""The page's charts as SVG and HTML, from a seeded set of finished cycles: a bar per
hour and side with its numbers in the tooltip and the table, labelled for screen readers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from syncd.records import Side
from syncd.state.rows import RunningWork, StatusEvent, WorkKind
from syncd.status.activity import by_hour
from syncd.status.charts import budget_section, day_section, running_section
from syncd.status.svg import HEIGHT, Column, Part, bar_chart, budget_bar

SVG = "{http://www.w3.org/2000/svg}"
NOW = datetime(2026, 12, 7, 14, 25, tzinfo=UTC)


def parse(markup: str) -> ET.Element:
    """The markup as XML: it must be well-formed to be read at all."""
    return ET.fromstring(f"<div>{markup}</div>")


def bars(svg: ET.Element, kind: str) -> list[ET.Element]:
    return [r for r in svg.iter(f"{SVG}rect") if r.get("class") == kind]


def test_a_bar_chart_stacks_parts_on_one_scale_and_says_what_it_shows() -> None:
    columns = [
        Column("09:00: crm 3, afas 1", (Part("bar-crm", 3), Part("bar-afas", 1))),
        Column("10:00: nothing", (Part("bar-crm", 0), Part("bar-afas", 0))),
        Column("11:00: crm 8", (Part("bar-crm", 8), Part("bar-afas", 0))),
    ]

    svg = parse(bar_chart("demo/customer: requests <per hour>", columns)).find(f"{SVG}svg")

    assert svg is not None
    assert svg.get("role") == "img"
    assert svg.get("aria-label") == "demo/customer: requests <per hour>"
    assert [g.findtext(f"{SVG}title") for g in svg.iter(f"{SVG}g")] == [c.title for c in columns]
    crm = bars(svg, "bar-crm")
    assert [int(r.get("height", "")) for r in crm] == [round(3 * HEIGHT / 8), HEIGHT]
    [afas] = bars(svg, "bar-afas")
    assert int(afas.get("height", "")) == round(HEIGHT / 8)
    assert len(bars(svg, "hit")) == 3  # every hour has a tooltip, the empty one too


def test_a_small_value_in_a_busy_chart_still_shows() -> None:
    svg = parse(
        bar_chart(
            "x", [Column("a", (Part("bar-crm", 1),)), Column("b", (Part("bar-crm", 10_000),))]
        )
    )
    assert [r.get("height") for r in bars(svg, "bar-crm")] == ["1", str(HEIGHT)]


def test_the_last_day_of_a_seeded_set_draws_a_bar_per_busy_hour_and_side() -> None:
    def done(at: datetime, counts: dict[str, int], crm: int, afas: int) -> StatusEvent:
        requests = {"crm": {"used": crm}, "afas": {"used": afas}}
        data = {"counts": counts, "requests": requests}
        return StatusEvent("demo", "customer", "cycle_finished", data=data, at=at)

    events = [
        done(NOW, {"created_afas": 4, "linked": 2}, crm=30, afas=12),
        done(NOW - timedelta(hours=1), {"updated_crm": 1}, crm=5, afas=0),
        done(NOW - timedelta(hours=5), {}, crm=2, afas=2),
    ]
    days = by_hour(events, [("demo", "customer")], NOW)

    section = parse(day_section(days))

    changes, requests = section.iter(f"{SVG}svg")
    assert changes.get("aria-label") == ("demo/customer: 7 changes in the last 24 hours, per hour")
    assert len(bars(changes, "bar-changes")) == 2  # two hours changed something
    assert len(bars(changes, "hit")) == 24
    assert "crm 37, afas 14" in (requests.get("aria-label") or "")
    assert len(bars(requests, "bar-crm")) == 3
    assert len(bars(requests, "bar-afas")) == 2
    tooltips = [g.findtext(f"{SVG}title") for g in changes.iter(f"{SVG}g")]
    assert tooltips[-1] == "14:00-15:00 UTC: created_afas 4, linked 2"
    assert tooltips[-2] == "13:00-14:00 UTC: updated_crm 1"
    # the numbers as a table too, the newest hour first
    details = section.find(".//details")
    assert details is not None
    rows = [[td.text for td in tr.iter("td")] for tr in details.iter("tr")][1:]
    assert len(rows) == 24
    assert rows[0] == ["14:00-15:00 UTC", "created_afas 4, linked 2", "30", "12"]
    assert rows[5] == ["09:00-10:00 UTC", "no changes", "2", "2"]


def test_the_daily_budget_is_a_bar_as_full_as_it_is_used() -> None:
    budgets = {("demo", "crm"): {"requests_today": 250, "daily_budget": 1000, "budget_left": 750}}

    section = parse(budget_section(budgets))

    svg = section.find(f".//{SVG}svg")
    assert svg is not None
    assert svg.get("aria-label") == "demo, crm: 250 of 1,000 (25%) of today's requests"
    [used] = bars(svg, "budget")
    [track] = bars(svg, "track")
    assert int(used.get("width", "")) * 4 == int(track.get("width", ""))
    assert "250 of 1,000 (25%)" in ET.tostring(section, encoding="unicode")
    assert budget_section({}) == ""


def test_a_spent_budget_fills_the_bar_and_turns_red() -> None:
    svg = parse(budget_bar("over", 1200, 1000))
    assert bars(svg, "budget") == []
    [spent] = bars(svg, "budget-high")
    [track] = bars(svg, "track")
    assert spent.get("width") == track.get("width")


def running(lane: str, side: Side, expected: int | None, listed: int) -> RunningWork:
    started = NOW - timedelta(minutes=10)
    return RunningWork(
        "k" + lane, lane, side, WorkKind.LISTING, started, NOW, "box", 7, listed, expected
    )


def test_running_work_says_how_far_it_is_and_how_long_is_left() -> None:
    sweep = running("demo/customer", Side.CRM, expected=3000, listed=1000)
    first = running("demo/supplier", Side.AFAS, expected=None, listed=250)
    empty = running("demo/contact", Side.CRM, expected=0, listed=40)

    section = parse(running_section([sweep, first, empty], NOW))

    rows = [["".join(cell.itertext()).strip() for cell in row] for row in section.iter("tr")][1:]
    assert rows == [
        ["demo/customer", "crm", "listing", "1,000 of about 3,000", "33%",
         "100 a minute, about 20 min left", "box, pid 7"],
        ["demo/supplier", "afas", "listing", "250", "",
         "total unknown; 25 a minute", "box, pid 7"],
        ["demo/contact", "crm", "listing", "40", "",
         "total unknown: nothing was linked; 4 a minute", "box, pid 7"],
    ]  # fmt: skip
    [bar, unknown, _] = section.iter("progress")
    assert (bar.get("max"), bar.get("value")) == ("100", "33")
    assert unknown.get("value") is None  # a bar that only shows work goes on
    assert unknown.get("aria-label") == "demo/supplier, afas: total unknown"
    assert running_section([], NOW) == ""
