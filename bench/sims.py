"""One simulator in a process of its own, for bench/perf.py.

    .venv/bin/python bench/sims.py afas --latency 0.05
    .venv/bin/python bench/sims.py hubspot --latency 0.05

Runs the AFAS Profit or the HubSpot simulator on loopback with the given latency (and
HubSpot's documented Free/Starter limits), and a small control app for the benchmark.
Prints one JSON line with the simulator's and the control app's base URLs, then serves
until stdin closes. With ``--environments N`` it serves N simulators of its side
(bench/many_lanes.py), each an AFAS environment or HubSpot portal of its own: its own
data, counts, loopback port and (with ``--token``) token, ``TOKEN-0`` .. ``TOKEN-{N-1}``,
as Profit gives each environment an address and a token of its own; the control app
seeds and edits each alike. Kept out of syncd's process so that the simulators' CPU and memory do
not count as syncd's, and each in a process of its own because AFAS and HubSpot are two
servers: one answering a large page does not hold up the other's answers.

Both processes seed the same companies (the same seed, in the same order), each its own
side's share of them, so "the n-th shared company" is the same company in both.

Control app::

    POST /seed    {"size": N}       N customers per side (see :func:`placement`), in
                                    each environment
    POST /change  {"fraction": f}   f of the shared companies edited on each side
                  {"fraction": f, "round": r}   ... each round to a city of its own
    GET  /counts                    {side: requests by operation}
    GET  /info                      AFAS only: the customer GetConnector's column count
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from syncd.mapping import EntityMapping, load_mappings
from syncd.records import Side, Value
from syncd.sim.afas import AfasSimulator, SimClock, SimOptions
from syncd.sim.afas.index import column
from syncd.sim.companies import companies
from syncd.sim.hubspot import HubSpotSimulator, SimConfig

ROOT = Path(__file__).resolve().parent.parent
ENTITY = "customer"
DIFFERENT_EVERY = 20  # every 20th shared company has another phone number in HubSpot
CHANGED_CITY = "Giethoorn"
SEEDED_OVER = timedelta(days=365)
SIDES = ("afas", "hubspot")


def limits(latency: float, *, unlimited: bool = False) -> SimConfig:
    """HubSpot's documented Free/Starter limits: 100 requests per 10 s per app, 5 search
    requests per second, 250,000 a day (reference: hubspot-and-crm-apis.md §2.8, §2.10).
    ``unlimited`` lifts them, for bench/soak.py: it counts memory, not requests, and runs
    a week of many lanes' cycles in minutes through one portal."""
    if unlimited:
        return SimConfig(latency=latency, search_lag=0.5)
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


class Bench(ABC):
    """One side's simulator, seeded and edited as its share of the benchmark's companies."""

    side: str

    def __init__(self, mapping: EntityMapping) -> None:
        self.mapping = mapping
        self.shared: list[str] = []  # this side's ids of the companies on both sides

    def seed(self, size: int) -> int:
        shared = self._seed(size)
        self.settle()
        _hold_still()
        return shared

    def change(self, fraction: float, round_: int = 0) -> int:
        edited = self._change(fraction, round_)
        self.settle()
        _hold_still()
        return edited

    @abstractmethod
    def settle(self) -> None:
        """After the users' edits, before the cycle that is measured."""

    def _seed(self, size: int) -> int:
        # Seeded records were last edited over the past year, evenly spread, as in books
        # in use: not all in the seconds before the first run (the simulators would stamp
        # them so), which the cycle after it would read again in its overlap window.
        count = size + size // 10
        step = SEEDED_OVER / count
        since = datetime.now(UTC) - SEEDED_OVER
        for index, company in enumerate(companies(count, seed=8)):
            in_crm, in_afas = placement(index, size)
            mine = in_afas if self.side == "afas" else in_crm
            if mine:
                fields = dict(company.fields)
                record_id = self.add(fields, since + step * index, index, in_crm and in_afas)
                if in_crm and in_afas:
                    self.shared.append(record_id)
        return len(self.shared)

    def _change(self, fraction: float, round_: int) -> int:
        """Users edit the city of ``fraction`` of the shared companies on each side
        (different companies on each side: HubSpot's n-th ones, AFAS's next ones); a
        round after the first gives them cities of its own, so that each is a change."""
        step = max(1, round(1 / fraction))
        offset = 1 if self.side == "hubspot" else 2
        edited = 0
        for n, record_id in enumerate(self.shared):
            if n % step == offset:
                suffix = f" r{round_}" if round_ else ""
                self.edit(record_id, f"{CHANGED_CITY} {n}{suffix}")
                edited += 1
        return edited

    @abstractmethod
    def add(self, fields: dict[str, Value], moment: datetime, index: int, shared: bool) -> str:
        """Seed one company last edited at ``moment``; its id."""

    @abstractmethod
    def edit(self, record_id: str, city: str) -> None: ...

    @abstractmethod
    def counts(self) -> Mapping[str, int]: ...

    def info(self) -> dict[str, object]:
        return {}


class AfasBench(Bench):
    side = "afas"

    def __init__(self, mapping: EntityMapping, latency: float, token: str | None = None) -> None:
        super().__init__(mapping)
        # real time, and ticks of a microsecond so that quick seeding does not run ahead
        self.sim = AfasSimulator(
            options=SimOptions(token=token), clock=SimClock(step=timedelta(microseconds=1))
        )
        self.sim.latency = latency

    def add(self, fields: dict[str, Value], moment: datetime, index: int, shared: bool) -> str:
        row = self.mapping.to_native(Side.AFAS, fields)
        row[self.mapping.afas.modified] = moment
        return self.sim.seed({ENTITY: [row]})[ENTITY][0]

    def edit(self, record_id: str, city: str) -> None:
        self.sim.edit(ENTITY, record_id, {self.mapping.field("city").afas: city})

    def counts(self) -> Mapping[str, int]:
        return self.sim.requests

    def settle(self) -> None:
        """Profit's database keeps its indexes as rows change; the simulator rebuilds its
        own on the first query after a change. The users' edits are made before the
        cycle, so their rebuild is too (of the columns syncd's queries filter and order
        on), not on the cycle's first request."""
        connector = self.sim.environment.connector_for(ENTITY)
        for name in (self.mapping.afas.modified, self.mapping.afas.id):
            getfield = connector.field(name)
            assert getfield is not None, name
            column(self.sim.data, ENTITY, getfield)

    def info(self) -> dict[str, object]:
        connector = self.sim.environment.connector_for(ENTITY)
        return {"afas_columns": len(connector.fields)}

    async def start(self) -> str:
        self.runner = await _serve(self.sim.app())
        return _url(self.runner) + "/ProfitRestServices"

    async def close(self) -> None:
        await self.runner.cleanup()


class HubSpotBench(Bench):
    side = "hubspot"

    def __init__(
        self, mapping: EntityMapping, latency: float, *, unlimited: bool, token: str | None = None
    ) -> None:
        super().__init__(mapping)
        self.sim = HubSpotSimulator(token=token, config=limits(latency, unlimited=unlimited))

    def add(self, fields: dict[str, Value], moment: datetime, index: int, shared: bool) -> str:
        if shared and index % DIFFERENT_EVERY == 0:
            fields["phone"] = "+31600000000"
        native = self.mapping.to_native(Side.CRM, fields)
        properties = {k: None if v is None else str(v) for k, v in native.items()}
        options = self.mapping.crm.options
        properties[options["role_property"]] = options["role_value"]
        return self.sim.seed(properties, modified=moment)

    def edit(self, record_id: str, city: str) -> None:
        self.sim.edit(record_id, {self.mapping.field("city").crm: city})

    def counts(self) -> Mapping[str, int]:
        return self.sim.counts

    def settle(self) -> None:
        """What syncd's change searches filter on (modification time, role) is indexed
        before the cycles, as HubSpot has it, not by the first search of a measured one."""
        self.sim.index_for_search("hs_lastmodifieddate", self.mapping.crm.options["role_property"])

    async def start(self) -> str:
        return await self.sim.start()

    async def close(self) -> None:
        await self.sim.close()


def control_app(benches: list[Bench]) -> web.Application:
    """The benchmark's control app over one side's environments: each seeded and edited
    alike, their request counts summed."""
    side = benches[0].side

    async def seed(request: web.Request) -> web.Response:
        size = int((await request.json())["size"])
        return web.json_response({"shared": sum(b.seed(size) for b in benches)})

    async def change(request: web.Request) -> web.Response:
        body = await request.json()
        fraction, round_ = float(body["fraction"]), int(body.get("round", 0))
        return web.json_response({side: sum(b.change(fraction, round_) for b in benches)})

    async def counts(request: web.Request) -> web.Response:
        total: Counter[str] = Counter()
        for bench in benches:
            total.update(bench.counts())
        return web.json_response({side: dict(total)})

    async def info(request: web.Request) -> web.Response:
        return web.json_response(benches[0].info())

    app = web.Application()
    app.router.add_post("/seed", seed)
    app.router.add_post("/change", change)
    app.router.add_get("/counts", counts)
    app.router.add_get("/info", info)
    return app


def _hold_still() -> None:
    """The companies live as long as the simulator: its cycle collector's full passes
    leave them out (a pass over 110,000 companies held up a search by 0.2-0.5 s, which
    AFAS and HubSpot do not)."""
    gc.collect()
    gc.freeze()


async def _serve(app: web.Application) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def _url(runner: web.AppRunner) -> str:
    return f"http://127.0.0.1:{runner.addresses[0][1]}"


async def serve(
    side: str,
    latency: float,
    *,
    unlimited: bool = False,
    environments: int = 1,
    token: str | None = None,
) -> None:
    mapping = load_mappings(ROOT / "mappings", [ENTITY])[ENTITY]
    benches: list[Bench] = []
    for n in range(environments):
        own = f"{token}-{n}" if token and environments > 1 else token
        if side == "afas":
            benches.append(AfasBench(mapping, latency, own))
        else:
            benches.append(HubSpotBench(mapping, latency, unlimited=unlimited, token=own))
    urls = [await bench.start() for bench in benches]
    control = await _serve(control_app(benches))
    print(json.dumps({"url": urls[0], "urls": urls, "control": _url(control)}), flush=True)
    try:
        # serve until the benchmark closes our stdin
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await control.cleanup()
        for bench in benches:
            await bench.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("side", choices=SIDES)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--unlimited", action="store_true", help="no HubSpot rate limits")
    parser.add_argument("--environments", type=int, default=1, help="simulators of the side")
    parser.add_argument("--token", help="accept only this token (TOKEN-n with environments)")
    args = parser.parse_args()
    environments, token = args.environments, args.token
    asyncio.run(
        serve(
            args.side,
            args.latency,
            unlimited=args.unlimited,
            environments=environments,
            token=token,
        )
    )


if __name__ == "__main__":
    main()
