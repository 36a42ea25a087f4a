"""How long the first-run match plan takes for N companies per side (default 100,000).

    .venv/bin/python bench/match.py [N]

Prints one table row: records per side, proposals, automatic links, seconds, and with
--memory the peak of traced memory (tracing slows the run down).
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

from syncd.engine.matchplan import propose
from syncd.mapping import load_mapping
from syncd.records import Record, Side
from syncd.sim.companies import companies


def main(count: int) -> None:
    mapping = load_mapping(Path(__file__).resolve().parent.parent / "mappings" / "customer.toml")
    if "--memory" in sys.argv:
        tracemalloc.start()
    made = [c.fields for c in companies(count, seed=5)]
    crm = [Record(f"9{n:09d}", fields) for n, fields in enumerate(made)]
    # AFAS holds the same companies; every third without KvK, VAT and IBAN.
    afas = [
        Record(
            str(10_000 + n), fields if n % 3 else {**fields, "kvk": None, "vat": None, "iban": None}
        )
        for n, fields in enumerate(made)
    ]
    started = time.perf_counter()
    plan = propose(
        {Side.CRM: crm, Side.AFAS: afas},
        {Side.CRM: frozenset(), Side.AFAS: frozenset()},
        mapping.match_keys,
        mapping.review_keys,
    )
    seconds = time.perf_counter() - started
    peak_mb = (
        f"{tracemalloc.get_traced_memory()[1] / 2**20:.0f}" if tracemalloc.is_tracing() else "-"
    )
    auto = sum(1 for p in plan if p.keep)
    print("| per side | proposals | automatic links | seconds | peak MB |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    print(f"| {count:,} | {len(plan):,} | {auto:,} | {seconds:.1f} | {peak_mb} |")


if __name__ == "__main__":
    sizes = [a for a in sys.argv[1:] if a.isdigit()]
    main(int(sizes[0]) if sizes else 100_000)
