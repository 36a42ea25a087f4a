"""The one clock syncd reads: the current time, timezone-aware UTC (a leaf module)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
