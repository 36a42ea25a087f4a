"""The sync phase's faults for the engine's state machines: a crash (an exception that is
not syncd's) before or after a gateway write or at a state-store commit, and a response
lost after its write landed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import hypothesis.strategies as st

from syncd.errors import OutcomeUnknownError
from syncd.gateways.memory import MemoryGateway
from syncd.records import Side
from syncd.state.store import StateStore, Transaction

WRITES = ("create", "update", "deactivate")

# (kind, side, write, n): n is the transaction whose commit dies, for "crash_commit".
FAULTS = st.tuples(
    st.sampled_from(["crash_before", "crash_after", "lost", "crash_commit"]),
    st.sampled_from(list(Side)),
    st.sampled_from(WRITES),
    st.integers(min_value=1, max_value=6),
)


class Crash(Exception):
    """The process dies: not a syncd error, so nothing in the engine catches it."""


class CrashingStore:
    """The real store, but the commit of the n-th transaction dies."""

    def __init__(self, inner: StateStore, crash_at: int | None) -> None:
        self.inner = inner
        self.crash_at = crash_at
        self.count = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.inner.transaction() as tx:
            yield tx
            self.count += 1
            if self.count == self.crash_at:
                raise Crash(f"died committing transaction {self.count}")


def arm(gateway: MemoryGateway, kind: str, operation: str) -> None:
    """Make ``gateway``'s next ``operation`` fail as ``kind`` says (a commit crash is the
    store's, not the gateway's)."""
    if kind == "crash_before":
        gateway.fail_next(operation, Crash(f"died before {operation}"))
    elif kind == "crash_after":
        gateway.fail_next(operation, Crash(f"died after {operation}"), after_write=True)
    elif kind == "lost":
        gateway.fail_next(operation, OutcomeUnknownError("timed out"), after_write=True)
