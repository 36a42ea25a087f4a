"""The options of ``crm = { kind = "hubspot", ... }`` in config.toml."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from syncd.gateways.options import (
    GatewayKind,
    GatewayOptions,
    SecretFromEnv,
    SecretFromFile,
    token_problems,
)
from syncd.problems.pydantic_errors import Location
from syncd.records import Side

__all__ = ["HUBSPOT", "HubSpotOptions"]

_TOKEN = "environment variable holding the private-app or service-key token"


class HubSpotOptions(GatewayOptions):
    """How syncd reaches one HubSpot portal, and how much of its limits it may use."""

    token: SecretFromEnv | None = Field(None, description=_TOKEN)
    token_file: SecretFromFile | None = Field(
        None, description="a file holding the token (a mounted secret), instead of token"
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

    @classmethod
    def together(
        cls, table: Mapping[str, Any], context: Mapping[str, Any]
    ) -> list[tuple[Location, str]]:
        return token_problems(table, required=True)

    def token_value(self) -> str:
        secret = self.token or self.token_file
        if secret is None:  # validation requires one of them
            raise ValueError("a HubSpot gateway needs token or token_file")
        return secret.value


HUBSPOT = GatewayKind(name="hubspot", sides=frozenset({Side.CRM}), options=HubSpotOptions)
