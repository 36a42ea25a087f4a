"""A faithful HubSpot CRM simulator (companies), for tests, bench and ``syncd demo``.

In process::

    simulator = HubSpotSimulator()
    async with running(simulator) as url:
        simulator.seed({"name": "Acme B.V.", "afas_roles": "customer"})
        ...  # point a HubSpotGateway at url

Standalone: :func:`serve` (``syncd sim hubspot --port N``). The routes, the control API
and what is faithful to HubSpot are described in :mod:`syncd.sim.hubspot.app`,
:mod:`~syncd.sim.hubspot.portal` and :mod:`~syncd.sim.hubspot.search`.
"""

from syncd.sim.hubspot.app import (
    REALISTIC,
    Fault,
    HubSpotSimulator,
    SimConfig,
    load_seed,
    running,
    serve,
)
from syncd.sim.hubspot.properties import DEFAULT_PROPERTIES, PropertyDef
from syncd.sim.hubspot.search import SearchLimits

__all__ = [
    "DEFAULT_PROPERTIES",
    "REALISTIC",
    "Fault",
    "HubSpotSimulator",
    "PropertyDef",
    "SearchLimits",
    "SimConfig",
    "load_seed",
    "running",
    "serve",
]
