"""Both simulators in a process of their own, for bench/perf.py.

    .venv/bin/python bench/sims.py --latency 0.05

Runs the AFAS Profit and HubSpot simulators on loopback with the given latency and
HubSpot's documented Free/Starter limits, and a small control app for the benchmark.
Prints one JSON line with the three base URLs, then serves until stdin closes. Kept out
of syncd's process so that the simulators' CPU and memory do not count as syncd's.

Control app::

    POST /seed    {"size": N}       N customers per side (see :func:`placement`)
    POST /change  {"fraction": f}   f of the shared companies edited on each side
    GET  /counts                    requests per side by operation, AFAS's peak concurrency
    GET  /info                      the AFAS customer GetConnector's column count
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from syncd.mapping import EntityMapping, load_mappings
from syncd.records import Side, Value
from syncd.sim.afas import AfasSimulator, SimClock
from syncd.sim.companies import companies
from syncd.sim.hubspot.app import HubSpotSimulator, SimConfig

ROOT = Path(__file__).resolve().parent.parent
ENTITY = "customer"
DIFFERENT_EVERY = 20  # every 20th shared company has another phone number in HubSpot
CHANGED_CITY = "Giethoorn"
SEEDED_OVER = timedelta(days=365)


def limits(latency: float) -> SimConfig:
    """HubSpot's documented Free/Starter limits: 100 requests per 10 s per app, 5 search
    requests per second, 250,000 a day (reference: hubspot-and-crm-apis.md §2.8, §2.10)."""
    return SimConfig(
        latency=latency,
        search_lag=0.5,
        ten_second_limit=100,
        search_per_second=5,
        daily_limit=250_000,
    )


def placement(index: int, size: int) -> tuple[bool, bool]:
    """(in HubSpot, in AFAS) for company ``index`` of a seed of ``size`` per side.

    In every run of eleven companies, nine are on both sides, one only in AFAS and one
    only in HubSpot (90 % of each side shared), mixed through the listings as in a real
    portal rather than all at their end; what does not divide evenly is shared.
    """
    groups = size // 10
    if index >= 11 * groups:
        return True, True
    slot = index % 11
    return slot != 9, slot != 10


@dataclass
class Bench:
    afas: AfasSimulator
    hubspot: HubSpotSimulator
    mapping: EntityMapping
    shared: list[tuple[str, str]] = field(default_factory=list)  # (hubspot id, afas number)

    def seed(self, size: int) -> None:
        # Seeded records were last edited over the past year, evenly spread, as in books
        # in use: not all in the seconds before the first run (the simulators would stamp
        # them so), which the cycle after it would read again in its overlap window.
        count = size + size // 10
        step = SEEDED_OVER / count
        since = datetime.now(UTC) - SEEDED_OVER
        for index, company in enumerate(companies(count, seed=8)):
            in_crm, in_afas = placement(index, size)
            moment = since + step * index
            crm_id = afas_id = ""
            if in_afas:
                row = self.mapping.to_native(Side.AFAS, company.fields)
                row[self.mapping.afas.modified] = moment
                afas_id = self.afas.seed({ENTITY: [row]})[ENTITY][0]
            if in_crm:
                fields = dict(company.fields)
                if in_afas and index % DIFFERENT_EVERY == 0:
                    fields["phone"] = "+31600000000"
                crm_id = self.hubspot.seed(self._crm(fields), modified=moment)
            if in_crm and in_afas:
                self.shared.append((crm_id, afas_id))

    def change(self, fraction: float) -> dict[str, int]:
        """Users edit the city of ``fraction`` of the shared companies on each side
        (different companies on each side)."""
        step = max(1, round(1 / fraction))
        city = self.mapping.field("city")
        edited = {"hubspot": 0, "afas": 0}
        for n, (crm_id, afas_id) in enumerate(self.shared):
            if n % step == 1:
                self.hubspot.edit(crm_id, {city.crm: f"{CHANGED_CITY} {n}"})
                edited["hubspot"] += 1
            elif n % step == 2:
                self.afas.edit(ENTITY, afas_id, {city.afas: f"{CHANGED_CITY} {n}"})
                edited["afas"] += 1
        return edited

    def _crm(self, fields: dict[str, Value]) -> dict[str, str | None]:
        native = self.mapping.to_native(Side.CRM, fields)
        properties = {k: None if v is None else str(v) for k, v in native.items()}
        properties[self.mapping.crm.options["role_property"]] = self.mapping.crm.options[
            "role_value"
        ]
        return properties

    def counts(self) -> dict[str, object]:
        return {
            "afas": dict(self.afas.requests),
            "afas_max_concurrent": self.afas.max_active,
            "hubspot": dict(self.hubspot.counts),
        }

    def app(self) -> web.Application:
        async def seed(request: web.Request) -> web.Response:
            self.seed(int((await request.json())["size"]))
            return web.json_response({"shared": len(self.shared)})

        async def change(request: web.Request) -> web.Response:
            return web.json_response(self.change(float((await request.json())["fraction"])))

        async def counts(request: web.Request) -> web.Response:
            return web.json_response(self.counts())

        async def info(request: web.Request) -> web.Response:
            connector = self.afas.environment.connector_for(ENTITY)
            return web.json_response({"afas_columns": len(connector.fields)})

        app = web.Application()
        app.router.add_post("/seed", seed)
        app.router.add_post("/change", change)
        app.router.add_get("/counts", counts)
        app.router.add_get("/info", info)
        return app


async def serve(latency: float) -> None:
    mapping = load_mappings(ROOT / "mappings", [ENTITY])[ENTITY]
    # real time, and ticks of a microsecond so that quick seeding does not run ahead of it
    clock = SimClock(step=timedelta(microseconds=1))
    afas, hubspot = AfasSimulator(clock=clock), HubSpotSimulator(config=limits(latency))
    afas.latency = latency
    bench = Bench(afas, hubspot, mapping)
    runners = []
    urls = []
    for app in (afas.app(), bench.app()):
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        urls.append(f"http://127.0.0.1:{runner.addresses[0][1]}")
    hubspot_url = await hubspot.start()
    print(
        json.dumps(
            {
                "afas": urls[0] + "/ProfitRestServices",
                "hubspot": hubspot_url,
                "control": urls[1],
            }
        ),
        flush=True,
    )
    try:
        # serve until the benchmark closes our stdin
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await hubspot.close()
        for runner in runners:
            await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.05)
    asyncio.run(serve(parser.parse_args().latency))


if __name__ == "__main__":
    main()
