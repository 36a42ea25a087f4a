"""The AFAS simulator's options: what the research could not pin down, and test knobs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from syncd.sim.afas.query import QueryOptions


@dataclass
class SimOptions:
    """Behaviour the research could not pin down, and test knobs."""

    token: str | None = None  # the token's <data>; None: any well-formed token passes
    oauth_clients: Mapping[str, str] = field(default_factory=dict)  # client id -> secret
    unauthorized_connector_status: int = 500  # a connector not in the app connector
    allowed_connectors: frozenset[str] | None = None  # None: every connector
    put_status: int = 201  # 200: answer a PUT with an empty body
    query: QueryOptions = field(default_factory=QueryOptions)
    max_parallel: int = 8
    max_cells: int | None = None  # rows x columns of one page; more: "Out of String space"
    # Profit stops a request it has worked on this long: 500 "Command timeout expired.",
    # nothing of it saved (its troubleshooting page: 900 seconds)
    command_timeout: float = 900.0
