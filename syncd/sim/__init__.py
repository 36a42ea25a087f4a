"""Simulators for tests, bench and demo: AFAS Profit (:mod:`syncd.sim.afas`) and HubSpot.

Nothing in syncd imports these but the tests, the benchmarks and ``syncd demo``.
"""
