"""Held plans: one per lane, the newest replacing the one before, forgotten with the
connection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syncd.state.store import StateStore

AT = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)


async def test_the_newest_held_plan_replaces_the_one_before(store: StateStore) -> None:
    for n, at in enumerate((AT, AT + timedelta(minutes=5))):
        async with store.transaction() as tx:
            await tx.hold_plan("main", "customer", {"totals": {"update afas": n}}, at)
    async with store.transaction() as tx:
        await tx.hold_plan("main", "supplier", {"totals": {}}, AT)

    assert await store.held_plan("main", "customer") == (
        AT + timedelta(minutes=5),
        {"totals": {"update afas": 1}},
    )
    assert await store.held_plan("other", "customer") is None
    await store.forget("main")
    assert await store.held_plan("main", "supplier") is None
