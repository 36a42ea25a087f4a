"""The full sweep's crontab expression is checked as the scheduler reads it."""

from __future__ import annotations

import pytest

from syncd.config.crontab import crontab_problem


@pytest.mark.parametrize(
    "expression", ["30 3 * * *", "*/15 8-18 * jan-jun mon-fri", "0 0 last * *"]
)
def test_an_expression_the_scheduler_reads_passes(expression: str) -> None:
    assert crontab_problem(expression) is None


@pytest.mark.parametrize(
    ("expression", "said"),
    [
        ("every day", "Wrong number of fields"),
        ("60 * * * *", "'60'"),
        ("0 0 * * 7", "'7'"),
        ("5-1 * * * *", "range"),
        ("*/0 * * * *", "Increment"),
    ],
)
def test_an_expression_it_refuses_is_named_with_the_reason(expression: str, said: str) -> None:
    problem = crontab_problem(expression)
    assert problem is not None
    assert said in problem
