"""The options of ``afas = { kind = "afas", ... }`` in config.toml."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field

from syncd.gateways.options import (
    GatewayKind,
    GatewayOptions,
    Secret,
    SecretFromEnv,
    SecretFromFile,
    token_problems,
)
from syncd.problems.pydantic_errors import Location
from syncd.records import Side

__all__ = ["AFAS", "AfasOptions"]

_CA_BUNDLE = "a PEM file of CAs to trust besides the system's"


class AfasOptions(GatewayOptions):
    """How syncd reaches one AFAS Profit environment."""

    environment: int | None = Field(
        None, description="the 5-digit environment number, or give base_url"
    )
    environment_type: str = Field(
        "production", description="production (rest), test (resttest) or accept (restaccept)"
    )
    base_url: str | None = Field(
        None, description="https://.../ProfitRestServices, instead of environment"
    )
    token: SecretFromEnv | None = Field(
        None, description="environment variable holding the app connector token"
    )
    token_file: SecretFromFile | None = Field(
        None, description="a file holding the token (a mounted secret), instead of token"
    )
    oauth_client_id: str | None = Field(None, description="OAuth client credentials")
    oauth_client_secret: SecretFromEnv | None = Field(
        None, description="environment variable holding the OAuth client secret"
    )
    concurrency: int = Field(5, description="parallel requests, 1 to 8 (AFAS allows 8)")
    rate: float | None = Field(None, description="requests per second at most")
    ca_bundle: str | None = Field(None, description=_CA_BUNDLE)
    read_timeout: float = Field(900.0, description="seconds; AFAS gives up after 900")
    write_timeout: float = Field(300.0, description="seconds to wait for a write")
    server_timeout: float = Field(
        900.0,
        description="seconds after which Profit stops a request (its own limit: 900); a "
        "create not answered is not sent again before this long has passed",
    )
    page_size: int = 500
    currency: str = "EUR"
    autonum: bool = True

    retired: ClassVar[Mapping[str, str]] = {
        "match_oga": "is ignored: a company's second role goes under the organisation of "
        "its first, any other company gets a new one (never one found by its KvK "
        "number, which not every company has); remove it",
    }

    @classmethod
    def together(
        cls, table: Mapping[str, Any], context: Mapping[str, Any]
    ) -> list[tuple[Location, str]]:
        return token_problems(table, required=False)  # OAuth may take the token's place

    @property
    def token_secret(self) -> Secret | None:
        return self.token or self.token_file


AFAS = GatewayKind(name="afas", sides=frozenset({Side.AFAS}), options=AfasOptions)
