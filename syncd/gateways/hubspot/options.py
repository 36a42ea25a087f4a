"""The options of ``crm = { kind = "hubspot", ... }`` in config.toml."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from syncd.gateways.options import GatewayKind, GatewayOptions, SecretFromEnv
from syncd.problems.pydantic_errors import Hint
from syncd.records import Side

__all__ = ["HUBSPOT", "HubSpotOptions"]

_TOKEN = "environment variable holding the private-app or service-key token"


class HubSpotOptions(GatewayOptions):
    """How syncd reaches one HubSpot portal, and how much of its limits it may use."""

    token: Annotated[SecretFromEnv, Hint(missing=f"this option is required ({_TOKEN})")] = Field(
        description=_TOKEN
    )
    base_url: str = "https://api.hubapi.com"
    api_version: str = Field(
        "v3", description='"v3" (/crm/v3/...) or a dated version like "2026-03"'
    )
    search_settle_seconds: float = Field(
        60.0, description="leave the newest seconds to a later cycle: search lags behind writes"
    )
    search_per_second: float = Field(
        4.0, description="HubSpot allows 5 per portal, shared by all its apps"
    )
    requests_per_ten_seconds: float = Field(
        100.0,
        description="HubSpot allows each app 100 (190 on Pro/Enterprise); lower it if "
        "other tools use the same private app",
    )
    daily_budget: int = Field(
        200_000, description="requests a day syncd may use; the portal's 250,000+ is shared"
    )
    timeout_seconds: float = 30.0
    ca_bundle: str | None = Field(
        None, description="a PEM file of CAs to trust besides the system's"
    )
    portal_id: int | None = Field(
        None,
        gt=0,
        description="the portal's id (HubSpot's account id): syncd's views link each "
        "record to its page in HubSpot; without it they show the record id alone",
    )


HUBSPOT = GatewayKind(name="hubspot", sides=frozenset({Side.CRM}), options=HubSpotOptions)
