"""The full sweep's schedule (``[daemon] full_sweep_cron``), checked by the scheduler
that runs it.

The settings ask APScheduler itself rather than a second reader of crontab syntax, so an
expression that passes here never fails the daemon at start.
"""

from __future__ import annotations

from datetime import UTC

from apscheduler.triggers.cron import CronTrigger

__all__ = ["crontab_problem"]


def crontab_problem(expression: str) -> str | None:
    """What is wrong with ``expression`` (minute hour day month weekday), or None."""
    try:
        CronTrigger.from_crontab(expression, timezone=UTC)
    except (ValueError, TypeError) as error:
        return str(error)
    return None
