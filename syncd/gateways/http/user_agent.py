"""Who is calling: the ``User-Agent`` every gateway request carries.

It names syncd and its version. When replicas share a state store, the daemon adds which
replica sends the request, for which connection and entity, and in which of its cycles
(``syncd/0.1.0 (replica r1; acme/customer; cycle 12)``), so that an API's request log tells
replicas apart. The detail travels in a context variable, set around a cycle: the gateways
need no parameter for it, and the tasks a cycle starts inherit it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from importlib.metadata import PackageNotFoundError, version

_DETAIL: ContextVar[str | None] = ContextVar("syncd_caller_detail", default=None)


def _version() -> str:
    try:
        return version("syncd")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "dev"


PRODUCT = f"syncd/{_version()}"


def user_agent() -> str:
    """The User-Agent header for a request made now, in this context."""
    detail = _DETAIL.get()
    return f"{PRODUCT} ({detail})" if detail else PRODUCT


@contextmanager
def calling_as(detail: str) -> Iterator[None]:
    """Requests made inside carry ``detail`` in their User-Agent."""
    token = _DETAIL.set(detail)
    try:
        yield
    finally:
        _DETAIL.reset(token)
