"""The HubSpot simulator's settings: what the control API can change while it runs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SimConfig:
    """What the control API can change; None switches a limit off."""

    search_lag: float = 0.0
    search_jitter: float = 0.0
    latency: float = 0.0  # the least time a request takes, its work included
    ten_second_limit: int | None = None
    search_per_second: int | None = None
    daily_limit: int | None = None
    retry_after: bool = False
    merge_new_id: bool = False
    unset_as_null: bool = True  # requested but unset properties: null (HubSpot) or left out


REALISTIC = SimConfig(
    search_lag=3.0,
    search_jitter=2.0,
    ten_second_limit=100,
    search_per_second=5,
    daily_limit=250_000,
)
"""Free/Starter private-app limits and a few seconds of search lag (the standalone default)."""
