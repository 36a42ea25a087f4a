"""``syncd status`` groups its lines by connection, a header each."""

from __future__ import annotations

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
