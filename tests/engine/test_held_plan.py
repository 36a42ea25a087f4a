"""The plan a guard held back: kept bounded, each write named, read back for the operator
until a cycle finishes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from syncd.engine import guards
from syncd.engine.actions import Create, Detach, Plan, Update
from syncd.engine.held_plan import SHOWN, FieldChange, HeldPlan, PlannedWrite, hold
from syncd.records import Record, Side
from syncd.state.rows import Link
from syncd.state.store import StateStore
from tests.engine.test_guards import ENTITY, Systems

AT = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)


def update(crm_id: str, afas_id: str) -> Update:
    return Update((crm_id, afas_id), Side.AFAS, {"city": None}, (), {"city": "Delft"})


def named(crm_id: str) -> str:
    return f"Firma {crm_id}"


def test_each_kept_write_has_its_name_ids_and_changes() -> None:
    gone = Link("test", ENTITY, "901", "10001", name="Atlas")
    plan = Plan(
        ENTITY,
        [
            update("902", "10002"),
            Create(
                Side.CRM, Record("10003", {"name": "Bakker", "city": None}), {"name": "Bakker"}, {}
            ),
            Detach(gone, Side.CRM, deactivate=True, reason="gone from HubSpot"),
            Detach(gone, Side.AFAS, deactivate=False, reason="gone from AFAS"),
        ],
    )

    held = hold(plan, AT, named, lambda fields: f"new {fields['name']}")

    assert held.writes == (
        PlannedWrite(
            "update", "afas", "902", "10002", "Firma 902", (FieldChange("city", "Delft", None),)
        ),
        PlannedWrite(
            "create", "crm", None, "10003", "new Bakker", (FieldChange("name", None, "Bakker"),)
        ),
        PlannedWrite("deactivate", "afas", "901", "10001", "Atlas", why="gone from HubSpot"),
        PlannedWrite("unlink", "afas", "901", "10001", "Atlas", why="gone from AFAS"),
    )
    assert held.totals == {
        "create crm": 1,
        "deactivate afas": 1,
        "unlink afas": 1,
        "update afas": 1,
    }
    assert held.more == 0


def test_a_big_plan_keeps_the_first_writes_and_counts_them_all() -> None:
    plan = Plan(ENTITY, [update(str(n), str(10000 + n)) for n in range(SHOWN + 50)])

    held = hold(plan, AT, named, lambda _: None)

    assert len(held.writes) == SHOWN
    assert held.totals == {"update afas": SHOWN + 50}
    assert held.more == 50
    again = HeldPlan.from_data(AT, json.loads(json.dumps(held.as_data())))
    assert again == held


async def test_a_tripped_guard_keeps_the_plan_until_a_cycle_finishes(store: StateStore) -> None:
    systems = Systems(store)
    ids = await systems.linked_then_deleted(6, 3)
    assert await guards.read_held_plan(store, "test", ENTITY) is None

    assert not (await systems.cycle()).applied

    held = await guards.read_held_plan(store, "test", ENTITY)
    assert held is not None
    assert held.totals == {"deactivate afas": 3}
    assert [(w.kind, w.crm_id, w.name) for w in held.writes] == [
        ("deactivate", crm_id, f"Firma {n}") for n, crm_id in enumerate(ids[:3])
    ]
    await guards.confirm(store, "test", ENTITY, by="ops")
    assert (await systems.cycle()).applied
    assert await guards.read_held_plan(store, "test", ENTITY) is None
