"""Which conflicts and quarantined records a bulk action selects: the filter, matched purely."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncd.engine.settle import (
    FilterError,
    RecordFilter,
    SelectedConflict,
    conflict_matches,
    parse_age,
    quarantined_matches,
)
from syncd.records import Side
from syncd.state.rows import Conflict, Quarantined

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def conflict(
    field: str = "email", entity: str = "customer", days_old: int = 0, connection: str = "demo"
) -> SelectedConflict:
    opened = Conflict(
        connection,
        entity,
        link_id=7,
        field=field,
        base="info@vdlinden.nl",
        crm="sales@vdlinden.nl",
        afas="facturen@vdlinden.nl",
        created_at=NOW - timedelta(days=days_old),
        id=1,
    )
    return SelectedConflict(opened, "9000000102", "10002", "Van der Linden Installatie")


def quarantined(side: Side = Side.CRM, days_old: int = 0, field: str | None = "kvk") -> Quarantined:
    return Quarantined(
        "demo",
        "supplier",
        side,
        "9000000101",
        "kvk: '12' is not a KvK number",
        field=field,
        reference="req-77",
        first_seen=NOW - timedelta(days=days_old),
        fields={"name": "Bakkerij De Molen", "city": "Gouda"},
    )


@pytest.mark.parametrize(
    ("chosen", "matches"),
    [
        (RecordFilter(field="email"), True),
        (RecordFilter(field="phone"), False),
        (RecordFilter(entities=frozenset({"customer", "supplier"})), True),
        (RecordFilter(entities=frozenset({"supplier"})), False),
        (RecordFilter(connection="demo", everything=True), True),
        (RecordFilter(connection="acme", everything=True), False),
        (RecordFilter(older_than=timedelta(days=2)), True),
        (RecordFilter(older_than=timedelta(days=4)), False),
        (RecordFilter(search="van der LINDEN"), True),  # the name, in any case
        (RecordFilter(search="10002"), True),  # the AFAS number
        (RecordFilter(search="9000000102"), True),  # the HubSpot id
        (RecordFilter(search="facturen@"), True),  # a value
        (RecordFilter(search="Jansen"), False),
        (RecordFilter(field="email", search="Jansen"), False),  # every criterion must hold
    ],
)
def test_a_conflict_matches_every_criterion_given(chosen: RecordFilter, matches: bool) -> None:
    assert conflict_matches(chosen, conflict(days_old=3), NOW) is matches


@pytest.mark.parametrize(
    ("chosen", "matches"),
    [
        (RecordFilter(side=Side.CRM), True),
        (RecordFilter(side=Side.AFAS), False),
        (RecordFilter(records=frozenset({"crm:9000000101"})), True),
        (RecordFilter(records=frozenset({"afas:9000000101"})), False),
        (RecordFilter(field="kvk"), True),
        (RecordFilter(field="name"), False),
        (RecordFilter(search="not a kvk"), True),  # the side's reason
        (RecordFilter(search="molen"), True),  # the name, from what could be read
        (RecordFilter(search="gouda"), True),  # a value
        (RecordFilter(search="req-77"), True),  # the side's reference
        (RecordFilter(search="delft"), False),
        (RecordFilter(older_than=timedelta(hours=12)), True),
        (RecordFilter(older_than=timedelta(weeks=1)), False),
        (RecordFilter(entities=frozenset({"customer"})), False),
    ],
)
def test_a_quarantined_record_matches_every_criterion_given(
    chosen: RecordFilter, matches: bool
) -> None:
    assert quarantined_matches(chosen, quarantined(days_old=1), NOW) is matches


def test_a_record_of_unknown_age_is_never_old_enough() -> None:
    undated = Quarantined("demo", "customer", Side.AFAS, "10001", "refused")
    assert not quarantined_matches(RecordFilter(older_than=timedelta(0)), undated, NOW)


def test_a_side_does_not_select_conflicts_it_is_refused() -> None:
    with pytest.raises(FilterError, match="both sides"):
        conflict_matches(RecordFilter(side=Side.CRM), conflict(), NOW)


def test_a_filter_that_narrows_nothing_is_refused_unless_it_says_all() -> None:
    for nothing in (RecordFilter(), RecordFilter(connection="demo")):
        with pytest.raises(FilterError, match="--all"):
            nothing.require_choice("conflicts")
    RecordFilter(everything=True).require_choice("conflicts")
    RecordFilter(search="x").require_choice("conflicts")


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("90m", timedelta(minutes=90)),
        ("12h", timedelta(hours=12)),
        ("2d", timedelta(days=2)),
        ("1W", timedelta(weeks=1)),
    ],
)
def test_ages_read_as_a_number_and_a_unit(text: str, age: timedelta) -> None:
    assert parse_age(text) == age


@pytest.mark.parametrize("text", ["2", "two days", "2y", "-1d", ""])
def test_an_age_not_understood_says_how_to_write_one(text: str) -> None:
    with pytest.raises(FilterError, match=r"e\.g\. 2d"):
        parse_age(text)
