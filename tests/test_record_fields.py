"""A record's fields are kept compactly but read and compare like the dict they came from."""

from __future__ import annotations

import pytest

from syncd.records import Record


def test_fields_read_and_compare_like_a_dict() -> None:
    given = {"name": "Acme", "city": None, "kvk": "1234"}
    record = Record("1", dict(given))
    assert record.fields == given
    assert given == record.fields
    assert dict(record.fields) == given
    assert list(record.fields) == ["name", "city", "kvk"]
    assert record.fields.get("city", "x") is None
    assert record.fields.get("phone") is None
    assert "kvk" in record.fields
    assert "phone" not in record.fields
    with pytest.raises(KeyError):
        record.fields["phone"]


def test_records_with_other_values_or_names_differ() -> None:
    one = Record("1", {"name": "Acme", "city": "Delft"})
    assert one.fields == Record("2", {"name": "Acme", "city": "Delft"}).fields
    assert one.fields != Record("2", {"name": "Acme", "city": "Gouda"}).fields
    assert one.fields != Record("2", {"city": "Delft", "name": "Acme", "kvk": None}).fields
    assert one.fields != {"name": "Acme"}
