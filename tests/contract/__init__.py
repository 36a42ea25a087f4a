"""The gateway contract suite; see :mod:`tests.contract.gateway_contract` to plug a gateway in."""

from tests.contract.gateway_contract import GatewayContract, GatewayHarness, collect

__all__ = ["GatewayContract", "GatewayHarness", "collect"]
