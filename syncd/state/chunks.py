"""How many rows or ids one statement carries.

A statement's bound parameters (and the driver's copy of them) are all alive at once, so
large batches go in bounded chunks, still in the caller's one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

ID_CHUNK = 500  # ids per IN (...) query, well below SQLite's and asyncpg's parameter limits
ROW_CHUNK = 1000  # rows per INSERT/UPDATE statement of a batch

_T = TypeVar("_T")


def id_chunks(ids: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """``ids`` in consecutive slices of at most :data:`ID_CHUNK`."""
    return _slices(ids, ID_CHUNK)


def row_chunks(rows: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """``rows`` in consecutive slices of at most :data:`ROW_CHUNK`."""
    return _slices(rows, ROW_CHUNK)


def _slices(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
