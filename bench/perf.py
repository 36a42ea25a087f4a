"""Requests, wall time, CPU and memory of syncd's cycles against both simulators.

    .venv/bin/python bench/perf.py --sizes 1000,10000 --latency 0.05

For each size N (customers per side) the simulators are started, each in a process of
its own (bench/sims.py), with the given latency on every request (a request is answered
that long after it arrives, or when its work is done if later) and HubSpot's documented
limits, seeded (90 % of each side's companies on both sides, one in 20 of those with
another phone number in HubSpot, 10 % on one side only, mixed through the listings; last
edited over the past year), and these cycles of the ``customer`` entity run through the
real gateways and ``run_cycle``:

initial   first cycle: list both sides, match, link, create the one-sided records
echo      the next cycle, which reads back the initial cycle's writes
idle      nothing changed (measured after one quiet cycle: the one right after the echo
          still reads the echo's own writes again, within the overlap window)
changed   1 % of the shared companies edited on each side (different ones)
sweep     full sweep (list both sides, compare everything)

Each cycle runs in a fresh worker process of its own, so its figures are its own: CPU
seconds are the worker's user + system time during the cycle (``resource.getrusage``),
peak MB is the worker's peak resident set (``ru_maxrss``, so it includes the
interpreter and syncd's imports, about 60-80 MB), requests are counted by the
simulators just before and after the cycle (so the HubSpot gateway's one read of the
portal's property definitions at start, as the daemon does it, is not in them). The
simulators' own CPU is not in the figures, but their time is in the wall time.
The cycles of changes (echo, idle, changed) are measured as a running daemon has them:
the worker first runs a dry-run cycle (it reads and plans, writes nothing; its requests
and work are not counted), so that the sessions are open and the state store's queries
compiled, then waits 10.5 s so that HubSpot's rate windows start empty. The first cycle
and the sweep are measured cold, from a fresh process, as a daemon just started has them.
The AFAS gateway pages with the largest page the 150,000-cell rule allows (below); its
default of 500 rows is a smaller, more cautious page (``--afas-page 500`` shows it).

Minimum requests are derived from the work the cycle did (records listed, ids read,
records written), with the documented sizes (/work/shared/reference/):

* AFAS (afas-api.md §3, §6.1): a GetConnector page holds at most 150,000 cells
  (columns x rows), so a page of the customer connector holds 150,000 // columns rows;
  listing n rows takes n // page + 1 pages (only a short page says "no more"). A read
  by key is one filtered GetConnector call per as many keys as fit in the 2,049-character
  query. UpdateConnectors take one record per request (no batch): one request per write,
  and what was stored is read back by key, batched like any read.
* HubSpot (hubspot-and-crm-apis.md §2.5, §2.7, §2.8): list pages hold 100 companies
  (n / 100 pages, the last one has no paging cursor), search pages 200 (n // 200 + 1);
  batch read, create and update take 100 inputs per request; the look-ups for records
  of the other role take 100 values per search (the gateway's IN-filter chunk; the
  reference does not document a limit there).

The rate-limit bound is the least wall time the limits allow for the requests sent:
HubSpot's 100 requests per 10 s (general) and 5 searches per second (§2.8, §2.10), so n
requests under k per window take (n - 1) // k windows and the last one's latency; AFAS
has no documented rate limit, only a fair-use concurrency of at most 5 at once (§6.1,
client advice: 5, hard maximum 8), so n requests take n / 5 rounds (rounded up) of one
latency each. The bound is the larger of the two sides'. syncd is given all of those
limits here: HubSpot's 100 requests per 10 s are the app's own, and the benchmark's portal
has no other app using its 5 searches a second (syncd's default, 4, leaves one to them).

The limits do not bind every cycle: a few changes cost a few requests, well inside
every limit, but some of them must follow one another. "In a row" is the least time of
those chains: a listing's pages follow one another (each page's cursor comes from the one
before); a side's writes wait, in a cycle of changes, for the other side's first page of
changes and the read of their partners, and in a first cycle for the side's own listing
whole (nothing there may match a create); then AFAS takes its records five at once and is
read back, and HubSpot's batches go at once. "wall / larger" is the wall time over the
larger of the two floors: 1.2 is the target.

The last line measures ``make_plan`` (reconcile + plan, pure, no I/O) for 100,000
linked pairs of which 1 % changed on one side, in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.counting import Counted, Work  # noqa: E402
from syncd.engine.actions import PairState  # noqa: E402
from syncd.engine.cycle import Connection, run_cycle  # noqa: E402
from syncd.engine.plan import PlanInput, make_plan  # noqa: E402
from syncd.gateways.afas.client import QUERY_LIMIT, AfasClient, Limits  # noqa: E402
from syncd.gateways.afas.gateway import AfasGateway  # noqa: E402
from syncd.gateways.hubspot.client import ClientSettings  # noqa: E402
from syncd.gateways.hubspot.gateway import HubSpotGateway  # noqa: E402
from syncd.mapping import EntityMapping, load_mappings  # noqa: E402
from syncd.policy import Direction, SyncRules  # noqa: E402
from syncd.records import Record, Side  # noqa: E402
from syncd.sim.companies import companies  # noqa: E402
from syncd.state.rows import Link  # noqa: E402
from syncd.state.store import open_store  # noqa: E402

ENTITY = "customer"
SCENARIOS = ("initial", "echo", "idle", "changed", "sweep")
WARM = ("echo", "idle", "changed")  # measured in a process that has run a cycle before
RATE_WINDOW = 10.5  # seconds: HubSpot's 100 requests per 10 s, and a margin
AFAS_CELLS = 150_000  # columns x rows per GetConnector page
AFAS_CONCURRENCY = 5
HUBSPOT_LIST_PAGE = 100
HUBSPOT_SEARCH_PAGE = 200
HUBSPOT_BATCH = 100
HUBSPOT_GENERAL = (100, 10.0)  # requests per window, window in seconds
HUBSPOT_SEARCHES = (5, 1.0)
SETTLE = 2.0  # seconds HubSpot's search may lag; the gateway waits this long
OVERLAP = timedelta(seconds=2)


# --- the worker: one cycle, in a process of its own ----------------------------------------


async def worker(args: argparse.Namespace) -> dict[str, Any]:
    mappings = {ENTITY: load_mappings(ROOT / "mappings", [ENTITY])[ENTITY]}
    afas = AfasGateway(
        AfasClient(args.afas, token="bench", limits=Limits(concurrency=AFAS_CONCURRENCY)),
        mappings,
        page_size=args.afas_page,
    )
    # The benchmark's portal has no other app searching, so syncd may take all five of
    # its searches a second (the default, 4, leaves one to the others).
    settings = ClientSettings(base_url=args.hubspot, search_per_second=HUBSPOT_SEARCHES[0])
    hubspot = HubSpotGateway("bench", mappings, settings, settle_seconds=SETTLE)
    gateways = {Side.AFAS: Counted(afas), Side.CRM: Counted(hubspot)}
    store = await open_store(args.state)
    conn = Connection("bench", gateways, store, mappings, SyncRules(), overlap=OVERLAP)
    try:
        await hubspot.start()  # as the daemon does once: the portal's property definitions
        if args.scenario in WARM:
            # A daemon that has run cycles before: its sessions open, its queries
            # compiled (a fresh process spends ~0.15 CPU s on that in its first cycle).
            await run_cycle(conn, ENTITY, dry_run=True)
            for gateway in gateways.values():
                gateway.work = Work()
            await asyncio.sleep(RATE_WINDOW)  # HubSpot's rate windows start empty again
        controls = args.control.split(",")
        sent_before = both(controls, "GET", "/counts")
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        report = await run_cycle(conn, ENTITY, full=args.scenario == "sweep")
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        sent_after = both(controls, "GET", "/counts")
    finally:
        await store.close()
        for gateway in (afas, hubspot):
            await gateway.aclose()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall": wall,
        "cpu": cpu,
        "peak_mb": after.ru_maxrss / 1024,  # Linux reports KiB
        "counts": dict(report.counts),
        "applied": report.applied,
        "work": {str(side): g.work.as_dict() for side, g in gateways.items()},
        "sent": {side: delta(sent_after[side], sent_before[side]) for side in ("afas", "hubspot")},
    }


def both(urls: list[str], method: str, path: str, body: object = None) -> dict[str, Any]:
    """A call to each simulator's control app (bench/sims.py), their answers in one."""
    answers: dict[str, Any] = {}
    for url in urls:
        answers.update(control(url, method, path, body))
    return answers


def control(url: str, method: str, path: str, body: object = None) -> Any:
    """A call to one of bench/sims.py's control apps."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=3600) as answer:
        return json.loads(answer.read())


# --- minimum requests and the rate-limit bound ---------------------------------------------


@dataclass(frozen=True)
class Sizes:
    afas_page: int
    afas_keys_per_read: int


def keys_per_read(key_length: int, key_field: str = "DebtorId") -> int:
    """How many keys of ``key_length`` characters one filtered GetConnector call can
    carry within the 2,049-character query (percent-encoded separators, 3 characters)."""
    fixed = len("?skip=0&take=00000&orderbyfieldids=") + len(key_field)
    fixed += len("&filterfieldids=&filtervalues=&operatortypes=")
    per_key = (len(key_field) + 3) + (key_length + 3) + (1 + 3)
    return (QUERY_LIMIT - fixed) // per_key


def listing_pages(work: dict[str, dict[str, Any]], sizes: Sizes) -> dict[str, int]:
    """The pages each side's listings and change searches took at the least."""
    afas, crm = work["afas"], work["crm"]
    return {
        "afas": _pages(afas["listed"], sizes.afas_page, afas["listings"])
        + _pages(afas["searched"], sizes.afas_page, afas["searches"]),
        "crm": _cursor_pages(crm["listed"], HUBSPOT_LIST_PAGE, crm["listings"])
        + _pages(crm["searched"], HUBSPOT_SEARCH_PAGE, crm["searches"]),
    }


def minimum(work: dict[str, dict[str, Any]], sizes: Sizes) -> dict[str, int]:
    afas, crm = work["afas"], work["crm"]
    pages = listing_pages(work, sizes)
    afas_writes = afas["created"] + afas["updated"]
    afas_min = (
        pages["afas"]
        + math.ceil((afas["read"] + afas_writes) / sizes.afas_keys_per_read)
        + afas_writes
    )
    crm_min = (
        pages["crm"]
        + math.ceil(crm["read"] / HUBSPOT_BATCH)
        + math.ceil(crm["created"] / HUBSPOT_BATCH)
        + math.ceil(crm["updated"] / HUBSPOT_BATCH)
        + sum(math.ceil(n / HUBSPOT_BATCH) for n in crm["lookups"])  # IN filters of 100
    )
    return {"afas": afas_min, "crm": crm_min}


def _pages(rows: int, page: int, listings: int) -> int:
    """Pages for ``listings`` listings of ``rows`` rows in all (each ends on a short page)."""
    return rows // page + listings if listings else 0


def _cursor_pages(rows: int, page: int, listings: int) -> int:
    """Pages of a list whose last page says "no more" itself (HubSpot's paging cursor)."""
    return max(math.ceil(rows / page), listings)


def in_a_row(scenario: str, work: dict[str, dict[str, Any]], sizes: Sizes, latency: float) -> float:
    """The least time of the requests that must follow one another for this work.

    A listing's pages follow one another (each page's cursor comes from the one before).
    A side's writes wait: in a cycle of changes, for the other side's first page of
    changes and then the read of their partners; in a first cycle, for the side's own
    listing whole (nothing there may match). Then AFAS takes its records five at once
    and is read back once more; HubSpot's batches go at once.
    """
    afas, crm = work["afas"], work["crm"]
    pages = listing_pages(work, sizes)
    afas_pages, crm_pages = pages["afas"], pages["crm"]
    afas_writes = afas["created"] + afas["updated"]
    crm_writes = crm["created"] + crm["updated"]
    first = scenario == "initial"
    afas_lead = afas_pages if first else 2
    crm_lead = crm_pages if first else 2
    afas_chain = afas_lead + math.ceil(afas_writes / AFAS_CONCURRENCY) + 1 if afas_writes else 0
    crm_chain = crm_lead + 1 if crm_writes else 0
    return max(afas_pages, crm_pages, afas_chain, crm_chain) * latency


def bound(afas_requests: int, crm_counts: dict[str, int], latency: float) -> float:
    searches = sum(n for op, n in crm_counts.items() if op.endswith("search"))
    general = sum(crm_counts.values()) - searches
    hubspot = max(
        _windows(general, HUBSPOT_GENERAL, latency), _windows(searches, HUBSPOT_SEARCHES, latency)
    )
    return max(hubspot, math.ceil(afas_requests / AFAS_CONCURRENCY) * latency)


def _windows(requests: int, limit: tuple[int, float], latency: float) -> float:
    """The least time ``requests`` take under ``limit`` (so many per window): the last one
    goes out in window (requests - 1) // so many at the earliest, and takes its latency."""
    per_window, window = limit
    return (requests - 1) // per_window * window + latency if requests else 0.0


# --- the orchestrator --------------------------------------------------------------------------


class Sims:
    """bench/sims.py as two child processes: the AFAS and the HubSpot simulator."""

    def __init__(self, latency: float, *options: str) -> None:
        self.processes: list[subprocess.Popen[str]] = []
        self.urls: dict[str, str] = {}
        self.environments: dict[str, list[str]] = {}  # with --environments: each one's URL
        self.controls: list[str] = []
        sims = [sys.executable, str(ROOT / "bench" / "sims.py")]
        for side in ("afas", "hubspot"):
            process = subprocess.Popen(
                [*sims, side, "--latency", str(latency), *options],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            self.processes.append(process)
            assert process.stdout is not None
            started = json.loads(process.stdout.readline())
            self.urls[side] = started["url"]
            self.environments[side] = started["urls"]
            self.controls.append(started["control"])

    def call(self, method: str, path: str, body: object = None) -> dict[str, Any]:
        """The control call to both simulators, their answers in one."""
        return both(self.controls, method, path, body)

    def close(self) -> None:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.close()
        for process in self.processes:
            process.wait(timeout=60)


def run_worker(sims: Sims, scenario: str, state: str, afas_page: int) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        scenario,
        "--afas",
        sims.urls["afas"],
        "--hubspot",
        sims.urls["hubspot"],
        "--state",
        state,
        "--control",
        ",".join(sims.controls),
        "--afas-page",
        str(afas_page),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"worker {scenario} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: n - before.get(k, 0) for k, n in after.items() if n - before.get(k, 0)}


def measure_size(
    size: int, latency: float, afas_page: int | None, scenarios: list[str]
) -> Iterator[list[str]]:
    sims = Sims(latency)
    try:
        sims.call("POST", "/seed", {"size": size})
        columns = int(sims.call("GET", "/info")["afas_columns"])
        page = afas_page or AFAS_CELLS // columns
        sizes = Sizes(page, keys_per_read(len(str(10_000 + 2 * size))))
        with tempfile.TemporaryDirectory() as directory:
            state = f"sqlite:///{directory}/syncd.db"
            for scenario in (s for s in SCENARIOS if s in scenarios):
                if scenario == "changed":
                    sims.call("POST", "/change", {"fraction": 0.01})
                time.sleep(SETTLE + OVERLAP.total_seconds() + 0.5)  # edits become visible
                if scenario == "idle":  # the quiet cycle that closes the overlap window
                    run_worker(sims, scenario, state, page)
                    time.sleep(SETTLE + OVERLAP.total_seconds() + 0.5)
                result = run_worker(sims, scenario, state, page)
                _log(scenario, result)
                yield _row(scenario, size, latency, sizes, result)
    finally:
        sims.close()


def _row(
    scenario: str,
    size: int,
    latency: float,
    sizes: Sizes,
    result: dict[str, Any],
) -> list[str]:
    afas, crm = result["sent"]["afas"], result["sent"]["hubspot"]
    least = minimum(result["work"], sizes)
    afas_sent, crm_sent = sum(afas.values()), sum(crm.values())
    limit = bound(afas_sent, crm, latency)
    chain = in_a_row(scenario, result["work"], sizes, latency)
    return [
        scenario,
        f"{size:,}",
        f"{afas_sent:,} / {crm_sent:,}",
        f"{least['afas']:,} / {least['crm']:,}",
        f"{_ratio(afas_sent, least['afas'])} / {_ratio(crm_sent, least['crm'])}",
        f"{result['wall']:.2f}",
        f"{limit:.1f}",
        f"{chain:.2f}",
        f"{result['wall'] / max(limit, chain):.2f}",
        f"{result['cpu']:.2f}",
        f"{result['peak_mb']:.0f}",
    ]


def _log(scenario: str, result: dict[str, Any]) -> None:
    """What the cycle did and which requests it sent, on stderr (the table is on stdout)."""
    print(f"{scenario}: {json.dumps(result['counts'])}", file=sys.stderr)
    print(f"  work {json.dumps(result['work'])}", file=sys.stderr)
    print(f"  sent {json.dumps(result['sent'])}", file=sys.stderr)


def _ratio(sent: int, least: int) -> str:
    return f"{sent / least:.2f}" if least else ("-" if not sent else "inf")


def plan_cpu(count: int = 100_000, changed: float = 0.01) -> tuple[float, int]:
    """CPU seconds of make_plan for ``count`` linked pairs, ``changed`` of them edited."""
    mapping: EntityMapping = load_mappings(ROOT / "mappings", [ENTITY])[ENTITY]
    step = round(1 / changed)
    now = datetime.now(UTC)
    pairs = []
    for n, company in enumerate(companies(count, seed=3)):
        # a matched pair's base: every field but those set on create only
        base = {
            f.name: company.fields.get(f.name)
            for f in mapping.fields
            if f.direction is not Direction.ON_CREATE
        }
        crm_fields = {**base, "city": "Giethoorn"} if n % step == 0 else base
        link = Link("bench", ENTITY, str(n), str(10_000 + n), base=base, id=n + 1)
        pairs.append(
            PairState(
                link,
                Record(str(n), crm_fields, now, str(10_000 + n)),
                Record(str(10_000 + n), base, now, str(n)),
            )
        )
    started = time.process_time()
    plan = make_plan(PlanInput(ENTITY, mapping, SyncRules(), pairs, [], {}, link_count=count))
    return time.process_time() - started, len(plan.actions)


def machine_speed(additions: int = 5_000_000, tries: int = 3) -> float:
    """CPU seconds of a plain Python loop (best of ``tries``): how fast this machine runs
    Python right now. A shared machine's speed drifts, and every figure that waits on
    syncd's CPU drifts with it; printed before and after, it tells two runs apart."""
    best = float("inf")
    for _ in range(tries):
        started, total = time.process_time(), 0
        for n in range(additions):
            total += n
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--afas-page", type=int, default=None, help="default: 150,000 cells")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help="which cycles to run, in their order (each needs the ones before it to mean "
        "what it says; initial alone is the first sync)",
    )
    parser.add_argument("--worker", choices=SCENARIOS, dest="scenario")
    parser.add_argument("--afas")
    parser.add_argument("--hubspot")
    parser.add_argument("--state")
    parser.add_argument("--control")
    args = parser.parse_args()
    if args.scenario:
        print(json.dumps(asyncio.run(worker(args))))
        return
    header = [
        "scenario",
        "per side",
        "requests AFAS / HubSpot",
        "minimum AFAS / HubSpot",
        "ratio",
        "wall s",
        "rate-limit bound s",
        "in a row s",
        "wall / larger",
        "CPU s",
        "peak MB",
    ]
    speed = f"{machine_speed():.2f} CPU s for 5 million additions in a Python loop"
    print(f"latency {args.latency * 1000:.0f} ms per request; this machine: {speed}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(" --- " for _ in header) + "|")
    for size in (int(s) for s in args.sizes.split(",")):
        for row in measure_size(size, args.latency, args.afas_page, args.scenarios.split(",")):
            print("| " + " | ".join(row) + " |", flush=True)
    seconds, actions = plan_cpu()
    print(
        f"\nreconcile + plan, 100,000 linked, 1 % changed: {seconds:.2f} CPU s "
        f"({actions:,} actions planned)"
    )
    print(f"this machine at the end: {machine_speed():.2f} CPU s for the same additions")


if __name__ == "__main__":
    main()
