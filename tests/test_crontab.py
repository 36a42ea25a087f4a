"""The settings' own crontab check agrees with the scheduler that runs the expression."""

from __future__ import annotations

import pytest
from apscheduler.triggers.cron import CronTrigger
from hypothesis import given
from hypothesis import strategies as st

from syncd.crontab import crontab_problem

_ITEMS = ["*", "*/2", "*/0", "*/60", "0", "5", "23", "24", "31", "32", "7", "1-5", "5-1"]
_ITEMS += ["1-5/2", "5/2", "58/2", "jan", "mar-jan", "mon-fri", "sun", "last", "", "x"]


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("30 3 * * *", None),
        ("*/15 8-18 * jan-jun mon-fri", None),
        ("0 0 last * *", None),
        ("every day", "it has 2 fields, not 5"),
        ("60 * * * *", "the minute '60': out of range; use 0 to 59"),
        ("0 0 * * 7", "the day of the week '7': out of range; use 0 to 6"),
        ("5-1 * * * *", "the minute '5-1': the range runs backwards"),
        ("*/0 * * * *", "the minute '*/0': the step must be from 1 to 59"),
    ],
)
def test_crontab_problems(expression: str, problem: str | None) -> None:
    assert crontab_problem(expression) == problem


@given(st.lists(st.lists(st.sampled_from(_ITEMS), min_size=1, max_size=2), min_size=5, max_size=5))
def test_an_expression_the_check_passes_is_one_the_scheduler_reads(
    fields: list[list[str]],
) -> None:
    expression = " ".join(",".join(items) for items in fields)
    if crontab_problem(expression) is None:
        CronTrigger.from_crontab(expression, timezone="UTC")
