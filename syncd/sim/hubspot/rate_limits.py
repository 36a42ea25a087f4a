"""HubSpot's rate limits for a private app: ten-secondly rolling, secondly for search, daily.

A request over a limit is answered 429 with the body HubSpot sends (its ``policyName``
says which limit); non-search answers carry the ``X-HubSpot-RateLimit-*`` headers.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from datetime import UTC, datetime

from aiohttp import web

from syncd.sim.hubspot.settings import SimConfig

_GROUPS = {
    "SECONDLY": "publicapi:private-app-secondly",
    "TEN_SECONDLY_ROLLING": "publicapi:private-app-api-calls-ten-secondly",
    "DAILY": "publicapi:private-app-api-calls-daily",
}


class RateLimits:
    """Counts requests against the limits ``config`` sets (read at each request, so the
    control API can change them while the simulator runs)."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self._ten_seconds: deque[float] = deque()
        self._search_second: deque[float] = deque()
        self._daily: tuple[str, int] = ("", 0)  # the UTC day, and requests counted in it

    def refusal(self, request: web.Request) -> web.Response | None:
        """Count ``request``; the 429 to answer it with when a limit is reached."""
        now = time.monotonic()
        if request.path.endswith("/search"):
            if _full(self._search_second, now, 1.0, self.config.search_per_second):
                return self.too_many_for(request)
            return None
        day = datetime.now(UTC).date().isoformat()
        used = self._daily[1] if self._daily[0] == day else 0
        if self.config.daily_limit is not None and used >= self.config.daily_limit:
            return self.too_many("DAILY", "You have reached your daily limit.")
        if _full(self._ten_seconds, now, 10.0, self.config.ten_second_limit):
            return self.too_many_for(request)
        self._daily = (day, used + 1)
        return None

    def too_many_for(self, request: web.Request) -> web.Response:
        """The 429 of the limit ``request`` counts against: search's secondly one, or
        the ten-secondly one of every other request."""
        if request.path.endswith("/search"):
            return self.too_many("SECONDLY", "You have reached your secondly limit.")
        return self.too_many(
            "TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit."
        )

    def too_many(self, policy: str, message: str) -> web.Response:
        """HubSpot's 429 for the limit ``policy``."""
        body = {
            "status": "error",
            "message": message,
            "errorType": "RATE_LIMIT",
            "category": "RATE_LIMITS",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
            "groupName": f"{_GROUPS[policy]}:1234567",
        }
        headers = {"Retry-After": "1" if policy != "TEN_SECONDLY_ROLLING" else "10"}
        return web.json_response(
            body, status=429, headers=headers if self.config.retry_after else None
        )

    def add_headers(self, response: web.StreamResponse) -> None:
        """The ``X-HubSpot-RateLimit-*`` headers: the limits and what is left of them."""
        limit = self.config.ten_second_limit
        if limit is not None:
            response.headers["X-HubSpot-RateLimit-Max"] = str(limit)
            remaining = max(0, limit - len(self._ten_seconds))
            response.headers["X-HubSpot-RateLimit-Remaining"] = str(remaining)
            response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = "10000"
        if self.config.daily_limit is not None:
            response.headers["X-HubSpot-RateLimit-Daily"] = str(self.config.daily_limit)
            left = self.config.daily_limit - self._daily[1]
            response.headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(max(0, left))


def _full(window: deque[float], now: float, span: float, limit: int | None) -> bool:
    """Count a request in a rolling window; True (not counted) if it is full."""
    while window and window[0] <= now - span:
        window.popleft()
    if limit is not None and len(window) >= limit:
        return True
    window.append(now)
    return False
