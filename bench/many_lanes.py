"""Many lanes on one ``syncd run``: idle cost per lane-cycle and per connection, fairness
while one connection runs a big first sync, bad connections, and replicas.

    .venv/bin/python bench/many_lanes.py --connections 100 [--contacts] [--big 100000]
    .venv/bin/python bench/many_lanes.py --connections 100 --replicas

The AFAS and the HubSpot simulator each run in a process of their own (bench/sims.py)
serving ``--connections`` environments, each on a loopback port of its own with its own
token and its own ``--size`` customers: a connection per environment, as an integrator
runs one syncd for many AFAS environments (each its own URL and token) and HubSpot
portals (each its own token). Entities: customer and supplier, and contact with
``--contacts``. Every phase runs ``syncd run`` as a process of its own and reads it from
outside: lane-cycles and their times from the status log, CPU time, resident memory and
open descriptors from /proc.

Phases, in one run, on the same simulators:

baseline  one connection: the daemon's resident memory once its lanes idle
idle      all connections: after every lane finished ``--warm-up`` cycles, the CPU time
          per lane-cycle over ``--idle`` seconds, resident memory and descriptors; the
          memory per idle connection is (RSS at N - RSS at 1) / (N - 1)
bad       four more connections, added by a reload (SIGHUP): a wrong AFAS token, an AFAS
          refusing connections, one answering 503 after 5 s, one that never answers;
          the other lanes' lateness over ``--bad`` seconds
fair      the bad ones gone, one more connection to simulators of its own with ``--big``
          customers per side: the other lanes' lateness while its first sync runs (until
          it finishes, or ``--big-window`` seconds)

A lane's lateness: each time between two of its finished cycles (and from its last to the
end of the window) less ``interval_seconds + jitter_seconds``; positive is late.
With ``--replicas`` the same phases run again on two replicas sharing PostgreSQL (a
database of their own, dropped at the end), which divide the lanes by their leases.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lanes_watch import Finishes, Lateness, cpu_seconds, lateness  # noqa: E402
from bench.perf import Sims, control  # noqa: E402
from bench.soak import free_port, open_fds, resident_mb  # noqa: E402

TOKEN = "lanes"  # environment n accepts the token "lanes-n" (bench/sims.py --token)
BIG_TOKEN = "big"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
BAD = ("wrongtoken", "refused", "unavailable", "hanging")


@dataclass(frozen=True)
class Conn:
    """One connection of the config: where its sides are and their tokens."""

    name: str
    afas: str
    hubspot: str
    afas_token: str
    hubspot_token: str


@dataclass
class Figures:
    deployment: str
    connections: int
    lanes: int
    cpu_ms: float = 0.0
    idle_cycles: int = 0
    quiet_share: float = 0.0  # of the idle lane-cycles, the quiet polls
    rss_mb: list[float] | None = None
    rss_one_mb: float = 0.0
    fds: list[int] | None = None
    idle: Lateness | None = None
    bad: Lateness | None = None
    fair: Lateness | None = None
    big_first_sync: str = ""


# --- the config ------------------------------------------------------------------------------


def config_text(args: argparse.Namespace, conns: Sequence[Conn]) -> str:
    """The config of ``conns`` (each replica adds its own ``data_dir``)."""
    entities = ["customer", "supplier", *(["contact"] if args.contacts else [])]
    head = f"""
[sync]
entities = {entities!r}
mappings = "{ROOT / "mappings"}"
overlap_seconds = 2

[daemon]
interval_seconds = {args.interval}
jitter_seconds = {args.jitter}
shutdown_grace_seconds = 5

[status]
enabled = true
port = 0
"""
    tables = []
    for conn in conns:
        crm = (
            f'{{ kind = "hubspot", base_url = "{conn.hubspot}", token = "{conn.hubspot_token}", '
            "search_settle_seconds = 1, requests_per_ten_seconds = 100000, "
            "search_per_second = 10000, daily_budget = 100000000 }"
        )
        afas = f'{{ kind = "afas", base_url = "{conn.afas}", token = "{conn.afas_token}" }}'
        tables.append(f"\n[connections.{conn.name}]\ncrm = {crm}\nafas = {afas}\n")
    return head + "".join(tables)


class Farm:
    """The simulators of the many connections, and of the bad and the big ones."""

    def __init__(self, args: argparse.Namespace) -> None:
        count = args.connections + 2  # the wrong token's and the unavailable one's too
        options = ("--unlimited", "--environments", str(count), "--token", TOKEN)
        self.sims = Sims(args.latency, *options)
        self.sims.call("POST", "/seed", {"size": args.size})
        # the big connection's too: a reload adds it, and the daemon's environment is set
        self.tokens = {"BIG_AFAS": BIG_TOKEN, "BIG_HUBSPOT": BIG_TOKEN}
        self.good = [self._conn(f"lane{n}", n, f"{TOKEN}-{n}") for n in range(args.connections)]
        afas, _ = self._urls(args.connections + 1)
        _profit(afas, "/_sim/latency", {"seconds": 5})
        _profit(afas, "/_sim/faults", {"kind": "unavailable", "times": 10**9, "retry_after": 30})
        self.hanging = _Hanging()
        self.bad = [
            self._conn("wrongtoken", args.connections, "not-the-token"),
            self._conn("refused", 0, f"{TOKEN}-0", afas=f"http://127.0.0.1:{free_port()}/x"),
            self._conn("unavailable", args.connections + 1, f"{TOKEN}-{args.connections + 1}"),
            self._conn("hanging", 0, f"{TOKEN}-0", afas=self.hanging.url),
        ]
        self.big: Sims | None = None

    def _urls(self, n: int) -> tuple[str, str]:
        return self.sims.environments["afas"][n], self.sims.environments["hubspot"][n]

    def _conn(self, name: str, n: int, afas_token: str, afas: str = "") -> Conn:
        url, hubspot = self._urls(n)
        env = name.upper()
        self.tokens[f"{env}_AFAS"] = afas_token
        self.tokens[f"{env}_HUBSPOT"] = f"{TOKEN}-{n}"
        return Conn(name, afas or url, hubspot, f"{env}_AFAS", f"{env}_HUBSPOT")

    def start_big(self, args: argparse.Namespace) -> Conn:
        """Fresh simulators of their own for the big connection, seeded."""
        self.close_big()
        self.big = Sims(args.latency, "--unlimited", "--token", BIG_TOKEN)
        started = time.monotonic()
        self.big.call("POST", "/seed", {"size": args.big})
        print(f"seeded {args.big:,} customers per side in {time.monotonic() - started:.0f} s")
        return Conn(
            "big", self.big.urls["afas"], self.big.urls["hubspot"], "BIG_AFAS", "BIG_HUBSPOT"
        )

    def close_big(self) -> None:
        if self.big is not None:
            self.big.close()
            self.big = None

    def close(self) -> None:
        self.close_big()
        self.sims.close()
        self.hanging.close()


def _profit(afas_url: str, path: str, body: object) -> None:
    """A call to a simulated Profit's own control API (``/_sim`` beside its services)."""
    control(afas_url.rsplit("/", 1)[0], "POST", path, body)


class _Hanging:
    """A server that takes connections and never answers: an AFAS that hangs."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/ProfitRestServices"
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._hold, "127.0.0.1", port)
        )
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    async def _hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


# --- the daemons -----------------------------------------------------------------------------


class Deployment:
    """One ``syncd run`` process, or two replicas sharing PostgreSQL, on one config."""

    def __init__(
        self, workdir: Path, env: dict[str, str], replicas: int, state_url: str, profile: bool
    ) -> None:
        self.workdir = workdir
        self.env = env
        self.replicas = replicas
        self.state_url = state_url
        self.profile = profile
        self.processes: list[subprocess.Popen[bytes]] = []
        self.finishes = Finishes(*(workdir / f"data{n}" / "status.log" for n in range(replicas)))

    def write(self, args: argparse.Namespace, conns: Sequence[Conn]) -> None:
        """One config for every replica, each with a data_dir (its status log) of its own."""
        text = config_text(args, conns)
        for n in range(self.replicas):
            data = self.workdir / f"data{n}"
            data.mkdir(parents=True, exist_ok=True)
            (self.workdir / f"config{n}.toml").write_text(f'data_dir = "{data}"\n{text}')

    def start(self) -> None:
        syncd = Path(sys.executable).parent / "syncd"
        for n in range(self.replicas):
            config = self.workdir / f"config{n}.toml"
            env = {**os.environ, **self.env, "SYNCD_REPLICA": f"r{n}"}
            if self.state_url:
                env["SYNCD_STATE_URL"] = self.state_url
            command = [str(syncd), "run", "--config", str(config), "--log-format", "json"]
            if self.profile:  # cProfile writes its figures as the daemon stops
                out = str(self.workdir / f"syncd{n}.prof")
                command = [sys.executable, "-m", "cProfile", "-o", out, *command]
            log = (self.workdir / f"syncd{n}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    command,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )

    def reload(self, args: argparse.Namespace, conns: Sequence[Conn]) -> None:
        self.write(args, conns)
        for process in self.processes:
            process.send_signal(signal.SIGHUP)

    def check(self) -> None:
        for n, process in enumerate(self.processes):
            if process.poll() is not None:
                tail = (self.workdir / f"syncd{n}.log").read_text()[-3000:]
                raise SystemExit(f"syncd run {n} exited with {process.returncode}:\n{tail}")

    def cpu(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.processes)

    def rss(self) -> list[float]:
        return [resident_mb(p.pid) for p in self.processes]

    def fds(self) -> list[int]:
        return [open_fds(p.pid) for p in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()

    def wait_for(self, what: str, done: object, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not done():  # type: ignore[operator]
            self.check()
            self.finishes.read()  # each rotation of the log seen
            if time.monotonic() > deadline:
                raise SystemExit(f"gave up waiting until {what}")
            time.sleep(1)

    def warm(self, lanes: Sequence[str], cycles: int, seconds: float) -> None:
        def every_lane() -> bool:
            by_lane = self.finishes.read()
            return all(len(by_lane.get(lane, ())) >= cycles for lane in lanes)

        self.wait_for(f"every lane finished {cycles} cycles", every_lane, seconds)

        def every_lane_quiet() -> bool:
            return all(self.finishes.quiet.get(lane) for lane in lanes)

        # Idle lanes poll quietly once the overlap window after their last change is past.
        with contextlib.suppress(SystemExit):
            self.wait_for("every lane polled quietly", every_lane_quiet, 60)


def lanes_of(conns: Sequence[Conn], args: argparse.Namespace) -> list[str]:
    entities = ["customer", "supplier", *(["contact"] if args.contacts else [])]
    return [f"{c.name}/{e}" for c in conns for e in entities]


def window(
    deployment: Deployment, lanes: Sequence[str], seconds: float, args: argparse.Namespace
) -> Lateness:
    started = time.time()
    deployment.wait_for("the window's end", lambda: time.time() - started >= seconds, seconds + 60)
    ended = time.time()
    time.sleep(2)  # the log is written after each cycle: let the last ones in
    allowed = args.interval + args.jitter
    return lateness(deployment.finishes.read(), lanes, (started, ended), allowed)


# --- the phases ------------------------------------------------------------------------------


def baseline(args: argparse.Namespace, farm: Farm, workdir: Path) -> float:
    """The resident memory of a daemon with one connection, idle."""
    one = farm.good[:1]
    deployment = Deployment(workdir, farm.tokens, 1, "", profile=False)
    deployment.write(args, one)
    deployment.start()
    try:
        deployment.warm(lanes_of(one, args), args.warm_up, 600)
        time.sleep(args.interval)
        return deployment.rss()[0]
    finally:
        deployment.stop()


def run_deployment(
    args: argparse.Namespace, farm: Farm, workdir: Path, replicas: int, state_url: str
) -> Figures:
    good = farm.good
    lanes = lanes_of(good, args)
    figures = Figures(
        "one process" if replicas == 1 else f"{replicas} replicas", len(good), len(lanes)
    )
    every = [*good, *farm.bad]
    deployment = Deployment(workdir, farm.tokens, replicas, state_url, args.profile)
    deployment.write(args, good)
    deployment.start()
    try:
        deployment.warm(lanes, args.warm_up, args.warm_up * args.interval * 3 + 600)
        print(f"{figures.deployment}: every lane finished {args.warm_up} cycles", flush=True)
        since, cpu = time.time(), deployment.cpu()
        figures.idle = window(deployment, lanes, args.idle, args)
        figures.cpu_ms = (deployment.cpu() - cpu) * 1000
        figures.idle_cycles = deployment.finishes.count(lanes, since)
        figures.quiet_share = deployment.finishes.count(lanes, since, quiet=True) / max(
            1, figures.idle_cycles
        )
        figures.cpu_ms /= max(1, figures.idle_cycles)
        figures.rss_mb, figures.fds = deployment.rss(), deployment.fds()
        print(
            f"idle: {figures.cpu_ms:.1f} ms CPU per lane-cycle over {figures.idle_cycles} "
            f"lane-cycles ({figures.quiet_share:.0%} quiet polls); RSS {figures.rss_mb} MB; "
            f"fds {figures.fds}; {figures.idle.row()}",
            flush=True,
        )
        if args.bad:
            deployment.reload(args, every)
            figures.bad = window(deployment, lanes, args.bad, args)
            print(f"bad: {figures.bad.row()}", flush=True)
        if args.big:
            big = farm.start_big(args)
            deployment.reload(args, [*good, big])
            figures.fair, figures.big_first_sync = fairness(args, deployment, lanes)
            print(
                f"fair: {figures.fair.row()}; big first sync: {figures.big_first_sync}", flush=True
            )
    finally:
        deployment.stop()
    return figures


def fairness(
    args: argparse.Namespace, deployment: Deployment, lanes: Sequence[str]
) -> tuple[Lateness, str]:
    started = time.time()
    big = "big/customer"

    def big_done() -> bool:
        return (
            deployment.finishes.count([big], started) > 0 or time.time() - started > args.big_window
        )

    deployment.wait_for("the big first sync", big_done, args.big_window + 120)
    ended = time.time()
    time.sleep(2)
    allowed = args.interval + args.jitter
    done = deployment.finishes.count([big], started) > 0
    took = f"{ended - started:.0f} s" if done else f"not finished in {args.big_window:.0f} s"
    return lateness(deployment.finishes.read(), lanes, (started, ended), allowed), took


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for the replicas, dropped at the end."""
    name = f"syncd_lanes_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg(statement: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


HEADER = (
    "| deployment | connections | lanes | CPU ms / idle lane-cycle | quiet polls "
    "| MB / idle connection | RSS MB | fds | idle: late lanes, max, p99 s "
    "| bad: late lanes, max, p99 s | fair: late lanes, max, p99 s | big first sync |\n"
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |"
)


def report(figures: Sequence[Figures], args: argparse.Namespace) -> None:
    print(
        f"\ninterval {args.interval} s + jitter {args.jitter} s; {args.size} customers a side each"
    )
    print(HEADER)
    for f in figures:
        per = ""
        if f.rss_one_mb and f.rss_mb:
            per = f"{(f.rss_mb[0] - f.rss_one_mb) / max(1, f.connections - 1):.2f}"
        rss = " + ".join(f"{r:.0f}" for r in f.rss_mb or [])
        fds = " + ".join(map(str, f.fds or []))
        print(
            f"| {f.deployment} | {f.connections} | {f.lanes} | {f.cpu_ms:.1f} "
            f"| {f.quiet_share:.0%} | {per} | {rss} "
            f"| {fds} | {_late(f.idle)} | {_late(f.bad)} | {_late(f.fair)} | {f.big_first_sync} |"
        )


def _late(seen: Lateness | None) -> str:
    if seen is None:
        return "-"
    return f"{seen.late_lanes}, {seen.worst:+.1f}, {seen.p99:+.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--contacts", action="store_true", help="sync contacts too: 3 lanes each")
    parser.add_argument("--size", type=int, default=50, help="customers per side per connection")
    parser.add_argument("--interval", type=int, default=10, help="[daemon] interval_seconds")
    parser.add_argument("--jitter", type=int, default=2, help="[daemon] jitter_seconds")
    parser.add_argument("--latency", type=float, default=0.05, help="simulators' latency")
    parser.add_argument("--warm-up", type=int, default=3, help="cycles every lane finishes first")
    parser.add_argument("--idle", type=float, default=120, help="seconds measured idle")
    parser.add_argument(
        "--bad", type=float, default=60, help="seconds with bad connections; 0: none"
    )
    parser.add_argument(
        "--big", type=int, default=100_000, help="customers per side of the big first sync; 0: none"
    )
    parser.add_argument(
        "--big-window",
        type=float,
        default=600,
        help="seconds the big first sync is watched at most",
    )
    parser.add_argument("--replicas", action="store_true", help="two replicas on PostgreSQL too")
    parser.add_argument("--no-single", action="store_true", help="replicas only")
    parser.add_argument("--keep", type=Path, help="keep the configs and logs in this folder")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the measured daemons under cProfile (syncd<n>.prof, with --keep)",
    )
    args = parser.parse_args()
    farm = Farm(args)
    results: list[Figures] = []
    try:
        with tempfile.TemporaryDirectory(prefix="syncd-lanes-") as tmp:
            workdir = args.keep or Path(tmp)
            rss_one = baseline(args, farm, workdir / "one")
            print(f"baseline: one connection idle, RSS {rss_one:.1f} MB", flush=True)
            if not args.no_single:
                (workdir / "single").mkdir()
                figures = run_deployment(args, farm, workdir / "single", 1, "")
                figures.rss_one_mb = rss_one
                results.append(figures)
            if args.replicas:
                (workdir / "replicas").mkdir()
                with postgres_database() as url:
                    figures = run_deployment(args, farm, workdir / "replicas", 2, url)
                results.append(figures)
    finally:
        farm.close()
    report(results, args)


if __name__ == "__main__":
    main()
