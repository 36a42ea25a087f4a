"""The simulated Profit on its own (``syncd sim afas``), seeded from a JSON file."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from syncd.sim.afas.auth import TOKEN
from syncd.sim.afas.options import SimOptions
from syncd.sim.afas.query import QueryOptions
from syncd.sim.afas.simulator import AfasSimulator
from syncd.sim.afas.store import SimClock


def serve(
    host: str,
    port: int,
    *,
    seed: Path | None,
    token: str | None,
    precision: str = "round",
) -> None:
    """Run a simulator until interrupted (``syncd sim afas --port N``).

    ``seed`` is a JSON file of rows per entity (or a fixture file, whose ``afas`` part is
    used). Without ``token`` any well-formed AfasToken is accepted; with it, only the
    token whose ``<data>`` is ``token``. Profit lives at
    ``http://{host}:{port}/ProfitRestServices``, the control API at ``/_sim``.
    """
    sim = AfasSimulator(
        options=SimOptions(token=token, query=QueryOptions(precision=precision)),
        clock=SimClock(
            step=timedelta(seconds=1) if precision == "second" else timedelta(milliseconds=1),
            whole_seconds=precision == "second",
        ),
    )
    match = TOKEN.fullmatch(token or "")
    if match is not None:  # the whole XML token was given: keep its data
        sim.options.token = match[1]
    if seed is not None:
        sim.seed(json.loads(seed.read_text(encoding="utf-8")))
    web.run_app(sim.app(), host=host, port=port, print=None)
