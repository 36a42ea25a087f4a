"""Latency: the time from a user's edit to its value on the other side, as ``syncd run``
brings it; prints p50/p95/max per run and the requests per side per minute while idle
(docs/performance.md, "Latency").

    .venv/bin/python bench/latency.py [--edits 50] [--interval 10] [--search-lag 30,60]

Each run starts both simulators as ``syncd sim`` processes and ``syncd run`` as a third
process, the way an operator runs them, and talks to the simulators only through their
control APIs (``/_sim``), as users and an observer would: nothing here reads syncd's
state but the links, to know when the first sync is done. The same companies are seeded
on both sides, so the first sync links them and writes nothing.

Runs: ``hubspot->afas`` by polling alone, ``hubspot->afas`` with HubSpot's webhooks (the
simulator signs and sends them to syncd's receiver), ``afas->hubspot`` (AFAS is polled;
adaptive polling), ``afas->hubspot`` again while other companies are edited in
HubSpot between the AFAS edits, their webhook calls bringing hinted cycles, and
``hubspot->afas`` with hints pulled from HubSpot's Webhooks Journal every
``--journal-poll`` seconds instead (no inbound port). Before the
edits, syncd idles for ``--idle`` seconds and the requests each simulator counted
meanwhile are its idle cost. Then one company after another is edited (a new city),
``--spacing`` seconds apart, each company once, and the other side is read every
:data:`LOOK_EVERY` seconds until the new city is there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from syncd.mapping import EntityMapping, load_mappings
from syncd.records import Side
from syncd.sim.companies import companies
from syncd.sim.hubspot.app_tokens import SimApp
from syncd.state.store import open_store

ROOT = Path(__file__).resolve().parent.parent
ENTITY = "customer"
CONNECTION = "lat"
LOOK_EVERY = 0.25  # seconds between reads of the other side: the figures' resolution
SECRET = "latency-bench-client-secret"
APP = SimApp()  # what `syncd sim hubspot` installs
ENV = {
    "LAT_AFAS_TOKEN": "afas",
    "LAT_HUBSPOT_TOKEN": "hubspot",
    "LAT_SECRET": SECRET,
    "LAT_APP_SECRET": APP.client_secret,
}


@dataclass(frozen=True)
class Run:
    name: str
    edited: Side  # the side users edit; the latency is until the other side shows it
    webhooks: bool
    hubspot_busy: bool = False  # other companies edited in HubSpot too, between the edits
    journal: bool = False  # hints pulled from HubSpot's Webhooks Journal: no inbound port


RUNS = (
    Run("hubspot->afas, polling", Side.CRM, webhooks=False),
    Run("hubspot->afas, webhooks", Side.CRM, webhooks=True),
    Run("afas->hubspot, polling", Side.AFAS, webhooks=False),
    Run("afas->hubspot, polling, HubSpot webhooks coming", Side.AFAS, True, hubspot_busy=True),
    Run("hubspot->afas, journal", Side.CRM, webhooks=False, journal=True),
)


@dataclass(frozen=True)
class Settings:
    edits: int
    spacing: float
    interval: int
    idle: float
    search_lag: tuple[float, float]
    latency: float
    journal_poll: float


@dataclass(frozen=True)
class Outcome:
    run: Run
    latencies: list[float]
    missing: int  # edits not seen on the other side before the bench gave up
    idle_per_minute: dict[str, float]  # requests syncd sent each side per minute, idle


def summary(latencies: Sequence[float]) -> tuple[float, float, float]:
    """p50, p95 and max of ``latencies`` (p95 interpolated between the nearest two)."""
    ordered = sorted(latencies)
    if len(ordered) == 1:
        return ordered[0], ordered[0], ordered[0]
    p95 = statistics.quantiles(ordered, n=20, method="inclusive")[-1]
    return statistics.median(ordered), p95, ordered[-1]


def per_minute(before: Mapping[str, int], after: Mapping[str, int], seconds: float) -> float:
    """Requests counted between two snapshots of a simulator's counts, per minute."""
    return (sum(after.values()) - sum(before.values())) * 60 / seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Sims:
    """Both simulators, each a ``syncd sim`` process, reached through their control APIs."""

    def __init__(self, session: aiohttp.ClientSession, mapping: EntityMapping) -> None:
        self.session = session
        self.mapping = mapping
        self.afas = f"http://127.0.0.1:{free_port()}"
        self.hubspot = f"http://127.0.0.1:{free_port()}"
        self.city = {Side.AFAS: mapping.native_name(Side.AFAS, "city"), Side.CRM: "city"}

    async def configure(self, settings: Settings) -> None:
        low, high = settings.search_lag
        await self._send("POST", f"{self.afas}/_sim/latency", {"seconds": settings.latency})
        lag = {"latency": settings.latency, "search_lag": low, "search_jitter": high - low}
        await self._send("PATCH", f"{self.hubspot}/_sim/config", lag)

    async def seed(self, count: int) -> list[tuple[str, str]]:
        """``count`` companies on both sides, alike: (HubSpot id, AFAS number) each."""
        afas_rows, hubspot_items = [], []
        role = self.mapping.crm.options
        for company in companies(count, seed=24):
            afas_rows.append(self.mapping.to_native(Side.AFAS, dict(company.fields)))
            native = self.mapping.to_native(Side.CRM, dict(company.fields))
            properties = {k: None if v is None else str(v) for k, v in native.items()}
            properties[role["role_property"]] = role["role_value"]
            hubspot_items.append({"properties": properties})
        numbers = await self._send("POST", f"{self.afas}/_sim/seed", {ENTITY: afas_rows})
        ids = await self._send(
            "POST", f"{self.hubspot}/_sim/companies", {"companies": hubspot_items}
        )
        return list(zip(ids["ids"], numbers[ENTITY], strict=True))

    async def subscribe(self, receiver: str) -> None:
        body = {"target_url": receiver, "client_secret": SECRET}
        await self._send("PUT", f"{self.hubspot}/_sim/webhooks", body)

    async def edit(self, side: Side, record_id: str, city: str) -> None:
        if side is Side.AFAS:
            body = {"entity": ENTITY, "id": record_id, "fields": {self.city[side]: city}}
            await self._send("POST", f"{self.afas}/_sim/edit", body)
        else:
            url = f"{self.hubspot}/_sim/companies/{record_id}"
            await self._send("PATCH", url, {"properties": {self.city[side]: city}})

    async def cities(self, side: Side, ids: Sequence[str]) -> dict[str, object]:
        """The city each of ``ids`` has on ``side`` now."""
        if side is Side.AFAS:
            rows = await self._send("GET", f"{self.afas}/_sim/rows/{ENTITY}")
            key = self.mapping.afas.id
            return {str(row[key]): row.get(self.city[side]) for row in rows}
        found = await asyncio.gather(
            *(self._send("GET", f"{self.hubspot}/_sim/companies/{i}") for i in ids)
        )
        return {i: company["properties"].get("city") for i, company in zip(ids, found, strict=True)}

    async def counts(self) -> dict[str, dict[str, int]]:
        """The API requests each simulator counted (control calls are not counted)."""
        afas = await self._send("GET", f"{self.afas}/_sim/stats")
        hubspot = await self._send("GET", f"{self.hubspot}/_sim/requests")
        return {"afas": afas["requests"], "hubspot": hubspot}

    async def _send(self, method: str, url: str, body: object = None) -> Any:
        async with self.session.request(method, url, json=body) as reply:
            reply.raise_for_status()
            return None if reply.status == 204 else await reply.json()


def config(
    directory: Path, sims: Sims, settings: Settings, receiver_port: int | None, journal: bool
) -> Path:
    webhooks = journal_table = ""
    if receiver_port is not None:
        webhooks = f"""
[connections.{CONNECTION}.webhooks]
public_url = "http://127.0.0.1:{receiver_port}/hubspot/webhooks/{CONNECTION}"
client_secret_env = "LAT_SECRET"
[webhooks]
port = {receiver_port}
"""
    if journal:  # the standalone simulator's installed app, with its default credentials
        journal_table = f"""
[connections.{CONNECTION}.journal]
poll_seconds = {settings.journal_poll}
client_id = "{APP.client_id}"
client_secret_env = "LAT_APP_SECRET"
"""
    path = directory / "config.toml"
    path.write_text(
        f"""data_dir = "data"
[sync]
entities = ["{ENTITY}"]
mappings = "{ROOT / "mappings"}"
[daemon]
interval_seconds = {settings.interval}
jitter_seconds = 0
[status]
enabled = false
[connections.{CONNECTION}]
afas = {{ kind = "afas", base_url = "{sims.afas}/ProfitRestServices", token = "LAT_AFAS_TOKEN" }}
crm = {{ kind = "hubspot", base_url = "{sims.hubspot}", token = "LAT_HUBSPOT_TOKEN", \
portal_id = {APP.portal_id} }}
{webhooks}{journal_table}""",
        encoding="utf-8",
    )
    return path


@contextlib.asynccontextmanager
async def process(log: Path, *args: str) -> AsyncIterator[None]:
    """``python -m syncd.cli *args`` running, its output in ``log``; SIGTERM at the end."""
    with log.open("wb") as out:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "syncd.cli", *args,
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
            env={**os.environ, **ENV},
        )  # fmt: skip
        try:
            yield
        finally:
            child.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(child.wait(), 40)
            except TimeoutError:
                child.kill()
                await child.wait()


async def until(what: str, check: Any, seconds: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        with contextlib.suppress(aiohttp.ClientError, OSError):
            if await check():
                return
        if loop.time() > deadline:
            raise SystemExit(f"gave up waiting until {what}")
        await asyncio.sleep(0.2)


async def linked(directory: Path) -> int:
    store = await open_store(f"sqlite:///{directory}/data/syncd.db")
    try:
        return len(await store.get_links(CONNECTION, ENTITY))
    finally:
        await store.close()


async def idle_cost(sims: Sims, seconds: float) -> dict[str, float]:
    before = await sims.counts()
    await asyncio.sleep(seconds)
    after = await sims.counts()
    return {side: per_minute(before[side], after[side], seconds) for side in before}


async def edit_and_watch(
    sims: Sims, pairs: Sequence[tuple[str, str]], run: Run, settings: Settings, give_up: float
) -> tuple[list[float], int]:
    """Edit each pair's company on ``run.edited``, ``spacing`` apart; the seconds until the
    other side showed each edit, and how many it never showed within ``give_up``."""
    loop = asyncio.get_running_loop()
    other = Side.AFAS if run.edited is Side.CRM else Side.CRM
    waiting: dict[str, tuple[str, float]] = {}  # other side's id -> (new city, edited at)
    latencies: list[float] = []
    all_edited, all_seen = False, asyncio.Event()

    async def look() -> None:
        now = loop.time()
        cities = await sims.cities(other, list(waiting))
        for record_id, (city, edited_at) in list(waiting.items()):
            if cities.get(record_id) == city:
                latencies.append(now - edited_at)
                del waiting[record_id]

    async def watch() -> None:
        while True:
            await asyncio.sleep(LOOK_EVERY)
            if waiting:
                await look()
            if all_edited and not waiting:
                all_seen.set()

    watcher = asyncio.create_task(watch())
    try:
        for n, (crm_id, afas_id) in enumerate(pairs[: settings.edits]):
            edited, seen_on = (crm_id, afas_id) if run.edited is Side.CRM else (afas_id, crm_id)
            city = f"Latency {n}"
            waiting[seen_on] = (city, loop.time())
            await sims.edit(run.edited, edited, city)
            if run.hubspot_busy:  # its webhook calls bring hinted cycles between the polls
                await asyncio.sleep(settings.spacing / 2)
                await sims.edit(Side.CRM, pairs[settings.edits + n][0], f"Busy {n}")
                await asyncio.sleep(settings.spacing / 2)
            else:
                await asyncio.sleep(settings.spacing)
        all_edited = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_seen.wait(), give_up)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    return latencies, len(waiting)


async def measure(run: Run, settings: Settings, mapping: EntityMapping) -> Outcome:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        async with aiohttp.ClientSession() as session:
            sims = Sims(session, mapping)
            receiver_port = free_port() if run.webhooks else None
            path = config(directory, sims, settings, receiver_port, run.journal)
            afas_port, hubspot_port = sims.afas.rsplit(":", 1)[1], sims.hubspot.rsplit(":", 1)[1]
            async with (
                process(directory / "afas.log", "sim", "afas", "--port", afas_port),
                process(directory / "hubspot.log", "sim", "hubspot", "--port", hubspot_port),
            ):
                await until("the simulators answer", lambda: _answer(sims))
                await sims.configure(settings)
                pairs = await sims.seed(2 * settings.edits)
                async with process(directory / "syncd.log", "run", "--config", str(path)):
                    await until(
                        "the first sync linked every company",
                        lambda: _all_linked(directory, len(pairs)),
                        seconds=120,
                    )
                    if receiver_port is not None:
                        url = f"http://127.0.0.1:{receiver_port}/hubspot/webhooks/{CONNECTION}"
                        await sims.subscribe(url)
                    idle = await idle_cost(sims, settings.idle)
                    give_up = settings.search_lag[1] + 120 + 2 * settings.interval
                    latencies, missing = await edit_and_watch(sims, pairs, run, settings, give_up)
    return Outcome(run, latencies, missing, idle)


async def _answer(sims: Sims) -> bool:
    await sims.counts()
    return True


async def _all_linked(directory: Path, count: int) -> bool:
    return (directory / "data" / "syncd.db").exists() and await linked(directory) == count


def report(outcome: Outcome) -> str:
    idle = outcome.idle_per_minute
    p50, p95, most = summary(outcome.latencies) if outcome.latencies else (0.0, 0.0, 0.0)
    return (
        f"| {outcome.run.name} | {len(outcome.latencies)} | {outcome.missing} "
        f"| {p50:.1f} | {p95:.1f} | {most:.1f} | {idle['afas']:.1f} / {idle['hubspot']:.1f} |"
    )


HEADER = (
    "| run | edits seen | not seen | p50 s | p95 s | max s | idle requests/min AFAS / HubSpot |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edits", type=int, default=50, help="edits per run (default 50)")
    parser.add_argument("--spacing", type=float, default=2.0, help="seconds between edits")
    parser.add_argument("--interval", type=int, default=10, help="[daemon] interval_seconds")
    parser.add_argument("--idle", type=float, default=60, help="seconds idle before the edits")
    parser.add_argument("--search-lag", default="30,60", help="HubSpot's search lag, s: low,high")
    parser.add_argument("--latency", type=float, default=0.05, help="each request's least time")
    parser.add_argument("--journal-poll", type=float, default=2, help="journal poll_seconds")
    parser.add_argument("--runs", default="all", help="indexes of the runs, e.g. 0,2")
    args = parser.parse_args()
    low, high = (float(s) for s in args.search_lag.split(","))
    settings = Settings(
        args.edits,
        args.spacing,
        args.interval,
        args.idle,
        (low, high),
        args.latency,
        args.journal_poll,
    )
    mapping = load_mappings(ROOT / "mappings", [ENTITY])[ENTITY]
    chosen = RUNS if args.runs == "all" else [RUNS[int(i)] for i in args.runs.split(",")]
    print(json.dumps({"settings": settings.__dict__}, default=str), flush=True)
    print(HEADER, flush=True)
    for run in chosen:
        print(report(asyncio.run(measure(run, settings, mapping))), flush=True)


if __name__ == "__main__":
    main()
