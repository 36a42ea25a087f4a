"""The fault campaign at CI size: faults on both sides, and still no duplicate, no lost
edit, and convergence once the faults stop (``pytest -s`` prints the figures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.mapping import KNOWN_ENTITIES, load_mappings
from tests.reliability.campaign import FaultCampaign, run_fault_campaign

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = load_mappings(ROOT / "mappings", KNOWN_ENTITIES)


pytestmark = pytest.mark.slow


async def test_syncd_keeps_its_guarantees_through_faults_on_both_sides(tmp_path: Path) -> None:
    figures = await run_fault_campaign(FaultCampaign(runs=3), MAPPINGS, tmp_path)
    print("\n" + figures.table())

    assert figures.problems() == []
    assert all(run.converged for run in figures.runs)
    assert sum(run.operations for run in figures.runs) > 0
    fired = figures.faults
    assert any(kind.startswith("afas") for kind in fired)
    assert any(kind.startswith("hubspot") for kind in fired)
