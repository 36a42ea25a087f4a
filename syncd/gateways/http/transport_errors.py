"""Why a request got no answer, said for an operator (the client library's exception
class names mean nothing to one)."""

from __future__ import annotations

import aiohttp


def why_no_answer(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the answer was cut off"
    return f"the connection failed ({exc})" if str(exc) else "the connection failed"
