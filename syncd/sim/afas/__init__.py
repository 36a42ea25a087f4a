"""A faithful ProfitRestServices simulator (an aiohttp app) for tests, bench and demo.

Run it in-process (``AfasSimulator().app()`` on aiohttp's test server) or standalone
with :func:`serve`. What it reproduces, and what is inferred, is written down in
``/work/shared/reference/afas-api.md``; see :mod:`syncd.sim.afas.simulator` for the routes
and the control API.
"""

from syncd.sim.afas.faults import FAULT_KINDS, Fault
from syncd.sim.afas.options import SimOptions
from syncd.sim.afas.query import QueryOptions
from syncd.sim.afas.simulator import AfasSimulator
from syncd.sim.afas.standalone import serve
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
