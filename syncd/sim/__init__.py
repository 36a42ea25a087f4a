"""Simulators for tests, bench and demo: AFAS Profit (:mod:`syncd.sim.afas`) and HubSpot.

Nothing in syncd imports these but the ``syncd sim`` and ``syncd demo`` commands; the
tests and the benchmarks use them too.
"""
