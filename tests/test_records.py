"""Compact record fields: they read and compare like a dict, and repeated values are shared."""

from __future__ import annotations

import json

import pytest

from syncd.records import Fields


@pytest.fixture(autouse=True)
def fresh_common(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Fields, "_common", {})
    monkeypatch.setattr(Fields, "_MAX_COMMON", 3)


def parsed(**fields: str | None) -> dict[str, str | None]:
    """As a side's JSON brings them: a string object of its own per record."""
    loaded: dict[str, str | None] = json.loads(json.dumps(fields))
    return loaded


def test_fields_read_and_compare_like_the_dict_they_came_from() -> None:
    plain = parsed(city="Delft", kvk="123", phone=None)
    fields = Fields(plain)
    assert fields == plain
    assert plain == fields
    assert dict(fields) == plain
    assert list(fields) == ["city", "kvk", "phone"]
    assert fields.get("phone", "x") is None
    assert fields.get("missing") is None
    assert "kvk" in fields
    assert Fields.of(fields) is fields


def test_a_value_many_records_hold_is_one_string() -> None:
    first, second = Fields(parsed(city="Delft")), Fields(parsed(city="Delft"))
    assert first["city"] is second["city"]


def test_a_field_with_many_distinct_values_is_left_alone() -> None:
    for n in range(4):  # one more than _MAX_COMMON: no longer followed
        Fields(parsed(kvk=f"kvk{n}", city="Delft"))
    first, second = Fields(parsed(kvk="kvk9", city="Delft")), Fields(parsed(kvk="kvk9"))
    assert first["kvk"] == second["kvk"] == "kvk9"
    assert first["kvk"] is not second["kvk"]
    assert Fields._common["kvk"] is None
    assert first["city"] is Fields(parsed(city="Delft"))["city"]  # other fields still are
