"""Checking a crontab expression (``[daemon] full_sweep_cron``) without a scheduler.

The settings sit below the daemon that schedules with APScheduler, so they check the
expression on their own, as strictly as ``CronTrigger.from_crontab`` reads it or more:
an expression that passes here never fails the daemon at start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["crontab_problem"]

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # APScheduler 3: 0 is Monday
_ITEM = re.compile(r"(?P<start>\*|[0-9]+|[a-z]+)(?:-(?P<end>[0-9]+|[a-z]+))?(?:/(?P<step>[0-9]+))?")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = field(default=())  # names for the values from ``low`` on
    last: bool = False  # "last" stands for the field's last value (the month's last day)

    def value(self, text: str) -> int | None:
        """The number ``text`` stands for; None for a name the field does not know."""
        if text.isdigit():
            return int(text)
        if text in self.names:
            return self.low + self.names.index(text)
        return None


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of the month", 1, 31, last=True),
    _Field("month", 1, 12, _MONTHS),
    _Field("day of the week", 0, 6, _WEEKDAYS),
)


def crontab_problem(expression: str) -> str | None:
    """What is wrong with ``expression`` (minute hour day month weekday), or None."""
    fields = expression.split()
    if len(fields) != len(_FIELDS):
        return f"it has {len(fields)} fields, not {len(_FIELDS)}"
    for text, spec in zip(fields, _FIELDS, strict=True):
        for item in text.lower().split(","):
            problem = _item_problem(item, spec)
            if problem is not None:
                return f"the {spec.name} {item!r}: {problem}"
    return None


def _item_problem(item: str, spec: _Field) -> str | None:
    if spec.last and item == "last":
        return None
    parts = _ITEM.fullmatch(item)
    if parts is None:
        return "not a value, a range (a-b), a step (*/n) or a list of them"
    start, end, step = parts["start"], parts["end"], parts["step"]
    if start == "*":
        if end is not None:
            return "* takes no range"
        first, last = spec.low, spec.high
    else:
        first_value = spec.value(start)
        last_value = first_value if end is None else spec.value(end)
        if first_value is None or last_value is None:
            return "not a number" + (f" or a name ({', '.join(spec.names)})" if spec.names else "")
        if step is not None and not (start.isdigit() and (end is None or end.isdigit())):
            return "a step goes with numbers, not names"
        first, last = first_value, spec.high if end is None and step else last_value
        if first > last:
            return "the range runs backwards"
    if first < spec.low or last > spec.high:
        return f"out of range; use {spec.low} to {spec.high}"
    if step is not None and last == first:
        return "a single value takes no step"
    if step is not None and not 0 < int(step) <= last - first:
        return f"the step must be from 1 to {last - first}"
    return None
