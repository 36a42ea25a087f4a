"""Handing memory that cycles freed back to the system, now and then, and keeping less.

A cycle that changes something allocates and frees many small blocks (response bodies,
records, SQL parameters). glibc's allocator keeps freed memory for reuse instead of
returning it, so a long-running daemon's resident size creeps up although its objects
do not (docs/performance.md, "Flat over days"). ``malloc_trim(0)`` returns it. It walks
the heap, so it runs after a cycle that changed something and at most once a period;
idle cycles free next to nothing and never call it. glibc also gives each thread that
allocates (the SQLite driver runs each database connection in a thread of its own) an
arena of its own, each keeping its freed memory; :func:`limit_arenas` makes them share
two, as ``MALLOC_ARENA_MAX=2`` would. Where the C library is not glibc (musl, macOS)
there are no such calls and nothing is done.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

TRIM_PERIOD = timedelta(minutes=1)
ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter, from glibc's malloc.h

Trim = Callable[[], object]


def _glibc(name: str) -> Any:
    """A function of glibc's allocator, or None where the C library has none."""
    try:
        libc = ctypes.CDLL(None)  # the symbols already loaded: the C library among them
    except (OSError, TypeError):  # TypeError: Windows wants a name
        return None
    return getattr(libc, name, None)


def glibc_trim() -> Trim | None:
    """glibc's ``malloc_trim(0)``, or None where the C library has none."""
    trim = _glibc("malloc_trim")
    if trim is None:
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Let threads started from now on share ``arenas`` allocator arenas; True if done.
    An operator's ``MALLOC_ARENA_MAX`` wins."""
    mallopt = _glibc("mallopt")
    if mallopt is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))


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
