"""The campaigns' checks find what they look for: a duplicate, a lost edit, a pair that
did not converge; and they do not count what the definitions exclude."""

from __future__ import annotations

from syncd.records import Side
from syncd.sim.campaign.world import Edit, World, disagreements, duplicates, lost_edits
from syncd.state.rows import Conflict, Link
from tests.reliability.test_fault_campaign import MAPPINGS


def _world() -> tuple[World, str, str]:
    world = World(MAPPINGS, 12, seed=5)
    company = next(
        c for c in world.hubspot.portal.live() if "customer" in c.properties["afas_roles"]
    )
    return world, company.id, str(company.properties["kvk_number"])


def test_a_company_twice_in_hubspot_is_a_duplicate() -> None:
    world, company_id, kvk = _world()
    assert duplicates(world.snapshot()) == []
    world.hubspot.seed(dict(world.hubspot.company(company_id).properties))
    found = duplicates(world.snapshot())
    assert len(found) == 1
    assert kvk in found[0]


def test_an_edit_on_neither_side_is_lost_unless_superseded_or_held_in_a_conflict() -> None:
    world, company_id, kvk = _world()
    world.hubspot.edit(company_id, {"city": "Giethoorn"})
    overwritten = Edit(1, Side.CRM, kvk, "city", "Plaats 5-1")
    later = Edit(2, Side.AFAS, kvk, "city", "Giethoorn")
    snapshot = world.snapshot()

    lost = lost_edits([overwritten], snapshot, MAPPINGS, [], [])
    assert len(lost) == 1
    assert "Plaats 5-1" in lost[0]
    assert lost_edits([overwritten, later], snapshot, MAPPINGS, [], []) == []

    link = Link("campaign", "customer", company_id, "10001", id=7)
    held = Conflict("campaign", "customer", 7, "city", None, "Giethoorn", "Plaats 5-1")
    assert lost_edits([overwritten], snapshot, MAPPINGS, [held], [link]) == []


def test_linked_records_that_disagree_outside_a_conflict_have_not_converged() -> None:
    world, company_id, kvk = _world()
    debtor = world.snapshot().of(Side.AFAS, "customer")[kvk][0].record_id
    link = Link("campaign", "customer", company_id, debtor, id=7)
    found = disagreements(world.snapshot(), MAPPINGS, [], [link])
    assert not [line for line in found if kvk in line and "city" in line]
    assert any("not linked" in line for line in found)  # nothing else is linked yet

    world.hubspot.edit(company_id, {"city": "Giethoorn"})
    found = disagreements(world.snapshot(), MAPPINGS, [], [link])
    assert [line for line in found if kvk in line and "city" in line]
    held = Conflict("campaign", "customer", 7, "city", None, "Giethoorn", "Zwolle")
    found = disagreements(world.snapshot(), MAPPINGS, [held], [link])
    assert not [line for line in found if kvk in line and "city" in line]
