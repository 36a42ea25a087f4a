"""A faithful ProfitRestServices simulator (an aiohttp app) for tests, bench and demo.

Run it in-process (``AfasSimulator().app()`` on aiohttp's test server) or standalone
with :func:`serve`. What it reproduces, and what is inferred, is written down in
``/work/shared/reference/afas-api.md``; see :mod:`syncd.sim.afas.app` for the routes and
the control API.
"""

from syncd.sim.afas.app import FAULT_KINDS, AfasSimulator, Fault, SimOptions, serve
from syncd.sim.afas.query import QueryOptions
from syncd.sim.afas.store import ProfitError, SimClock

__all__ = [
    "FAULT_KINDS",
    "AfasSimulator",
    "Fault",
    "ProfitError",
    "QueryOptions",
    "SimClock",
    "SimOptions",
    "serve",
]
