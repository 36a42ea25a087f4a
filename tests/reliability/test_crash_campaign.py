"""The crash campaign at CI size: ``syncd run`` killed at random moments (in a pull, a
write, a commit) and stopped with SIGTERM during a write, then restarted: no duplicate,
no lost edit, convergence, and a clean exit on SIGTERM (``pytest -s`` prints the figures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.mapping import KNOWN_ENTITIES, load_mappings
from tests.reliability.campaign import CrashCampaign, run_crash_campaign

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = load_mappings(ROOT / "mappings", KNOWN_ENTITIES)

pytestmark = pytest.mark.slow


async def test_syncd_keeps_its_guarantees_when_killed_and_restarted(tmp_path: Path) -> None:
    campaign = CrashCampaign(runs=1, kills=5)
    figures = await run_crash_campaign(campaign, MAPPINGS, ROOT / "mappings", tmp_path)
    print("\n" + figures.table())

    assert figures.problems() == []  # the SIGTERM exit codes are among them
    assert all(run.converged for run in figures.runs)
    assert figures.faults["SIGTERM during apply"] == 1  # it came during a write
    kills = {kind: n for kind, n in figures.faults.items() if kind.startswith("SIGKILL")}
    assert sum(kills.values()) == 5
