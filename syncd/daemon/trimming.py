"""Handing memory that cycles freed back to the system, now and then.

A cycle that changes something allocates and frees many small blocks (response bodies,
records, SQL parameters). glibc's allocator keeps freed memory for reuse instead of
returning it, so a long-running daemon's resident size creeps up although its objects
do not (docs/performance.md, "Flat over days"). ``malloc_trim(0)`` returns it. It walks
the heap, so it runs after a cycle that changed something and at most once a period;
idle cycles free next to nothing and never call it. Where the C library is not glibc
(musl, macOS) there is no such call and nothing is done.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from datetime import datetime, timedelta

TRIM_PERIOD = timedelta(minutes=1)

Trim = Callable[[], object]


def glibc_trim() -> Trim | None:
    """glibc's ``malloc_trim(0)``, or None where the C library has none."""
    try:
        libc = ctypes.CDLL(None)  # the symbols already loaded: the C library among them
    except (OSError, TypeError):  # TypeError: Windows wants a name
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


class MemoryHandBack:
    """Trims after cycles that changed something, at most once per ``period``."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        trim: Trim | None,
        period: timedelta = TRIM_PERIOD,
    ) -> None:
        self._clock = clock
        self._trim = trim
        self._period = period
        self._last: datetime | None = None
        self.trims = 0  # how often it handed memory back

    def cycle_ended(self, *, changed: bool) -> None:
        if not changed or self._trim is None:
            return
        now = self._clock()
        if self._last is not None and now - self._last < self._period:
            return
        self._last = now
        self._trim()
        self.trims += 1
