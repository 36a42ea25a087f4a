"""Contacts' cycles against both simulators: requests per side against the minimum, time and
memory; prints a markdown table (its columns: docs/performance.md, "Contacts").

    .venv/bin/python bench/contacts.py [--companies 200,1000] [--latency 0.05]

Both simulators serve in this process, each request answered ``--latency`` seconds after
it arrives. They are seeded with companies and their people as the campaigns seed them
(tests/reliability/campaign/people.py: most companies on both sides, people on both
sides with the same work e-mail, some on one side, prospects' people who wait). The
companies are synced first; then the contact cycles are measured: the first sync, its
echo, an idle cycle (after one quiet cycle that closes the overlap window), and a cycle
after users edited 1 % of the people on each side.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the campaigns' world lives with the tests

from syncd.engine.cycle import Connection, CycleReport, run_cycle  # noqa: E402
from syncd.gateways.afas.client import AfasClient  # noqa: E402
from syncd.gateways.afas.gateway import AfasGateway  # noqa: E402
from syncd.gateways.base import Gateway  # noqa: E402
from syncd.gateways.hubspot.client import ClientSettings  # noqa: E402
from syncd.gateways.hubspot.gateway import HubSpotGateway  # noqa: E402
from syncd.mapping import KNOWN_ENTITIES, load_mappings  # noqa: E402
from syncd.policy import SyncRules  # noqa: E402
from syncd.records import Side  # noqa: E402
from syncd.state.store import open_store  # noqa: E402
from tests.reliability.campaign.fault_campaign import serving  # noqa: E402
from tests.reliability.campaign.people import CONTACT  # noqa: E402
from tests.reliability.campaign.world import World  # noqa: E402

AFAS_CELLS = 150_000  # columns x rows per GetConnector page
HUBSPOT_PAGE = 100  # a list page, a batch, and (as syncd reads them) association reads
HUBSPOT_SEARCH_PAGE = 200
RATE_WINDOW = 10.5  # seconds: HubSpot's 100 requests per 10 s, and a margin
OVERLAP = timedelta(seconds=2)
ORGANISATION_TABLES = ("syncd_debtors", "syncd_creditors")

HEADER = (
    "| cycle | companies | contacts HubSpot / AFAS | written AFAS / HubSpot "
    "| requests AFAS / HubSpot | minimum "
    "| AFAS organisation look-ups | HubSpot association reads / contact pages "
    "| wall s | CPU s | peak MB |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


@dataclass(frozen=True)
class Sent:
    """The requests of one cycle, by side and kind."""

    afas: Counter[str]
    hubspot: Counter[str]

    def afas_kind(self, *parts: str) -> int:
        return sum(n for k, n in self.afas.items() if all(p in k for p in parts))

    def hubspot_kind(self, *names: str) -> int:
        return sum(self.hubspot[name] for name in names)


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
    columns = len(world.afas.environment.connector_for(CONTACT).fields)
    page = AFAS_CELLS // columns
    rows: list[str] = []
    before: CycleReport | None = None
    async with serving(world) as (afas_url, hubspot_url):
        store = await open_store(f"sqlite:///{workdir / f'contacts-{size}.db'}")
        settings = ClientSettings(base_url=hubspot_url, search_per_second=5.0)
        crm = HubSpotGateway("bench", mappings, settings, settle_seconds=0)
        afas = AfasGateway(AfasClient(afas_url, token="bench"), mappings, page_size=page)
        gateways: dict[Side, Gateway] = {Side.CRM: crm, Side.AFAS: afas}
        conn = Connection("bench", gateways, store, mappings, SyncRules(), overlap=OVERLAP)
        try:
            await crm.start()
            await asyncio.sleep(_clocks_lead(world))
            for entity in ("customer", "supplier"):
                await run_cycle(conn, entity)
            for name in ("first", "echo", "idle", "1 % changed per side"):
                if name == "idle":  # the quiet cycle that closes the overlap window
                    await asyncio.sleep(OVERLAP.total_seconds() + 0.5)
                    await run_cycle(conn, CONTACT)
                edits = max(1, len(world.people) // 100) if name.startswith("1 %") else 0
                for side in Side:
                    for _ in range(edits):
                        world.contact_edit(side)
                await asyncio.sleep(RATE_WINDOW)  # HubSpot's rate windows start empty again
                row, before = await _cycle(world, conn, name, size, page, edits, before)
                rows.append(row)
        finally:
            await crm.aclose()
            await afas.aclose()
            await store.close()
    return rows


def _clocks_lead(world: World) -> float:
    """Seconds the simulators' clocks run ahead of this one. Each stamps a write at
    least a millisecond after the one before, so seeding thousands of records in less
    time puts them ahead; a record that seems newer than a cycle's start is not created
    on the other side in that cycle (its twin might not be visible yet), so the company
    cycles would leave a varying number of companies unlinked, and their contacts wait."""
    latest = max(world.afas.clock.tick(), world.hubspot.portal.now(), world.hubspot.contacts.now())
    return max(0.0, (latest - datetime.now(UTC)).total_seconds())


async def _cycle(
    world: World,
    conn: Connection,
    name: str,
    size: int,
    page: int,
    edits: int,
    before: CycleReport | None,
) -> tuple[str, CycleReport]:
    """The cycle ``name`` measured: its row of the table, and its report."""
    contacts = (len(list(world.hubspot.contacts.live())), len(world.afas.rows(CONTACT)))
    afas_before, hubspot_before = Counter(world.afas.requests), Counter(world.hubspot.counts)
    cpu, wall = time.process_time(), time.monotonic()
    report = await run_cycle(conn, CONTACT)
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    sent = Sent(world.afas.requests - afas_before, world.hubspot.counts - hubspot_before)
    pages = sent.hubspot_kind("contacts GET list", "contacts POST search")
    minimum = _minimum(name, report, before, contacts, page, edits)
    look_ups = sum(sent.afas_kind("GET", table) for table in ORGANISATION_TABLES)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = (
        f"| {name} | {size:,} | {contacts[0]:,} / {contacts[1]:,} "
        f"| {_written(report, 'afas'):,} / {_written(report, 'crm'):,} "
        f"| {sum(sent.afas.values()):,} / {sum(sent.hubspot.values()):,} "
        f"| {minimum[0]:,} / {minimum[1]:,} | {look_ups:,} "
        f"| {sent.hubspot_kind('associations POST batch/read'):,} / {pages:,} "
        f"| {wall:.2f} | {cpu:.2f} | {peak:.0f} |"
    )
    return row, report


def _minimum(
    name: str,
    report: CycleReport,
    before: CycleReport | None,
    contacts: tuple[int, int],
    page: int,
    edits: int,
) -> tuple[int, int]:
    """The fewest requests the APIs allow for the cycle's work, per side (AFAS, HubSpot).

    AFAS: its listing's pages (a cycle of changes: the changes' pages), the partners of
    HubSpot's changed contacts read by key, one UpdateConnector call per record created
    or changed. HubSpot: a first sync lists its contacts (100 a page) with each page's
    primary companies in one association read; a cycle of changes searches (200 rows a
    page), and as search rows are only hints, reads the changed contacts and the partners
    of AFAS's by id with their associations (100 a batch); the echo needs no read by id
    (nothing differs from the base), only each search page's associations. Writes go 100
    a batch (a create carries its association)."""
    counts = report.counts
    afas_writes = counts["created_afas"] + counts["updated_afas"]
    batches = _pages(counts["created_crm"], HUBSPOT_PAGE, 0)
    batches += _pages(counts["updated_crm"], HUBSPOT_PAGE, 0)
    if name == "first":
        crm_pages = _pages(contacts[0], HUBSPOT_PAGE)
        return _pages(contacts[1], page) + afas_writes, 2 * crm_pages + batches
    if name == "echo" and before is not None:
        afas_written = before.counts["created_afas"] + before.counts["updated_afas"]
        crm_written = before.counts["created_crm"] + before.counts["updated_crm"]
        return _pages(afas_written, page), 2 * _pages(crm_written, HUBSPOT_SEARCH_PAGE)
    reads = _pages(2 * edits, HUBSPOT_PAGE, 0)
    partners = 1 if edits else 0
    return 1 + partners + afas_writes, 1 + 2 * reads + batches


def _written(report: CycleReport, side: str) -> int:
    """Records the cycle created or updated on ``side`` ("afas" or "crm")."""
    return report.counts[f"created_{side}"] + report.counts[f"updated_{side}"]


def _pages(count: int, size: int, least: int = 1) -> int:
    return max(least, math.ceil(count / size))


async def _main(args: argparse.Namespace) -> None:
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="syncd-contacts-") as workdir:
        for size in (int(s) for s in args.companies.split(",")):
            for row in await _measure(size, args.latency, Path(workdir)):
                print(row, flush=True)


if __name__ == "__main__":
    asyncio.run(_main(_arguments()))
