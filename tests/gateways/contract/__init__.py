"""The gateway contract suite; :mod:`tests.gateways.contract.gateway_contract` plugs one in."""

from tests.gateways.contract.gateway_contract import (
    GatewayContract,
    GatewayHarness,
    collect,
    shipped_samples,
)

__all__ = ["GatewayContract", "GatewayHarness", "collect", "shipped_samples"]
