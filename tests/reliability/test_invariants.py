"""The campaigns' checks find what they look for: a duplicate, a lost edit, a pair that
did not converge; and they do not count what the definitions exclude."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from syncd.records import Side
from syncd.state.rows import Conflict, Link
from tests.reliability.campaign.first_links import FirstLinks
from tests.reliability.campaign.world import Edit, World, disagreements, duplicates, lost_edits
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


# --- first links ----------------------------------------------------------------------------

EARLY, LINKED, LATE = (datetime(2026, 1, 1, hour, tzinfo=UTC) for hour in (8, 9, 10))


def _linked_company(world: World) -> tuple[str, str]:
    """A customer on both sides: its HubSpot id and KvK number."""
    snapshot = world.snapshot()
    crm, afas = snapshot.of(Side.CRM, "customer"), snapshot.of(Side.AFAS, "customer")
    kvk = next(k for k in crm if k in afas)
    return crm[kvk][0].record_id, kvk


def _first_link_took(world: World, company_id: str, name: str, side: Side, kvk: str) -> None:
    """Both sides now hold ``side``'s value of ``name`` from before any edit."""
    value = str(world.origins[(side, "customer", kvk)][name])
    native = MAPPINGS["customer"].to_native(Side.CRM, {name: value})
    world.hubspot.edit(company_id, {k: str(v) for k, v in native.items()})


def test_an_edit_made_before_the_first_link_may_give_way_to_the_value_its_rule_picks() -> None:
    """city: first_link = "afas". A HubSpot edit made before the pair was linked gave
    way to the debtor's city: no lost edit. Made after the link, or replaced by any
    other value, it is lost."""
    world, _, _ = _world()
    company_id, kvk = _linked_company(world)
    _first_link_took(world, company_id, "city", Side.AFAS, kvk)
    snapshot = world.snapshot()
    firsts = FirstLinks({("customer", kvk): LINKED}, world.origins)
    before = Edit(1, Side.CRM, kvk, "city", "Plaats 5-1", at=EARLY)
    after = dataclasses.replace(before, at=LATE)

    assert lost_edits([before], snapshot, MAPPINGS, [], [], firsts) == []
    assert len(lost_edits([after], snapshot, MAPPINGS, [], [], firsts)) == 1
    assert len(lost_edits([before], snapshot, MAPPINGS, [], [], None)) == 1

    world.hubspot.edit(company_id, {"city": "Giethoorn"})  # neither side's value
    assert len(lost_edits([before], world.snapshot(), MAPPINGS, [], [], firsts)) == 1


def test_a_first_link_never_excuses_the_loss_of_the_side_its_rule_picks() -> None:
    """An AFAS edit of the city (first_link = "afas") made before the link is never
    rightly replaced by the HubSpot value; an AFAS edit of the website (first_link =
    "crm") may be, in the table of the pair that was linked only."""
    world, _, _ = _world()
    company_id, kvk = _linked_company(world)
    firsts = FirstLinks({("customer", kvk): LINKED}, world.origins)
    _first_link_took(world, company_id, "city", Side.CRM, kvk)
    _first_link_took(world, company_id, "website", Side.CRM, kvk)
    snapshot = world.snapshot()
    city = Edit(1, Side.AFAS, kvk, "city", "Plaats 5-1", "customer", EARLY)
    assert len(lost_edits([city], snapshot, MAPPINGS, [], [], firsts)) == 1

    edit = Edit(2, Side.AFAS, kvk, "website", "https://w5-2.example.nl", "customer", EARLY)
    assert lost_edits([edit], snapshot, MAPPINGS, [], [], firsts) == []
    creditor = dataclasses.replace(edit, entity="supplier")  # that pair was never linked
    assert len(lost_edits([creditor], snapshot, MAPPINGS, [], [], firsts)) == 1
