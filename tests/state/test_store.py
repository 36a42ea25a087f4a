"""The state store's contract, run on SQLite and on PostgreSQL (see the `store` fixture)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from syncd.errors import DuplicateLinkError, StateError
from syncd.records import Cursor, Side
from syncd.state import StateStore, chunks, open_store
from syncd.state.rows import (
    Conflict,
    ConflictState,
    JournalAction,
    JournalEntry,
    JournalState,
    Link,
    Quarantined,
    StatusEvent,
)

C, E = "acme", "customer"
T0 = datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


class Boom(Exception):
    pass


def link(crm_id: str, afas_id: str, **base: str | None) -> Link:
    return Link(C, E, crm_id, afas_id, base=dict(base))


def intent(target_id: str | None = "D1", link_id: int | None = None) -> JournalEntry:
    return JournalEntry(
        C, E, JournalAction.UPDATE, Side.AFAS, {"name": "Acme", "city": None},
        target_id=target_id, source_id="101", correlation="101", link_id=link_id,
    )  # fmt: skip


def assert_utc(moment: datetime | None) -> None:
    assert moment is not None
    assert moment.utcoffset() == timedelta(0)


async def save(store: StateStore, *links: Link) -> list[Link]:
    async with store.transaction() as tx:
        return [await tx.save_link(each) for each in links]


# --- links -------------------------------------------------------------------------------------


async def test_link_round_trip_keeps_base_with_blanks(store: StateStore) -> None:
    [saved] = await save(store, link("101", "D1", name="Acme", city=None, vat=""))

    assert saved.id is not None
    assert await store.get_link(saved.id) == saved
    assert await store.get_links(C, E) == [saved]
    assert saved.base == {"name": "Acme", "city": None, "vat": ""}
    assert await store.link_count(C, E) == 1
    assert await store.link_count(C, "supplier") == 0
    assert await store.get_link(saved.id + 1000) is None


async def test_link_update_changes_ids_base_and_detached(store: StateStore) -> None:
    [saved] = await save(store, link("101", "D1", name="Acme"))
    changed = replace(saved, afas_id="D2", base={"name": "Acme BV", "city": None}, detached_at=T0)

    [updated] = await save(store, changed)

    assert updated == changed
    assert await store.get_link(changed.id or 0) == changed


async def test_a_record_has_one_link_per_side(store: StateStore) -> None:
    [first] = await save(store, link("101", "D1"))

    for clash in (link("101", "D2"), link("102", "D1")):
        with pytest.raises(DuplicateLinkError) as raised:
            await save(store, clash)
        assert raised.value.existing_link_id == first.id

    # the same ids under another connection or entity are other records
    await save(store, Link("other", E, "101", "D1"), Link(C, "supplier", "101", "D1"))
    assert await store.get_links(C, E) == [first]


async def test_a_clash_leaves_the_transaction_usable(store: StateStore) -> None:
    await save(store, link("101", "D1"))

    async with store.transaction() as tx:
        with pytest.raises(DuplicateLinkError):
            await tx.save_link(link("101", "D9"))
        await tx.save_link(link("102", "D2"))

    assert [x.crm_id for x in await store.get_links(C, E)] == ["101", "102"]


async def test_an_update_may_not_take_another_links_record(store: StateStore) -> None:
    first, second = await save(store, link("101", "D1"), link("102", "D2"))

    with pytest.raises(DuplicateLinkError):
        await save(store, replace(second, afas_id="D1"))
    with pytest.raises(StateError, match="does not exist"):
        await save(store, replace(link("109", "D9"), id=(second.id or 0) + 1000))
    assert await store.get_links(C, E) == [first, second]


async def test_links_by_ids_chunks_long_id_lists(store: StateStore) -> None:
    links = [link(f"c{n}", f"a{n}", n=str(n)) for n in range(1200)]
    async with store.transaction() as tx:
        for each in links:
            await tx.save_link(each)

    wanted = [f"c{n}" for n in range(0, 1200, 2)] + ["unknown", "c0"]
    by_crm = await store.links_by_ids(C, E, Side.CRM, wanted)
    by_afas = await store.links_by_ids(C, E, Side.AFAS, [f"a{n}" for n in range(1200)])

    assert sorted(by_crm) == sorted(f"c{n}" for n in range(0, 1200, 2))
    assert by_crm["c42"].afas_id == "a42"
    assert by_crm["c42"].base == {"n": "42"}
    assert len(by_afas) == 1200
    assert by_afas["a7"].crm_id == "c7"
    assert await store.links_by_ids(C, "supplier", Side.CRM, wanted) == {}
    assert await store.links_by_ids(C, E, Side.CRM, []) == {}


async def test_many_links_go_in_chunks_of_one_transaction(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "ROW_CHUNK", 3)  # 8 links: three statements
    links = [link(f"c{n}", f"a{n}", n=str(n)) for n in range(8)]

    async with store.transaction() as tx:
        saved = await tx.insert_links(links)

    assert [(s.crm_id, s.base) for s in saved] == [(x.crm_id, x.base) for x in links]
    assert len({s.id for s in saved}) == 8
    assert await store.get_links(C, E) == saved
    # A clash in the last chunk undoes the chunks before it: one transaction.
    more = [link(f"c{n}", f"a{n}") for n in range(10, 16)] + [link("c99", "a3")]
    with pytest.raises(DuplicateLinkError):
        async with store.transaction() as tx:
            await tx.insert_links(more)
    assert await store.get_links(C, E) == saved


async def test_many_intents_go_in_chunks_with_their_ids_in_order(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "ROW_CHUNK", 2)
    entries = [intent(target_id=f"D{n}") for n in range(5)]

    recorded = await store.record_intents(entries)

    assert [e.target_id for e in recorded] == [f"D{n}" for n in range(5)]
    ids = [e.id for e in recorded if e.id is not None]
    assert ids == sorted(set(ids))
    assert len(ids) == 5
    pending = await store.pending_journal(C, E)
    assert [(e.id, e.target_id) for e in pending] == [(e.id, e.target_id) for e in recorded]


async def test_intents_alike_still_get_their_own_ids_in_order(store: StateStore) -> None:
    entries = [intent(target_id="D1"), intent(target_id="D2"), intent(target_id="D1")]

    recorded = await store.record_intents(entries)

    ids = [e.id for e in recorded if e.id is not None]
    assert len(set(ids)) == 3
    pending = await store.pending_journal(C, E)
    assert [(e.id, e.target_id) for e in pending] == [(e.id, e.target_id) for e in recorded]
    assert [e.target_id for e in pending] == ["D1", "D2", "D1"]


async def test_bases_are_saved_together_and_only_for_saved_links(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "ROW_CHUNK", 2)
    saved = await save(store, *(link(f"c{n}", f"a{n}", name="old") for n in range(5)))
    moved = [replace(each, base={"name": f"new {n}", "city": None}) for n, each in enumerate(saved)]

    async with store.transaction() as tx:
        await tx.save_bases(moved[1:4])

    expected = [saved[0].base, *(m.base for m in moved[1:4]), saved[4].base]
    assert [x.base for x in await store.get_links(C, E)] == expected
    with pytest.raises(StateError, match="not all exist"):
        async with store.transaction() as tx:
            await tx.save_bases([moved[0], replace(moved[1], id=(saved[4].id or 0) + 1000)])
    with pytest.raises(StateError, match="not saved"):
        async with store.transaction() as tx:
            await tx.save_bases([link("c9", "a9")])
    assert [x.base for x in await store.get_links(C, E)] == expected


async def test_deleting_a_link_takes_its_conflicts_and_keeps_its_journal(
    store: StateStore,
) -> None:
    [saved] = await save(store, link("101", "D1"))
    assert saved.id is not None
    entry = await store.record_intent(intent(link_id=saved.id))
    async with store.transaction() as tx:
        await tx.open_conflict(Conflict(C, E, saved.id, "name", "A", "B", "C"))

    async with store.transaction() as tx:
        await tx.delete_link(saved.id)
        await tx.delete_link(saved.id)  # gone already: nothing to do

    assert await store.get_link(saved.id) is None
    assert await store.conflicts(state=None) == []
    [pending] = await store.pending_journal(C, E)
    assert pending.id == entry.id
    assert pending.link_id is None


# --- cursors -----------------------------------------------------------------------------------


async def test_cursor_upsert_per_connection_entity_and_side(store: StateStore) -> None:
    assert await store.get_cursor(C, E, Side.CRM) is None
    amsterdam = timezone(timedelta(hours=2))

    async with store.transaction() as tx:
        await tx.set_cursor(C, E, Side.CRM, Cursor(T0, "101"))
        await tx.set_cursor(C, E, Side.AFAS, Cursor(T0, "D1"))
    async with store.transaction() as tx:
        later = datetime(2024, 3, 1, 16, 30, tzinfo=amsterdam)
        await tx.set_cursor(C, E, Side.CRM, Cursor(later, "102"))

    crm = await store.get_cursor(C, E, Side.CRM)
    assert crm == Cursor(datetime(2024, 3, 1, 14, 30, tzinfo=UTC), "102")
    assert crm is not None
    assert crm.modified.tzinfo is UTC
    assert await store.get_cursor(C, E, Side.AFAS) == Cursor(T0, "D1")
    assert await store.get_cursor(C, "supplier", Side.CRM) is None


async def test_a_cursor_keeps_when_its_change_was_seen_and_the_last_pull_began(
    store: StateStore,
) -> None:
    seen, pulled = T0 + timedelta(minutes=1), T0 + timedelta(minutes=9)
    async with store.transaction() as tx:
        await tx.set_cursor(C, E, Side.CRM, Cursor(T0, "101", seen_at=seen, pulled_at=pulled))
    crm = await store.get_cursor(C, E, Side.CRM)
    assert crm is not None
    assert (crm.seen_at, crm.pulled_at) == (seen, pulled)
    assert crm.seen_at is not None
    assert crm.seen_at.tzinfo is UTC
    async with store.transaction() as tx:
        await tx.set_cursor(C, E, Side.CRM, Cursor(T0, "101"))  # a cursor kept before deferrals
    crm = await store.get_cursor(C, E, Side.CRM)
    assert crm is not None
    assert (crm.seen_at, crm.pulled_at) == (None, None)


async def test_naive_datetimes_are_refused(store: StateStore) -> None:
    with pytest.raises(StateError, match="naive datetime"):
        async with store.transaction() as tx:
            await tx.set_cursor(C, E, Side.CRM, Cursor(datetime(2024, 3, 1), "101"))
    assert await store.get_cursor(C, E, Side.CRM) is None


# --- journal -----------------------------------------------------------------------------------


async def test_journal_intent_then_finish(store: StateStore) -> None:
    [saved] = await save(store, link("101", "D1"))
    create = JournalEntry(C, E, JournalAction.CREATE, Side.AFAS, {"name": "Acme"}, source_id="1")

    first = await store.record_intent(intent())
    second = await store.record_intent(create)

    assert first.id is not None
    assert second.id is not None
    assert_utc(first.created_at)
    assert first == replace(intent(), id=first.id, created_at=first.created_at)
    assert await store.pending_journal(C, E) == [first, second]
    assert await store.pending_journal(C, "supplier") == []

    async with store.transaction() as tx:
        await tx.finish_journal(second.id, JournalState.DONE, target_id="D7", link_id=saved.id)
    assert await store.pending_journal(C, E) == [first]

    with pytest.raises(StateError, match="does not exist"):
        async with store.transaction() as tx:
            await tx.finish_journal(second.id + 1000, JournalState.FAILED)


async def test_an_intent_is_committed_at_once(store: StateStore, state_url: str) -> None:
    entry = await store.record_intent(intent())

    async with await open_store(state_url) as elsewhere:  # another process, say
        assert await elsewhere.pending_journal(C, E) == [entry]


async def test_a_task_writes_in_one_transaction_at_a_time(store: StateStore) -> None:
    async with store.transaction() as tx:
        await tx.save_link(link("101", "D1"))
        assert await store.link_count(C, E) == 0  # reading is fine, and sees committed state
        with pytest.raises(StateError, match="already has a transaction open"):
            await store.record_intent(intent())
        with pytest.raises(StateError, match="already has a transaction open"):
            await enter_a_second_transaction(store)
    async with store.transaction() as tx:  # and afterwards it may write again
        await tx.save_link(link("102", "D2"))
    assert await store.link_count(C, E) == 2


async def enter_a_second_transaction(store: StateStore) -> None:
    async with store.transaction():
        pass


# --- one transaction: all or nothing -----------------------------------------------------------


async def test_a_failed_transaction_leaves_nothing(store: StateStore) -> None:
    [kept] = await save(store, link("101", "D1", name="old"))
    assert kept.id is not None
    entry = await store.record_intent(intent(link_id=kept.id))
    event = StatusEvent(C, E, "record_changed", record="101", data={"n": 1})

    async def write_everything_then_fail() -> None:
        assert kept.id is not None
        async with store.transaction() as tx:
            await tx.save_link(replace(kept, base={"name": "new"}))
            await tx.save_link(link("102", "D2"))
            await tx.finish_journal(entry.id or 0, JournalState.DONE)
            await tx.set_cursor(C, E, Side.CRM, Cursor(T0, "101"))
            await tx.open_conflict(Conflict(C, E, kept.id, "city", None, "A", "B"))
            await tx.quarantine(Quarantined(C, E, Side.CRM, "103", "bad"))
            await tx.add_event(event)
            assert await store.get_links(C, E) == [kept]  # others see nothing yet
            raise Boom

    with pytest.raises(Boom):
        await write_everything_then_fail()

    assert await store.get_links(C, E) == [kept]
    assert await store.pending_journal(C, E) == [entry]
    assert await store.get_cursor(C, E, Side.CRM) is None
    assert await store.conflicts() == []
    assert await store.quarantined() == []
    assert await store.events() == []


async def test_concurrent_transactions_all_commit(store: StateStore) -> None:
    async def one(n: int) -> None:
        async with store.transaction() as tx:
            await tx.save_link(link(f"c{n}", f"a{n}"))
            await asyncio.sleep(0)
            await tx.add_event(StatusEvent(C, E, "record_linked", record=f"c{n}"))

    await asyncio.gather(*(one(n) for n in range(8)))

    assert await store.link_count(C, E) == 8
    assert len(await store.events(C)) == 8


async def test_a_write_a_cancel_cuts_into_leaves_the_store_writable_and_whole(
    store: StateStore,
) -> None:
    """A failed cycle cancels its other writes, then records that it failed: wherever a
    cancel lands in a transaction, the next write goes through (SQLite's writer lock was
    once left held for good), and the cut transaction is kept whole or not at all."""
    size = 50

    async def writing() -> None:
        async with store.transaction() as tx:
            for n in range(size):
                await tx.add_event(StatusEvent(C, E, "record_changed", record=str(n)))

    for steps in range(60):  # from before the first statement to after the commit
        task = asyncio.ensure_future(writing())
        for _ in range(steps):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        async with asyncio.timeout(5):  # not the 30 s SQLite waits for a writer
            async with store.transaction() as tx:
                await tx.add_event(StatusEvent(C, E, "record_linked", record=str(steps)))

    events = await store.events(C, limit=10_000)
    assert sum(e.name == "record_linked" for e in events) == 60
    assert sum(e.name == "record_changed" for e in events) % size == 0


# --- conflicts ---------------------------------------------------------------------------------


async def test_conflicts_opened_together_are_new_once_per_link_and_field(
    store: StateStore,
) -> None:
    first, second = await save(store, link("101", "D1"), link("102", "D2"))
    assert first.id is not None
    assert second.id is not None
    async with store.transaction() as tx:
        await tx.open_conflict(Conflict(C, E, first.id, "name", "A", "B", "C"))

    async with store.transaction() as tx:
        opened = await tx.open_conflicts(
            [
                Conflict(C, E, first.id, "name", "A", "B2", "C2"),  # open already: updated
                Conflict(C, E, first.id, "city", None, "X", "Y"),
                Conflict(C, E, second.id, "name", None, "P", "Q"),
                Conflict(C, E, second.id, "name", None, "P2", "Q2"),  # again: the later wins
            ]
        )

    assert opened == [False, True, True, False]
    found = {(c.link_id, c.field): (c.crm, c.afas) for c in await store.conflicts(C, E)}
    assert found == {
        (first.id, "name"): ("B2", "C2"),
        (first.id, "city"): ("X", "Y"),
        (second.id, "name"): ("P2", "Q2"),
    }


async def test_one_open_conflict_per_link_and_field(store: StateStore) -> None:
    [saved] = await save(store, link("101", "D1"))
    assert saved.id is not None
    name = Conflict(C, E, saved.id, "name", "Acme", "Acme BV", "Acme NV")

    async with store.transaction() as tx:
        assert await tx.open_conflict(name) is True
        assert await tx.open_conflict(replace(name, crm="Acme Ltd")) is False
        assert await tx.open_conflict(Conflict(C, E, saved.id, "city", None, "A", "B")) is True

    opened = await store.conflicts(C, E)
    assert [(c.field, c.crm, c.state) for c in opened] == [
        ("name", "Acme Ltd", ConflictState.OPEN),
        ("city", "A", ConflictState.OPEN),
    ]
    assert opened[1].base is None
    assert_utc(opened[0].created_at)
    assert opened[0].resolved_at is None
    assert await store.conflicts(C, "supplier") == []
    assert await store.conflicts("other") == []


async def test_closing_conflicts(store: StateStore) -> None:
    [saved] = await save(store, link("101", "D1"))
    assert saved.id is not None
    async with store.transaction() as tx:
        for field in ("name", "city", "vat"):
            await tx.open_conflict(Conflict(C, E, saved.id, field, None, "x", "y"))

    async with store.transaction() as tx:
        closed = await tx.close_conflicts(saved.id, ["name", "nothing"], "crm_wins")
    assert [(c.field, c.state, c.resolution) for c in closed] == [
        ("name", ConflictState.RESOLVED, "crm_wins")
    ]
    assert_utc(closed[0].resolved_at)
    assert [c.field for c in await store.conflicts()] == ["city", "vat"]

    async with store.transaction() as tx:
        assert await tx.open_conflict(Conflict(C, E, saved.id, "name", "x", "p", "q")) is True
        assert len(await tx.close_conflicts(saved.id, None, "manual")) == 3
        assert await tx.close_conflicts(saved.id, None, "manual") == []

    assert await store.conflicts() == []
    everything = await store.conflicts(state=None)
    assert [(c.field, c.resolution) for c in everything] == [
        ("name", "crm_wins"), ("city", "manual"), ("vat", "manual"), ("name", "manual"),
    ]  # fmt: skip
    assert len(await store.conflicts(state=ConflictState.RESOLVED)) == 4


async def test_conflicted_fields_are_the_open_ones_of_the_connection_and_entity(
    store: StateStore,
) -> None:
    first, second = await save(store, link("101", "D1"), link("102", "D2"))
    [elsewhere] = await save(store, Link("other", E, "101", "D1"))
    assert first.id is not None
    assert second.id is not None
    assert elsewhere.id is not None
    async with store.transaction() as tx:
        for link_id, field in [(first.id, "name"), (first.id, "city"), (second.id, "vat")]:
            await tx.open_conflict(Conflict(C, E, link_id, field, None, f"crm {field}", None))
        await tx.open_conflict(Conflict("other", E, elsewhere.id, "name", "b", "x", "y"))
        await tx.close_conflicts(second.id, ["vat"], "manual")

    assert await store.conflicted_fields(C, E) == {
        first.id: {"name": ("crm name", None), "city": ("crm city", None)}
    }
    assert await store.conflicted_fields("other", E) == {elsewhere.id: {"name": ("x", "y")}}
    assert await store.conflicted_fields(C, "supplier") == {}
    assert await store.open_conflict_count(C, E) == 2
    assert await store.open_conflict_count("other", E) == 1
    assert await store.open_conflict_count(C, "supplier") == 0


# --- quarantine --------------------------------------------------------------------------------


async def test_quarantine_counts_attempts_and_releases(store: StateStore) -> None:
    retry = T0 + timedelta(minutes=5)
    async with store.transaction() as tx:
        first = await tx.quarantine(Quarantined(C, E, Side.AFAS, "D1", "bad postcode"))
        await tx.quarantine(Quarantined(C, E, Side.CRM, "D1", "other side, other record"))
    async with store.transaction() as tx:
        again = await tx.quarantine(
            Quarantined(
                C, E, Side.AFAS, "D1", "bad vat", field="vat", reference="L42", next_attempt=retry
            )
        )

    assert first.attempts == 1
    assert_utc(first.first_seen)
    assert again == replace(
        first, reason="bad vat", field="vat", reference="L42", attempts=2, next_attempt=retry
    )
    listed = await store.quarantined(C, E)
    assert listed[0] == again
    assert (listed[1].side, listed[1].attempts, listed[1].field) == (Side.CRM, 1, None)

    async with store.transaction() as tx:
        assert await tx.release(C, E, Side.AFAS, "D1") is True
        assert await tx.release(C, E, Side.AFAS, "D1") is False
    assert [q.side for q in await store.quarantined()] == [Side.CRM]
    assert await store.quarantined("other") == []


# --- status events -----------------------------------------------------------------------------


async def test_events_in_order_after_an_id(store: StateStore) -> None:
    async with store.transaction() as tx:
        for n in range(5):
            connection = C if n % 2 == 0 else "other"
            await tx.add_event(
                StatusEvent(connection, E, "record_changed", record=str(n), data={"n": n})
            )
        await tx.add_event(StatusEvent(C, None, "cycle_finished", at=T0, data={"ok": True}))

    everything = await store.events()
    ids = [e.id or 0 for e in everything]
    assert ids == sorted(ids)
    assert [e.record for e in everything] == ["0", "1", "2", "3", "4", None]
    assert everything[0].data == {"n": 0}
    assert everything[-1].at == T0
    assert everything[-1].entity is None
    assert all(e.at is not None and e.at.tzinfo is UTC for e in everything)

    assert [e.record for e in await store.events(C)] == ["0", "2", "4", None]
    assert [e.record for e in await store.events(after_id=ids[2])] == ["3", "4", None]
    assert [e.record for e in await store.events(C, after_id=ids[0], limit=1)] == ["2"]
    assert await store.events(after_id=ids[-1]) == []


async def test_thousands_of_events_of_one_transaction_are_all_kept_in_order(
    store: StateStore,
) -> None:
    # A first cycle adds one per record linked or created, in one transaction per batch:
    # more values than either backend takes as parameters of one statement.
    count = 10_000
    async with store.transaction() as tx:
        for n in range(count):
            await tx.add_event(StatusEvent(C, E, "record_linked", record=str(n), data={"n": n}))
    events = await store.events(C, limit=count)
    assert [e.record for e in events] == [str(n) for n in range(count)]
    assert events[-1].data == {"n": count - 1}


async def test_events_inserted_along_the_way_still_go_with_their_transaction(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunks, "ROW_CHUNK", 2)  # inserted every two events

    async def add_then_fail() -> None:
        async with store.transaction() as tx:
            for n in range(5):
                await tx.add_event(StatusEvent(C, E, "record_linked", record=f"lost{n}"))
            raise Boom

    with pytest.raises(Boom):
        await add_then_fail()
    async with store.transaction() as tx:
        for n in range(5):
            await tx.add_event(StatusEvent(C, E, "record_linked", record=str(n)))

    assert [e.record for e in await store.events(C)] == ["0", "1", "2", "3", "4"]


async def test_the_newest_events_come_without_reading_the_whole_log(store: StateStore) -> None:
    async with store.transaction() as tx:
        for n in range(5):
            await tx.add_event(StatusEvent(C, E, "cycle_finished" if n % 2 else "x", record=str(n)))
    newest = await store.events(C, names=["cycle_finished"], limit=2, newest=True)
    assert [e.record for e in newest] == ["1", "3"]  # the last two, oldest first
    [last] = await store.events(C, limit=1, newest=True)
    assert last.record == "4"


async def test_events_since_a_time_come_whole_in_one_read(store: StateStore) -> None:
    t0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    async with store.transaction() as tx:
        for n in range(chunks.ROW_CHUNK + 3):  # more than one statement's worth
            at = t0 + timedelta(seconds=n)
            await tx.add_event(StatusEvent(C, E, "cycle_finished", record=str(n), at=at))
        await tx.add_event(StatusEvent(C, E, "cycle_failed", at=t0 + timedelta(hours=1)))
        await tx.add_event(StatusEvent("other", E, "cycle_finished", at=t0 - timedelta(hours=1)))

    found = await store.events_since(t0 + timedelta(seconds=2), ["cycle_finished"])

    assert [e.record for e in found] == [str(n) for n in range(2, chunks.ROW_CHUNK + 3)]
    assert await store.events_since(t0, ["record_linked"]) == []
