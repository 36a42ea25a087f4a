"""How hard syncd may use a portal: HubSpot's rate windows and syncd's daily budget.

HubSpot counts searches per portal, over any second, shared by every app in it; every
other request per app, over any ten seconds. Each kind waits for room in its own
:class:`~syncd.gateways.http.rolling_window.RollingWindow`. On top of that, syncd spends
at most a daily budget of requests (an operator's choice, so that syncd leaves room for
the portal's other apps); once it is spent, requests fail fast until the next UTC day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from syncd.errors import TransientError
from syncd.gateways.http.rolling_window import RollingWindow

__all__ = ["RequestLimits", "seconds_to_midnight"]


@dataclass
class _DayCount:
    """What one UTC day has seen so far."""

    day: str = ""
    used: int = 0
    portal_remaining: int | None = None
    throttled: int = 0


class RequestLimits:
    """The rate windows a request waits for, and the daily budget it spends."""

    def __init__(
        self, *, search_per_second: float, requests_per_ten_seconds: float, daily_budget: int
    ) -> None:
        # A burst may spend a whole window at once, as HubSpot's own counting allows.
        self._search = RollingWindow.at(search_per_second, 1.0)
        self._general = RollingWindow.at(requests_per_ten_seconds, 10.0)
        self.daily_budget = daily_budget
        self._today = _DayCount()

    def window(self, *, search: bool) -> RollingWindow:
        """The window a request of this kind waits in (``async with``)."""
        return self._search if search else self._general

    def spend(self) -> None:
        """Count one request against today's budget; TransientError when it is spent."""
        self._roll_day()
        if self._today.used >= self.daily_budget:
            raise TransientError(
                f"syncd's daily HubSpot budget of {self.daily_budget} requests is "
                "spent; it renews at midnight UTC",
                retry_after=seconds_to_midnight(),
            )
        self._today.used += 1

    def note_throttled(self) -> None:
        """HubSpot answered 429: counted for the status surface."""
        self._today.throttled += 1

    def note_headers(self, headers: Mapping[str, str]) -> None:
        """Keep what HubSpot says is left of the portal's own daily limit."""
        remaining = headers.get("X-HubSpot-RateLimit-Daily-Remaining")
        if remaining is not None and remaining.isdigit():
            self._today.portal_remaining = int(remaining)

    def status(self) -> dict[str, object]:
        """Today's request count against the daily budget, for the status surface."""
        self._roll_day()
        return {
            "day": self._today.day,
            "requests_today": self._today.used,
            "daily_budget": self.daily_budget,
            "budget_left": max(0, self.daily_budget - self._today.used),
            "portal_daily_remaining": self._today.portal_remaining,
            "throttled_today": self._today.throttled,
        }

    def _roll_day(self) -> None:
        today = datetime.now(UTC).date().isoformat()
        if self._today.day != today:
            self._today = _DayCount(day=today)


def seconds_to_midnight() -> float:
    """Seconds until the next UTC day, when HubSpot's and syncd's daily counts start over."""
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - now).total_seconds()
