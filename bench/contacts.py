"""Contacts' first sync and a cycle of changes against both simulators; prints the figures.

    .venv/bin/python bench/contacts.py [--companies 200,1000] [--latency 0.05]

Both simulators serve in this process, each request answered ``--latency`` seconds after
it arrives; the companies (with people on both sides, as the campaigns seed them:
tests/reliability/campaign/people.py) are synced first, then the contact cycles are
measured: requests per side (the HubSpot association reads apart: one a page of contacts
is the floor), wall time, CPU seconds, and the peak resident memory of the process (both
simulators included). Columns: docs/performance.md, "Contacts".
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the campaigns' world lives with the tests

from syncd.engine.cycle import Connection, run_cycle  # noqa: E402
from syncd.gateways.afas.client import AfasClient  # noqa: E402
from syncd.gateways.afas.gateway import AfasGateway  # noqa: E402
from syncd.gateways.hubspot.client import ClientSettings  # noqa: E402
from syncd.gateways.hubspot.gateway import HubSpotGateway  # noqa: E402
from syncd.mapping import KNOWN_ENTITIES, load_mappings  # noqa: E402
from syncd.policy import SyncRules  # noqa: E402
from syncd.records import Side  # noqa: E402
from syncd.state.store import open_store  # noqa: E402
from tests.reliability.campaign.fault_campaign import serving  # noqa: E402
from tests.reliability.campaign.people import CONTACT  # noqa: E402
from tests.reliability.campaign.world import World  # noqa: E402

HEADER = (
    "| cycle | companies | contacts HubSpot / AFAS | requests AFAS / HubSpot "
    "| of which association reads | contact pages listed | wall s | CPU s | peak MB |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", default="200,1000", help="sizes, comma-separated")
    parser.add_argument("--latency", type=float, default=0.05)
    return parser.parse_args()


async def _measure(size: int, latency: float, workdir: Path) -> list[str]:
    mappings = load_mappings(ROOT / "mappings", KNOWN_ENTITIES)
    world = World(mappings, size, seed=size)
    world.afas.latency = latency
    world.hubspot.configure(latency=latency)
    rows: list[str] = []
    async with serving(world) as (afas_url, hubspot_url):
        store = await open_store(f"sqlite:///{workdir / f'contacts-{size}.db'}")
        crm = HubSpotGateway(
            "bench",
            mappings,
            ClientSettings(base_url=hubspot_url, search_per_second=5.0),
            settle_seconds=0,
        )
        afas = AfasGateway(AfasClient(afas_url, token="bench"), mappings)
        conn = Connection("bench", {Side.CRM: crm, Side.AFAS: afas}, store, mappings, SyncRules())
        try:
            await crm.start()
            for entity in ("customer", "supplier"):
                await run_cycle(conn, entity)
            await asyncio.sleep(10.5)  # HubSpot's rate windows empty
            rows.append(await _cycle(world, conn, "first", size))
            await asyncio.sleep(10.5)
            await run_cycle(conn, CONTACT)  # the echo of the first's writes
            for side in Side:  # 1 % of the people edited on each side
                for _ in range(max(1, len(world.people) // 100)):
                    world.contact_edit(side)
            await asyncio.sleep(10.5)
            rows.append(await _cycle(world, conn, "1 % edited per side", size))
        finally:
            await crm.aclose()
            await afas.aclose()
            await store.close()
    return rows


async def _cycle(world: World, conn: Connection, name: str, size: int) -> str:
    afas_before, hubspot_before = Counter(world.afas.requests), Counter(world.hubspot.counts)
    cpu, wall = time.process_time(), time.monotonic()
    await run_cycle(conn, CONTACT)
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    afas = world.afas.requests - afas_before
    hubspot = world.hubspot.counts - hubspot_before
    associations = sum(n for k, n in hubspot.items() if k.startswith("associations POST batch/r"))
    listed = sum(
        n for k, n in hubspot.items() if k in ("contacts GET list", "contacts POST search")
    )
    contacts = (len(list(world.hubspot.contacts.live())), len(world.afas.rows(CONTACT)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (
        f"| {name} | {size:,} | {contacts[0]:,} / {contacts[1]:,} "
        f"| {sum(afas.values()):,} / {sum(hubspot.values()):,} | {associations:,} "
        f"| {listed:,} | {wall:.2f} | {cpu:.2f} | {peak:.0f} |"
    )


async def _main(args: argparse.Namespace) -> None:
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="syncd-contacts-") as workdir:
        for size in (int(s) for s in args.companies.split(",")):
            for row in await _measure(size, args.latency, Path(workdir)):
                print(row, flush=True)


if __name__ == "__main__":
    asyncio.run(_main(_arguments()))
