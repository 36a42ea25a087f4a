"""Hypothesis strategies for the fuzz tests (any JSON, junk rows, typed text) and a helper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from syncd.errors import SyncdError

T = TypeVar("T")

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
"""Enough examples to find the shapes that break a parser, few enough for CI."""
FUZZ_SLOW = settings(FUZZ, max_examples=40)
"""For examples that run a whole gateway or mapping each: fewer, so CI stays fast."""

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.datetimes().map(lambda moment: moment.isoformat() + "Z")
)
json_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
"""Any JSON document (what ``json.loads`` can return)."""

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
words = st.text(alphabet=LETTERS + " .-&'", min_size=1, max_size=40)
"""Text a person types into a name field."""


def junk_row(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A row or company with any JSON under the names a side uses (and others)."""
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=8), json_values, max_size=8)


def attempt(call: Callable[[], T]) -> tuple[T | None, SyncdError | None]:
    """What ``call`` returns, or the SyncdError it raises; anything else fails the test."""
    try:
        return call(), None
    except SyncdError as error:
        return None, error
