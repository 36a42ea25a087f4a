"""The last day per lane in hourly buckets: pure, from the finished cycles' events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from syncd.state.rows import StatusEvent
from syncd.status.activity import HOURS, by_hour, day_start

NOW = datetime(2026, 12, 7, 14, 25, tzinfo=UTC)
LANES = [("demo", "customer"), ("demo", "supplier")]


def finished(entity: str, at: datetime, counts: dict[str, int], **used: int) -> StatusEvent:
    requests: dict[str, Any] = {side: {"used": n, "budget_left": 9} for side, n in used.items()}
    data = {"counts": counts, "requests": requests}
    return StatusEvent("demo", entity, "cycle_finished", data=data, at=at)


def test_the_day_is_the_current_hour_and_the_23_before_it() -> None:
    assert day_start(NOW) == datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
    [customer, _] = by_hour([], LANES, NOW)
    assert len(customer.hours) == HOURS
    assert customer.hours[0].start == datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
    assert customer.hours[-1].start == datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def test_cycles_count_in_the_hour_they_finished_per_lane() -> None:
    events = [
        finished("customer", NOW.replace(minute=1), {"created_afas": 2, "linked": 1}, crm=5),
        finished("customer", NOW.replace(minute=20), {"created_afas": 1}, crm=3, afas=4),
        finished("customer", NOW - timedelta(hours=2), {"updated_crm": 7}, afas=1),
        finished("supplier", NOW, {"linked": 4}, crm=0),
    ]

    customer, supplier = by_hour(events, LANES, NOW)

    now, two_ago = customer.hours[-1], customer.hours[-3]
    assert now.changes == {"created_afas": 3, "linked": 1}
    assert now.requests == {"crm": 8, "afas": 4}
    assert two_ago.changes == {"updated_crm": 7}
    assert two_ago.requests == {"afas": 1}
    assert customer.changed == 11
    assert customer.requested("crm") == 8
    assert supplier.hours[-1].changes == {"linked": 4}
    assert supplier.hours[-1].requests == {}  # none sent: no zero to draw
    assert sum(h.changed for h in customer.hours[:-3]) == 0


def test_standing_numbers_other_lanes_and_older_events_are_left_out() -> None:
    events = [
        finished("customer", NOW, {"conflicts": 5, "creates_in_doubt": 2, "updated_afas": 1}),
        finished("customer", day_start(NOW) - timedelta(seconds=1), {"linked": 9}, crm=9),
        finished("contact", NOW, {"linked": 3}, crm=3),  # a lane not configured
        StatusEvent("other", "customer", "cycle_finished", data={"counts": {"linked": 1}}, at=NOW),
        StatusEvent("demo", "customer", "cycle_finished", data={"counts": "broken"}, at=NOW),
    ]

    customer, _ = by_hour(events, LANES, NOW)

    assert customer.changed == 1  # the update only
    assert customer.hours[-1].changes == {"updated_afas": 1}
    assert customer.requested("crm") == 0


def test_the_oldest_hour_starts_the_day() -> None:
    at = day_start(NOW)
    customer, _ = by_hour([finished("customer", at, {"linked": 2}, crm=1)], LANES, NOW)
    assert customer.hours[0].changes == {"linked": 2}
