"""Journal offsets: kept per connection, across a restart, forgotten on request."""

from __future__ import annotations

from syncd.state.store import open_store


async def test_an_offset_survives_a_restart(state_url: str) -> None:
    store = await open_store(state_url)
    await store.set_journal_offset("main", "first")
    await store.set_journal_offset("main", "second")
    await store.set_journal_offset("other", "elsewhere")
    await store.close()

    store = await open_store(state_url)
    try:
        assert await store.get_journal_offset("main") == "second"
        assert await store.get_journal_offset("other") == "elsewhere"
        assert await store.get_journal_offset("new") is None
    finally:
        await store.close()


async def test_a_forgotten_offset_is_none(state_url: str) -> None:
    store = await open_store(state_url)
    try:
        await store.set_journal_offset("main", "stale")
        await store.set_journal_offset("main", None)
        assert await store.get_journal_offset("main") is None
    finally:
        await store.close()
