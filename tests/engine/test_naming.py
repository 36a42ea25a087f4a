"""The name a status event gives its record."""

from __future__ import annotations

from syncd.engine.naming import record_name


def test_a_company_by_its_name_a_person_by_first_and_last_name() -> None:
    assert record_name({"name": "Bakkerij De Korenaar B.V.", "city": "Utrecht"}) == (
        "Bakkerij De Korenaar B.V."
    )
    assert record_name({"first_name": "Pieter", "last_name": "in 't Veld"}) == "Pieter in 't Veld"
    assert record_name({"first_name": None, "last_name": "Moerman"}) == "Moerman"


def test_a_record_without_those_fields_has_no_name() -> None:
    assert record_name({"kvk": "30145872"}) is None
    assert record_name({"name": "", "first_name": None}) is None
