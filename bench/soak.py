"""Does a long-running ``syncd run`` stay flat? Its memory and open files over many cycles.

    .venv/bin/python bench/soak.py --lanes 20 --idle 20000 --changed 2000
    .venv/bin/python bench/soak.py --lanes 20 --idle 4000 --trace 60

Starts both simulators, each in a process of its own (bench/sims.py, HubSpot's rate
limits lifted: this counts memory, not requests), seeds ``--size`` customers per side and
writes a config of ``--lanes`` connections to them (one lane each: the ``customer``
entity; creates off, so that the connections, which share the simulators, never make
one company twice). Then runs ``syncd run`` on it as a process of its own, with a
1-second interval and no jitter, for ``--idle`` idle lane-cycles and then ``--changed``
lane-cycles with changes: a round of edits (``--fraction`` of the shared companies on
each side, through the simulators' control apps) per ``--lanes`` lane-cycles.

Lane-cycles are counted as the ``cycle_finished`` lines in the daemon's status log.
Every ``--every`` seconds the daemon's resident memory (VmRSS) and open file descriptors
are read from /proc; the table shows them, and the growth after ``--warm-up`` lane-cycles
as a least-squares slope per 1,000 lane-cycles.

With ``--trace SECONDS`` the daemon runs under tracemalloc instead (this file's
``--daemon`` mode, which calls syncd's own CLI in-process): every SECONDS it prints to
stderr the allocation sites that grew most since the first snapshot after warm-up.
Tracing slows the daemon and costs memory; its RSS figures are not the daemon's.
"""

from __future__ import annotations

import _sqlite3
import argparse
import collections
import ctypes
import gc
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lanes_watch import Finishes  # noqa: E402
from bench.perf import Sims  # noqa: E402

TOKENS = {"SOAK_AFAS_TOKEN": "soak", "SOAK_HUBSPOT_TOKEN": "soak"}


@dataclass(frozen=True)
class Sample:
    seconds: float
    cycles: int
    phase: str
    rss_mb: float
    fds: int


# --- the daemon's config ---------------------------------------------------------------------


def config_text(urls: dict[str, str], lanes: int, data_dir: Path, status_port: int) -> str:
    """A config of ``lanes`` connections to the two simulators, cycling every second."""
    head = f"""
data_dir = "{data_dir}"

[sync]
entities = ["customer"]
mappings = "{ROOT / "mappings"}"
create_in_crm = false
create_in_afas = false
overlap_seconds = 2

[daemon]
interval_seconds = 1
jitter_seconds = 0
shutdown_grace_seconds = 10

[status]
enabled = true
port = {status_port}
"""
    crm = (
        f'{{ kind = "hubspot", base_url = "{urls["hubspot"]}", token = "SOAK_HUBSPOT_TOKEN", '
        "search_settle_seconds = 1, requests_per_ten_seconds = 100000, "
        "search_per_second = 10000, daily_budget = 100000000 }"
    )
    afas = f'{{ kind = "afas", base_url = "{urls["afas"]}", token = "SOAK_AFAS_TOKEN" }}'
    tables = [f"\n[connections.lane{n}]\ncrm = {crm}\nafas = {afas}\n" for n in range(lanes)]
    return head + "".join(tables)


# --- watching the daemon ---------------------------------------------------------------------


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class CycleCounter:
    """Finished lane-cycles, read from the status log as it grows (and rotates)."""

    def __init__(self, log: Path) -> None:
        self.finishes = Finishes(log)

    def read(self) -> int:
        return self.finishes.count()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def scrape(port: int) -> None:
    """What a Prometheus server and an open status page ask for, now and then."""
    for path in ("/metrics", "/status"):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as answer:
            answer.read()


def start_daemon(config: Path, trace: float, warm_up: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, **TOKENS}
    if trace:
        command = [sys.executable, __file__, "--daemon", str(config), "--trace", str(trace)]
        command += ["--warm-up", str(warm_up)]
        return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    syncd = Path(sys.executable).parent / "syncd"
    command = [str(syncd), "run", "--config", str(config), "--log-format", "json"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def soak(args: argparse.Namespace, sims: Sims, workdir: Path) -> list[Sample]:
    config = workdir / "config.toml"
    status = free_port()
    config.write_text(config_text(sims.urls, args.lanes, workdir / "data", status))
    daemon = start_daemon(config, args.trace, args.warm_up)
    counter = CycleCounter(workdir / "data" / "status.log")
    samples: list[Sample] = []
    started = time.monotonic()
    rounds = 0
    try:
        while (cycles := counter.read()) < args.idle + args.changed:
            if daemon.poll() is not None:
                raise SystemExit(f"syncd run exited with {daemon.returncode}")
            phase = "idle" if cycles < args.idle else "changes"
            if phase == "changes" and cycles >= args.idle + rounds * args.lanes:
                rounds += 1
                sims.call("POST", "/change", {"fraction": args.fraction, "round": rounds})
            if not samples or time.monotonic() - started >= samples[-1].seconds + args.every:
                sample = Sample(
                    time.monotonic() - started,
                    cycles,
                    phase,
                    resident_mb(daemon.pid),
                    open_fds(daemon.pid),
                )
                samples.append(sample)
                print(_row(sample), flush=True)
                if cycles:  # the status server is up
                    scrape(status)
            time.sleep(0.2)
        samples.append(
            Sample(
                time.monotonic() - started,
                counter.read(),
                "end",
                resident_mb(daemon.pid),
                open_fds(daemon.pid),
            )
        )
        print(_row(samples[-1]), flush=True)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
    return samples


# --- the report --------------------------------------------------------------------------------


def _row(s: Sample) -> str:
    return f"| {s.seconds:7.0f} | {s.cycles:7,} | {s.phase:7} | {s.rss_mb:7.1f} | {s.fds:4} |"


def growth(samples: list[Sample], warm_up: int, value: str) -> float:
    """Least-squares slope of ``value`` per 1,000 lane-cycles after warm-up."""
    after = [s for s in samples if s.cycles >= warm_up]
    if len(after) < 2 or len({s.cycles for s in after}) < 2:
        return float("nan")
    xs = [s.cycles / 1000 for s in after]
    ys = [float(getattr(s, value)) for s in after]
    return statistics.linear_regression(xs, ys).slope


def report(samples: list[Sample], warm_up: int) -> None:
    after = [s for s in samples if s.cycles >= warm_up]
    if not after:
        print("no samples after warm-up")
        return
    first, last = after[0], after[-1]
    print(
        f"after {warm_up:,} lane-cycles of warm-up: RSS {first.rss_mb:.1f} -> "
        f"{last.rss_mb:.1f} MB (max {max(s.rss_mb for s in after):.1f}), "
        f"slope {growth(samples, warm_up, 'rss_mb'):+.3f} MB per 1,000 lane-cycles; "
        f"fds {first.fds} -> {last.fds}, "
        f"slope {growth(samples, warm_up, 'fds'):+.3f} per 1,000 lane-cycles"
    )


# --- --daemon: syncd run in this process, under tracemalloc --------------------------------------


def traced_daemon(config: Path, every: float, warm_up: int) -> int:
    from syncd.cli import main as syncd_main

    tracemalloc.start(1)  # one frame: slow enough already
    counter = CycleCounter(config.parent / "data" / "status.log")
    thread = threading.Thread(target=_print_growth, args=(counter, every, warm_up), daemon=True)
    thread.start()
    return syncd_main(["run", "--config", str(config), "--log-format", "json"])


def _print_growth(counter: CycleCounter, every: float, warm_up: int) -> None:
    """The allocation sites and the kinds of objects that grew since warm-up ended."""
    while counter.read() < warm_up:
        time.sleep(1)
    gc.collect()
    baseline, kinds, blocks = tracemalloc.take_snapshot(), _object_kinds(), _blocks()
    since = counter.read()
    ours = tracemalloc.Filter(False, tracemalloc.__file__)
    while True:
        time.sleep(every)
        gc.collect()
        snapshot = tracemalloc.take_snapshot().filter_traces([ours])
        cycles = counter.read() - since
        print(f"--- {cycles:,} lane-cycles after warm-up: grown most", file=sys.stderr)
        grown = [s for s in snapshot.compare_to(baseline, "lineno") if s.size_diff > 0]
        for stat in sorted(grown, key=lambda s: -s.size_diff)[:12]:
            size, where = stat.size_diff / 1024, stat.traceback.format()[0].strip()
            print(f"{size:+9.1f} KiB {stat.count_diff:+7}  {where}", file=sys.stderr)
        now = _object_kinds()
        more = sorted(((now[k] - kinds.get(k, 0), k) for k in now), reverse=True)[:8]
        # gc.get_objects() leaves out what a running cycle froze (engine/speed/gc_pause.py)
        print("unfrozen objects: " + ", ".join(f"{k} {n:+}" for n, k in more), file=sys.stderr)
        print(f"Python's memory blocks: {_blocks() - blocks:+,}", file=sys.stderr)
        print(f"SQLite's own memory: {_sqlite_bytes() / 2**20:.1f} MB", file=sys.stderr)
        print(f"SQLAlchemy's compiled statements: {_compiled_statements()}", file=sys.stderr)
        sys.stderr.flush()


def _sqlite_bytes() -> int:
    """What the SQLite library holds (page caches, statements): outside tracemalloc's view."""
    used = ctypes.CDLL(_sqlite3.__file__).sqlite3_memory_used
    used.restype = ctypes.c_int64
    return int(used())


def _blocks() -> int:
    """Blocks Python's small-object allocator holds: every object, frozen or not."""
    return sys.getallocatedblocks()


def _compiled_statements() -> int:
    from sqlalchemy.util import LRUCache

    return sum(len(o) for o in gc.get_objects() if isinstance(o, LRUCache))


def _object_kinds() -> collections.Counter[str]:
    return collections.Counter(type(o).__qualname__ for o in gc.get_objects())


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lanes", type=int, default=20, help="connections, one lane each")
    parser.add_argument("--size", type=int, default=200, help="customers per side")
    parser.add_argument("--idle", type=int, default=20_000, help="idle lane-cycles")
    parser.add_argument("--changed", type=int, default=2_000, help="lane-cycles with changes")
    parser.add_argument("--fraction", type=float, default=0.02, help="edited each round")
    parser.add_argument("--warm-up", type=int, default=2_000, help="lane-cycles not judged")
    parser.add_argument("--every", type=float, default=15.0, help="seconds between samples")
    parser.add_argument("--latency", type=float, default=0.0, help="simulators' latency")
    parser.add_argument("--trace", type=float, default=0.0, help="tracemalloc every N s")
    parser.add_argument("--daemon", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.daemon:
        raise SystemExit(traced_daemon(args.daemon, args.trace, args.warm_up))
    # stopped by a signal, the daemon and the simulators are stopped too (finally blocks)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    sims = Sims(args.latency, "--unlimited")
    try:
        sims.call("POST", "/seed", {"size": args.size})
        with tempfile.TemporaryDirectory(prefix="syncd-soak-") as workdir:
            print("| seconds | lane-cycles | phase | RSS MB | fds |")
            print("| ---: | ---: | --- | ---: | ---: |")
            samples = soak(args, sims, Path(workdir))
    finally:
        sims.close()
    report(samples, args.warm_up)


if __name__ == "__main__":
    main()
