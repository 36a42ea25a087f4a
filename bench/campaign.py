"""The fault and crash campaigns at a larger size than CI runs them; prints the figures.

    .venv/bin/python bench/campaign.py [--runs N] [--companies M] [--rounds R]
        [--crash-runs K] [--kills S] [--first-seed SEED] [--only fault|crash]

Each campaign prints a markdown table: runs, operations, faults injected (by kind),
duplicates, lost edits, runs converged, cycles and seconds to converge. Any broken
invariant is listed after the tables, and the exit code is then 1. Definitions are in
:mod:`tests.reliability.campaign`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the campaigns live with the tests

from syncd.mapping import KNOWN_ENTITIES, load_mappings  # noqa: E402
from tests.reliability.campaign import (  # noqa: E402
    CrashCampaign,
    FaultCampaign,
    Figures,
    run_crash_campaign,
    run_fault_campaign,
)

MAPPINGS_DIR = ROOT / "mappings"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="fault campaign runs (seeds)")
    parser.add_argument("--companies", type=int, default=40, help="companies per run")
    parser.add_argument("--rounds", type=int, default=8, help="rounds of cycles under faults")
    parser.add_argument("--crash-runs", type=int, default=4, help="crash campaign runs")
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs per crash run")
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--only", choices=("fault", "crash"))
    return parser.parse_args()


async def _main(args: argparse.Namespace) -> list[Figures]:
    mappings = load_mappings(MAPPINGS_DIR, KNOWN_ENTITIES)
    done: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="syncd-campaign-") as workdir:
        if args.only != "crash":
            faults = FaultCampaign(
                runs=args.runs,
                companies=args.companies,
                rounds=args.rounds,
                first_seed=args.first_seed,
            )
            done.append(await run_fault_campaign(faults, mappings, Path(workdir)))
            print(done[-1].table() + "\n", flush=True)
        if args.only != "fault":
            crashes = CrashCampaign(
                runs=args.crash_runs,
                companies=args.companies,
                kills=args.kills,
                first_seed=args.first_seed,
            )
            done.append(await run_crash_campaign(crashes, mappings, MAPPINGS_DIR, Path(workdir)))
            print(done[-1].table() + "\n", flush=True)
    return done


if __name__ == "__main__":
    figures = asyncio.run(_main(_arguments()))
    problems = [p for f in figures for p in f.problems()]
    for problem in problems:
        print(problem)
    sys.exit(1 if problems else 0)
