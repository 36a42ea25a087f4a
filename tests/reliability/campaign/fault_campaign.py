"""The fault campaign: syncd's cycles against both simulators, with faults on both sides.

In one process, for speed: the simulators serve on loopback, the real AFAS and HubSpot
gateways talk HTTP to them, and ``run_cycle`` runs customers then suppliers, round after
round. Before each round users edit and create companies; during it, faults drawn from
the run's seed fire on both sides (see :mod:`tests.reliability.campaign.faults`), and users edit
records in the middle of syncd's listings. A cycle that fails is simply run again next
round, as the daemon would. Then the faults stop and cycles run until one round writes
nothing, and the invariants are checked.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from syncd.connections import Startable
from syncd.engine.cycle import Connection, CycleReport, run_cycle
from syncd.errors import SyncdError
from syncd.gateways.afas.client import AfasClient, Limits, RetryPolicy
from syncd.gateways.afas.gateway import AfasGateway
from syncd.gateways.base import Gateway
from syncd.gateways.hubspot.client import ClientSettings
from syncd.gateways.hubspot.gateway import HubSpotGateway
from syncd.mapping import EntityMapping
from syncd.policy import SyncRules
from syncd.records import Side
from syncd.state.store import StateStore, open_store
from tests.reliability.campaign.contact_checks import contact_duplicates, contact_problems
from tests.reliability.campaign.faults import HELD, HELD_FOR, TIMEOUT, arm, disarm
from tests.reliability.campaign.figures import Figures, RunResult
from tests.reliability.campaign.first_links import first_links
from tests.reliability.campaign.people import CONTACT
from tests.reliability.campaign.world import (
    ENTITIES,
    PROFIT_LIMIT,
    World,
    disagreements,
    duplicates,
    lost_edits,
)

CONNECTION = "campaign"
QUIET = frozenset({"conflicts"})  # counted every cycle while open; not a write


@dataclass(frozen=True)
class FaultCampaign:
    """The size of a fault campaign."""

    runs: int = 3
    companies: int = 24
    rounds: int = 5
    edits_per_round: int = 6
    creates_per_round: int = 1
    faults_per_round: int = 4
    page_edits_per_round: int = 1
    converge_limit: int = 6  # fault-free rounds allowed before a run counts as stuck
    first_seed: int = 1


async def run_fault_campaign(
    campaign: FaultCampaign, mappings: Mapping[str, EntityMapping], workdir: Path
) -> Figures:
    figures = Figures("fault campaign")
    for seed in range(campaign.first_seed, campaign.first_seed + campaign.runs):
        figures.runs.append(await fault_run(campaign, mappings, workdir, seed))
    return figures


async def fault_run(
    campaign: FaultCampaign, mappings: Mapping[str, EntityMapping], workdir: Path, seed: int
) -> RunResult:
    started = time.monotonic()
    result = RunResult(seed)
    world = World(mappings, campaign.companies, seed)
    rng = random.Random(seed * 7_368_787)
    async with serving(world) as (afas_url, hubspot_url):
        store = await open_store(f"sqlite:///{workdir / f'fault-{seed}.db'}")
        gateways = _gateways(mappings, afas_url, hubspot_url)
        conn = Connection(CONNECTION, gateways, store, mappings, SyncRules())
        try:
            for gateway in gateways.values():
                if isinstance(gateway, Startable):
                    await gateway.start()  # HubSpot: reads the property definitions
            for number in range(campaign.rounds):
                if number:
                    world.users(campaign.edits_per_round, campaign.creates_per_round)
                armed = arm(world, rng, campaign.faults_per_round, campaign.page_edits_per_round)
                for entity in world.entities:
                    result.cycles += 1
                    if await _cycle(conn, entity, result) is None:
                        result.failed_cycles += 1
                fired = disarm(world, armed)
                result.faults.update(fired)
                if HELD & set(fired):
                    # users edit when no write of syncd's is in flight: one that lands
                    # after a user's edit of the same field overwrites it in the system
                    # itself, which no client can prevent
                    await asyncio.sleep(HELD_FOR)
            await converge(conn, world.entities, result, campaign.converge_limit)
            await check(world, store, result)
        finally:
            for gateway in gateways.values():
                await gateway.aclose()
            await store.close()
    result.operations = world.operations
    result.seconds = time.monotonic() - started
    return result


async def converge(
    conn: Connection, entities: Sequence[str], result: RunResult, limit: int
) -> None:
    """Fault-free rounds of cycles until one writes nothing (at most ``limit``).

    It starts once writes still in flight have landed or are given up for lost (the
    sides' ``outcome_window``). Records quarantined by an injected refusal wait minutes
    for their next attempt; the campaign does not wait: it makes them due now, as that
    time passing would.
    """
    windows = [getattr(g, "outcome_window", timedelta(0)) for g in conn.gateways.values()]
    await asyncio.sleep(max(windows).total_seconds())
    started = time.monotonic()
    await retry_quarantined(conn)
    for number in range(1, limit + 1):
        reports = [await _cycle(conn, entity, result) for entity in entities]
        if all(r is not None and not set(+r.counts) - QUIET for r in reports):
            result.converged_after = number
            break
    result.converge_seconds = time.monotonic() - started


async def retry_quarantined(conn: Connection) -> None:
    async with conn.store.transaction() as tx:
        for held in await conn.store.quarantined(conn.name):
            await tx.retry_now(conn.name, held.entity, held.side, held.record_id, conn.now())


async def check(world: World, store: StateStore, result: RunResult) -> None:
    snapshot = world.snapshot()
    conflicts = await store.conflicts(CONNECTION)
    links = [
        link
        for entity in world.entities
        for link in await store.get_links(CONNECTION, entity)
        if link.detached_at is None
    ]
    result.duplicates = duplicates(snapshot) + contact_duplicates(snapshot)
    firsts = await first_links(store, CONNECTION, snapshot, world.origins)
    result.lost = lost_edits(world.edits, snapshot, world.mappings, conflicts, links, firsts)
    result.disagreements = disagreements(snapshot, world.mappings, conflicts, links)
    if CONTACT in world.mappings:
        organisation_of = {
            number: relation.organisation
            for entity in ENTITIES
            for number, relation in world.afas.data.relations[entity].items()
        }
        result.contacts = contact_problems(
            snapshot, world.people, world.mappings[CONTACT], links, conflicts, organisation_of
        )
    result.open_conflicts = len(conflicts)
    result.quarantined = len(await store.quarantined(CONNECTION))


@asynccontextmanager
async def serving(world: World) -> AsyncIterator[tuple[str, str]]:
    """Both simulators on free loopback ports; yields their base URLs."""
    runner = web.AppRunner(world.afas.app(), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        afas_url = f"http://127.0.0.1:{runner.addresses[0][1]}/ProfitRestServices"
        hubspot_url = await world.hubspot.start()
        try:
            yield afas_url, hubspot_url
        finally:
            await world.hubspot.close()
    finally:
        await runner.cleanup()


async def _cycle(conn: Connection, entity: str, result: RunResult) -> CycleReport | None:
    """One cycle; None when it failed (as a daemon would, it is run again later)."""
    try:
        return await run_cycle(conn, entity)
    except SyncdError:
        return None
    except Exception as error:  # not syncd's error: a bug the campaign reports
        result.errors.append(f"{entity} cycle: {type(error).__name__}: {error}")
        return None


def _gateways(
    mappings: Mapping[str, EntityMapping], afas_url: str, hubspot_url: str
) -> dict[Side, Gateway]:
    """The real gateways, with short timeouts and waits (the simulators answer at once)."""
    afas = AfasClient(
        afas_url,
        token="campaign",
        limits=Limits(
            read_timeout=TIMEOUT,
            write_timeout=TIMEOUT,
            connect_timeout=TIMEOUT,
            server_timeout=PROFIT_LIMIT,
        ),
        retry=RetryPolicy(initial=0.02, maximum=0.2),
    )
    hubspot = ClientSettings(
        base_url=hubspot_url,
        timeout_seconds=TIMEOUT,
        backoff_scale=0.01,
        search_per_second=100.0,
        requests_per_ten_seconds=10_000.0,
    )
    return {
        Side.AFAS: AfasGateway(afas, mappings, page_size=10),
        Side.CRM: HubSpotGateway("campaign", mappings, hubspot, settle_seconds=0),
    }
