"""Pydantic's errors said as the project's problems: keys, order and words."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import Field, ValidationError

from syncd.problems.pydantic_errors import Hint, problems_of, where
from syncd.problems.table import Table


class Inner(Table):
    size: int = 1
    name: Annotated[str, Hint(wanted="a name (a string)")] = "x"


class Outer(Table):
    first: bool = True
    inner: Inner = Inner()
    items: list[Inner] = Field(default_factory=list)
    needed: Annotated[str, Hint(missing="add needed = ...")]


def problems(data: dict[str, object]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        Outer.model_validate(data)
    return [(p.key, p.message) for p in problems_of(caught.value, Outer, "f.toml")]


def test_keys_are_named_as_the_file_names_them() -> None:
    assert where(("fields", 2, "crm")) == "fields[2].crm"
    assert where(("connections", "a b", "[key]")) == "connections.a b"


def test_unknown_keys_come_first_in_their_table_and_each_problem_in_its_words() -> None:
    found = problems(
        {"first": 1, "inner": {"size": 2.5, "nmae": "y", "name": 3}, "items": [4], "colour": 0}
    )
    assert found == [
        ("colour", "unknown key; allowed keys: first, inner, items, needed"),
        ("first", "expected true or false, got an integer (1)"),
        ("inner.nmae", "unknown key; did you mean 'name'? allowed keys: size, name"),
        ("inner.size", "expected a whole number, got a float (2.5)"),
        ("inner.name", "expected a name (a string), got an integer (3)"),
        ("items[0]", "expected a table, got an integer (4); write it as [[items]]"),
        ("needed", "missing; add needed = ..."),
    ]


def test_a_table_given_as_a_value_says_how_to_write_it() -> None:
    assert ("inner", "expected a table, got a string ('x'); write it as [inner]") in problems(
        {"inner": "x", "needed": "n"}
    )
