"""How long to use an OAuth access token before asking for a new one."""

from __future__ import annotations

from datetime import timedelta

RENEW_BEFORE = timedelta(minutes=1)  # ask again this long before the token expires


def usable_for(lifetime: timedelta) -> timedelta:
    """A minute less than ``lifetime`` (``expires_in``), or half of a short one: a token
    is never sent in its last moments, when it may expire on the way."""
    return max(lifetime - RENEW_BEFORE, lifetime / 2)
