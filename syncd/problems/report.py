"""Problems found in an input file, said for people: where, what is wrong, what to do.

The words every file check shares (config.toml, the mapping files, gateway options): how
a value is described in a message, how a list of choices reads, what an unknown key is
told; and :class:`ProblemReport`, which collects the problems of one file in the order
they are found.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from syncd.errors import Problem

__all__ = ["ProblemReport", "choices", "describe", "unknown_key_message"]


def describe(value: object) -> str:
    """What a value is, in the words of a TOML file: "a string ('x')", "a table"."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a float ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__} ({value})"


def choices(values: Iterable[str]) -> str:
    return ", ".join(values)


def unknown_key_message(key: str, allowed: Iterable[str]) -> str:
    allowed = list(allowed)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}allowed keys: {choices(allowed)}"


class ProblemReport:
    """Problems found in one file, in the order found."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.source, key, message))
