"""A simulator's log of the API requests it served: when, what, and who asked.

Both simulators keep one, so that a test can check who talked to them and when (e.g. that
no two syncd replicas worked on the same connection and entity at overlapping times).
Times are the simulator's own monotonic clock, in seconds; only their order and
differences mean anything. The log is bounded: the oldest entries make way.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LIMIT = 100_000


@dataclass(frozen=True)
class LoggedRequest:
    started: float
    finished: float
    method: str
    path: str
    user_agent: str
    status: int | None  # None: the handler raised (a dropped connection, a bug)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class RequestLog:
    def __init__(self, limit: int = LIMIT) -> None:
        self.entries: deque[LoggedRequest] = deque(maxlen=limit)

    def clear(self) -> None:
        self.entries.clear()

    async def serve_and_log(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Serve ``request`` with ``handler`` and log it, however it ends."""
        started, status = time.monotonic(), None
        try:
            response = await handler(request)
            status = response.status
            return response
        finally:
            self.entries.append(
                LoggedRequest(
                    started,
                    time.monotonic(),
                    request.method,
                    request.path,
                    request.headers.get("User-Agent", ""),
                    status,
                )
            )

    def as_json(self) -> list[dict[str, object]]:
        return [entry.as_dict() for entry in self.entries]
