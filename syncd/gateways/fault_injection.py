"""Faults the in-memory gateway raises on request, for crash and retry tests: the next
call of an operation fails, before its work or (a lost answer) after it."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass

__all__ = ["OPERATIONS", "Fault", "FaultInjection"]

OPERATIONS = frozenset(
    {
        "changed_since",
        "list_all",
        "page",
        "read",
        "find_by_correlation",
        "find_by_values",
        "create",
        "update",
        "deactivate",
        "aclose",
    }
)
"""Operation names counted in :attr:`FaultInjection.calls` and accepted by ``fail_next``.

``page`` is every page a listing (``changed_since`` or ``list_all``) fetches, so a fault
can be injected halfway through a listing.
"""


@dataclass(frozen=True)
class Fault:
    error: Exception
    after_write: bool


class FaultInjection:
    """The faults waiting per operation, and the calls made so far."""

    def __init__(self) -> None:
        self._waiting: dict[str, deque[Fault]] = {}
        self.calls: Counter[str] = Counter()

    def fail_next(self, operation: str, error: Exception, *, after_write: bool = False) -> None:
        """Make the next call of ``operation`` raise ``error``.

        With ``after_write`` the call first does its work (the write is applied) and then
        raises: a lost response, for which ``error`` should be an OutcomeUnknownError.
        Several faults for one operation are used in the order they were given.
        """
        if operation not in OPERATIONS:
            known = ", ".join(sorted(OPERATIONS))
            raise ValueError(f"unknown operation {operation!r}; one of: {known}")
        self._waiting.setdefault(operation, deque()).append(Fault(error, after_write))

    def clear(self) -> None:
        """Forget every fault that has not fired yet."""
        self._waiting.clear()

    def pending(self) -> int:
        """Faults that have not fired yet."""
        return sum(len(queue) for queue in self._waiting.values())

    def begin(self, operation: str) -> Fault | None:
        """Count a call; raise its fault now, or return the one to raise at its end."""
        self.calls[operation] += 1
        queue = self._waiting.get(operation)
        if not queue:
            return None
        fault = queue.popleft()
        if not fault.after_write:
            raise fault.error
        return fault

    def begin_page(self) -> None:
        """Count a listing's page; a page has no write to apply before its fault."""
        self.end(self.begin("page"))

    @staticmethod
    def end(fault: Fault | None) -> None:
        """Raise the fault of a call that has done its work, if it has one."""
        if fault is not None:
            raise fault.error


class InjectsFaults:
    """A test double's way to fail its next calls, through its :class:`FaultInjection`."""

    _faults: FaultInjection

    def fail_next(self, operation: str, error: Exception, *, after_write: bool = False) -> None:
        """Make the next call of ``operation`` raise ``error`` (before its work, or after
        it with ``after_write``: a lost response); see :class:`FaultInjection`."""
        self._faults.fail_next(operation, error, after_write=after_write)

    def clear_faults(self) -> None:
        """Forget every fault given to fail_next that has not fired yet."""
        self._faults.clear()

    def pending_faults(self) -> int:
        """Faults given to fail_next that have not fired yet."""
        return self._faults.pending()
