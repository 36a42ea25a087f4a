"""The generated companies are valid for the shipped mappings, distinct and repeatable."""

from __future__ import annotations

from pathlib import Path

from syncd.mapping import load_mapping
from syncd.records import Side
from syncd.sim.companies import companies, iban
from syncd.transforms.by_name import NORMALISERS

MAPPING = load_mapping(Path(__file__).resolve().parents[2] / "mappings" / "customer.toml")


def test_every_value_survives_both_sides_unchanged() -> None:
    for company in companies(300, seed=7):
        for side in Side:
            native = MAPPING.to_native(side, company.fields)
            back = MAPPING.to_canonical(side, native)
            assert {k: back[k] for k in company.fields} == company.fields


def test_kvk_numbers_are_distinct_and_the_seed_repeats() -> None:
    first = [c.kvk for c in companies(500, seed=3)]
    assert len(set(first)) == 500
    assert first == [c.kvk for c in companies(500, seed=3)]
    assert first != [c.kvk for c in companies(500, seed=4)]


def test_iban_check_digits() -> None:
    assert iban("ABNA", 417164300) == "NL91ABNA0417164300"  # the well-known example
    assert NORMALISERS["iban"]("NL91ABNA0417164300") == "NL91ABNA0417164300"
