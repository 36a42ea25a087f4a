"""What a campaign measured, summed over its runs, and the table it prints."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class RunResult:
    """One seeded run: what was done to the systems and what the checks found."""

    seed: int
    operations: int = 0  # user edits and creates made on either side
    cycles: int = 0  # cycles run while faults (or kills) were possible
    failed_cycles: int = 0  # cycles that ended in an error (and were simply run again)
    faults: Counter[str] = field(default_factory=Counter)  # fired, by kind
    duplicates: list[str] = field(default_factory=list)  # what was found twice, and where
    lost: list[str] = field(default_factory=list)  # edits on neither side
    disagreements: list[str] = field(default_factory=list)  # left after convergence
    contacts: list[str] = field(default_factory=list)  # contacts not linked once, or misplaced
    errors: list[str] = field(default_factory=list)  # crashes that are not syncd's errors
    converged_after: int | None = None  # fault-free cycles (per entity) until quiet
    converge_seconds: float = 0.0
    open_conflicts: int = 0
    quarantined: int = 0
    seconds: float = 0.0

    @property
    def converged(self) -> bool:
        return self.converged_after is not None and not self.disagreements and not self.contacts

    def problems(self) -> list[str]:
        """Every broken invariant, one line each (empty when the run is sound)."""
        found = [f"seed {self.seed}: duplicate: {d}" for d in self.duplicates]
        found += [f"seed {self.seed}: lost edit: {e}" for e in self.lost]
        found += [f"seed {self.seed}: not converged: {d}" for d in self.disagreements]
        found += [f"seed {self.seed}: contact: {c}" for c in self.contacts]
        found += [f"seed {self.seed}: error: {e}" for e in self.errors]
        if self.converged_after is None:
            found.append(f"seed {self.seed}: still writing after the convergence limit")
        return found


@dataclass
class Figures:
    """The sum of a campaign's runs."""

    name: str
    runs: list[RunResult] = field(default_factory=list)

    @property
    def faults(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for run in self.runs:
            total.update(run.faults)
        return total

    def problems(self) -> list[str]:
        return [p for run in self.runs for p in run.problems()]

    def rows(self) -> list[tuple[str, str]]:
        runs = self.runs
        settle = [r.converged_after for r in runs if r.converged_after is not None]
        seconds = [r.converge_seconds for r in runs]
        faults = self.faults
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(faults.items()))
        return [
            ("runs", str(len(runs))),
            ("operations (user edits and creates)", str(sum(r.operations for r in runs))),
            ("cycles under faults or kills", str(sum(r.cycles for r in runs))),
            ("cycles that failed and were retried", str(sum(r.failed_cycles for r in runs))),
            ("faults injected (fired)", str(sum(faults.values()))),
            ("faults by kind", kinds or "-"),
            ("duplicates", str(sum(len(r.duplicates) for r in runs))),
            ("lost edits", str(sum(len(r.lost) for r in runs))),
            ("contacts not linked once or misplaced", str(sum(len(r.contacts) for r in runs))),
            ("runs converged", f"{sum(r.converged for r in runs)} / {len(runs)}"),
            ("fault-free cycles per entity to converge (max)", str(max(settle)) if settle else "-"),
            ("seconds to converge (max; after writes in flight settled)", _max(seconds)),
            ("open conflicts at the end (manual rule)", str(sum(r.open_conflicts for r in runs))),
            ("records in quarantine at the end", str(sum(r.quarantined for r in runs))),
            ("wall time, seconds", f"{sum(r.seconds for r in runs):.0f}"),
        ]

    def table(self) -> str:
        """The figures as a markdown table."""
        lines = [f"| {self.name} | |", "| --- | ---: |"]
        lines += [f"| {label} | {value} |" for label, value in self.rows()]
        return "\n".join(lines)


def _max(values: list[float]) -> str:
    return f"{max(values):.1f}" if values else "-"
