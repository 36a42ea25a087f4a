"""What bench/many_lanes.py reads of running daemons: each lane's finished cycles and
quiet polls (both lane-cycles) from the status log, how late they came, and a process's
CPU time from /proc."""

from __future__ import annotations

import itertools
import json
import os
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

FINISHED = "cycle_finished"
QUIET = "poll_quiet"  # a poll that found nothing: no cycle events (engine/speed/quiet.py)
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system time of process ``pid`` so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / TICKS


class Finishes:
    """Each lane's finished cycles and quiet polls (epoch seconds), read from status logs
    as they grow; the quiet polls also on their own.

    Replicas each write a log of their own: every event of the shared store is in each
    (counted once, by its id), a quiet poll only in the log of the replica that polled.
    A log rotates at 10 MB (a first sync's events fill that in a minute): when the file
    is another one, the rest of the old one is read from ``status.log.1`` first. Read at
    least once per rotation (every second or so)."""

    def __init__(self, *logs: Path) -> None:
        self.tails = [_LogTail(log) for log in logs]
        self.seen: set[int] = set()
        self.by_lane: dict[str, list[float]] = defaultdict(list)
        self.quiet: dict[str, list[float]] = defaultdict(list)

    def read(self) -> Mapping[str, list[float]]:
        for tail in self.tails:
            for line in tail.new_lines():
                self._take(line)
        return self.by_lane

    def _take(self, line: str) -> None:
        quiet = f'"{QUIET}"' in line
        if not quiet and f'"{FINISHED}"' not in line:
            return
        event = json.loads(line)
        if not quiet:
            if event["id"] in self.seen:
                return
            self.seen.add(event["id"])
        lane = f"{event['connection']}/{event['entity']}"
        at = datetime.fromisoformat(event["at"]).timestamp()
        self.by_lane[lane].append(at)
        if quiet:
            self.quiet[lane].append(at)

    def count(
        self, lanes: Iterable[str] | None = None, since: float = 0.0, *, quiet: bool = False
    ) -> int:
        """Cycles finished (and quiet polls) after ``since`` by ``lanes`` (all by default);
        with ``quiet``, the quiet polls alone."""
        self.read()
        by_lane = self.quiet if quiet else self.by_lane
        chosen = by_lane if lanes is None else {lane: by_lane.get(lane, []) for lane in lanes}
        return sum(1 for times in chosen.values() for at in times if at > since)


@dataclass(frozen=True)
class Lateness:
    """How late the lanes' cycles came in a window, against the interval and jitter."""

    lanes: int
    gaps: int  # times between cycles looked at (a lane's last one to the window's end too)
    worst: float  # seconds beyond the allowed gap; negative: every cycle came in time
    p99: float
    late_lanes: int  # lanes with a gap beyond the allowed one

    def row(self) -> str:
        return (
            f"{self.lanes} lanes, {self.gaps} gaps: lateness max {self.worst:+.1f} s, "
            f"p99 {self.p99:+.1f} s, {self.late_lanes} lanes late"
        )


def lateness(
    finished: Mapping[str, Sequence[float]],
    lanes: Iterable[str],
    window: tuple[float, float],
    allowed: float,
) -> Lateness:
    """Each gap between a lane's finished cycles that ends in ``window``, and the one from
    its last cycle to the window's end (a starving lane finishes none), less ``allowed``:
    the seconds it came late. A lane with no cycle before the window's end counts from
    the window's start."""
    start, end = window
    overs: list[float] = []
    late: set[str] = set()
    chosen = list(lanes)
    for lane in chosen:
        times = sorted(t for t in finished.get(lane, ()) if t <= end)
        before = [t for t in times if t < start]
        points = [before[-1] if before else start, *(t for t in times if t >= start), end]
        for earlier, later in itertools.pairwise(points):
            over = later - earlier - allowed
            overs.append(over)
            if over > 0:
                late.add(lane)
    if not overs:
        return Lateness(len(chosen), 0, 0.0, 0.0, 0)
    ordered = sorted(overs)
    p99 = ordered[-1] if len(ordered) < 2 else statistics.quantiles(ordered, n=100)[-1]
    return Lateness(len(chosen), len(overs), ordered[-1], p99, len(late))


class _LogTail:
    """The lines added to one status log since the last look, across its rotations."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.inode = 0
        self.offset = 0
        self.partial = ""

    def new_lines(self) -> list[str]:
        if not self.log.exists():
            return []
        lines: list[str] = []
        inode = self.log.stat().st_ino
        if self.inode and inode != self.inode:
            lines += self._read_from(self.log.with_name(self.log.name + ".1"))
            self.offset, self.partial = 0, ""
        self.inode = inode
        return lines + self._read_from(self.log)

    def _read_from(self, path: Path) -> list[str]:
        with path.open() as file:
            file.seek(self.offset)
            text = self.partial + file.read()
            self.offset = file.tell()
        *lines, self.partial = text.split("\n")
        return lines
