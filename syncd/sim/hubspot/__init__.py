"""A faithful HubSpot CRM simulator (companies, contacts and the associations between
them), for tests, bench and ``syncd demo``.

In process::

    simulator = HubSpotSimulator()
    async with running(simulator) as url:
        simulator.seed({"name": "Acme B.V.", "afas_roles": "customer"})
        ...  # point a HubSpotGateway at url

Standalone: :func:`serve` (``syncd sim hubspot --port N``). The routes and the control
API are listed in :mod:`syncd.sim.hubspot.simulator`; what is faithful to HubSpot in
:mod:`~syncd.sim.hubspot.portal` (the companies and contacts),
:mod:`~syncd.sim.hubspot.associations`, :mod:`~syncd.sim.hubspot.search`,
:mod:`~syncd.sim.hubspot.rate_limits` and the modules under ``routes/``.
"""

from syncd.sim.hubspot.faults import Fault
from syncd.sim.hubspot.middlewares import Exchange
from syncd.sim.hubspot.properties import DEFAULT_PROPERTIES, PropertyDef
from syncd.sim.hubspot.search import SearchLimits
from syncd.sim.hubspot.settings import REALISTIC, SimConfig
from syncd.sim.hubspot.simulator import HubSpotSimulator, running
from syncd.sim.hubspot.standalone import load_seed, serve

__all__ = [
    "DEFAULT_PROPERTIES",
    "REALISTIC",
    "Exchange",
    "Fault",
    "HubSpotSimulator",
    "PropertyDef",
    "SearchLimits",
    "SimConfig",
    "load_seed",
    "running",
    "serve",
]
