"""``syncd status`` groups its lines by connection, a header each; a lane's line tells
when it last ran: its last cycle, and its last quiet poll after that."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from syncd.status.views import EntityHealth, by_connection, health_as_text


def lane(connection: str, entity: str, outcome: str | None) -> EntityHealth:
    return EntityHealth(
        connection, entity, 3, 0, 0, 0, None, None, outcome, None, cursors={}, requests={}
    )


def test_each_connection_gets_a_header_and_its_lanes_below_it() -> None:
    rows = [
        lane("acme", "customer", "cycle_finished"),
        lane("north", "customer", "source_failed"),
        lane("acme", "supplier", None),
        lane("north", "supplier", "cycle_finished"),
    ]

    text = by_connection([(row, health_as_text([row])) for row in rows])

    acme, north = text.split("\n\n")
    assert acme.splitlines()[0] == "acme: ok"
    assert [line.split(":")[0] for line in acme.splitlines()[1:]] == [
        "  acme/customer",
        "  acme/supplier",
    ]
    assert north.splitlines()[0] == "north: 1 of 2 not ok"
    assert north.splitlines()[1].startswith("  north/customer: source_failed")


def test_no_connections() -> None:
    assert by_connection([]) == "no connections"


CYCLE = datetime(2026, 12, 8, 10, 2, 11, tzinfo=UTC)


def ran(last_poll: datetime | None) -> str:
    row = replace(lane("acme", "customer", "cycle_finished"), last_cycle=CYCLE, last_poll=last_poll)
    return health_as_text([row])


def test_a_quiet_poll_after_the_last_cycle_is_shown_beside_it() -> None:
    polled = CYCLE + timedelta(minutes=12, seconds=44)
    assert "last cycle 2026-12-08 10:02:11, polled 10:14:55, nothing new since" in ran(polled)


def test_a_quiet_poll_on_a_later_day_is_shown_with_its_date() -> None:
    polled = CYCLE + timedelta(days=2)
    assert "10:02:11, polled 2026-12-10 10:02:11, nothing new since" in ran(polled)


def test_a_poll_no_later_than_the_last_cycle_is_not_shown() -> None:
    assert "polled" not in ran(CYCLE)
    assert "polled" not in ran(CYCLE - timedelta(minutes=1))
    assert "polled" not in ran(None)
