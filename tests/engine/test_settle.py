"""Settling many at once: each conflict or quarantined record as if settled alone.

Every one resolved is journalled and closed with its own event naming who did it; a dry
run writes nothing anywhere; one that fails leaves the others to be settled.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from syncd.clock import utc_now
from syncd.engine.cycle import Connection, run_cycle
from syncd.engine.settle import (
    FilterError,
    RecordFilter,
    drop_quarantined,
    retry_quarantined,
    select_conflicts,
    select_quarantined,
    settle_conflicts,
)
from syncd.events import EventName
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import load_mapping
from syncd.policy import SyncRules
from syncd.records import Side
from syncd.state.rows import JournalAction, Quarantined, StatusEvent
from syncd.state.store import StateStore
from tests.engine.test_guards import DATA

CRM, AFAS = Side.CRM, Side.AFAS
ENTITY = "customer"
MAPPING = load_mapping(DATA)
MAPPINGS = {ENTITY: MAPPING}
CITIES = {"crm": "Delft", "afas": "Gouda"}


class Office:
    """A CRM and an AFAS in memory, linked by a first cycle, with conflicts to settle
    (the default rule for a field changed on both sides is ``manual``)."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.crm = MemoryGateway(CRM, {ENTITY: MAPPING})
        self.afas = MemoryGateway(AFAS, {ENTITY: MAPPING})
        self.conn = Connection(
            "test", {CRM: self.crm, AFAS: self.afas}, store, {ENTITY: MAPPING}, SyncRules()
        )

    async def conflicts_on_city(self, names: list[str]) -> dict[str, tuple[str, str]]:
        """Companies whose city both sides changed, differently: name -> (crm, afas) id."""
        for name in names:
            self.crm.put(ENTITY, {"name": name, "city": "Leiden"})
        await run_cycle(self.conn, ENTITY, full=True)
        pairs = {
            link.base["name"]: (link.crm_id, link.afas_id)
            for link in await self.store.get_links("test", ENTITY)
        }
        for crm_id, afas_id in pairs.values():
            self.crm.edit(ENTITY, crm_id, {"city": CITIES["crm"]})
            self.afas.edit(ENTITY, afas_id, {"City": CITIES["afas"]})
        report = await run_cycle(self.conn, ENTITY, full=True)
        assert report.counts["conflicts"] == len(names)
        return {str(name): pair for name, pair in pairs.items()}

    async def events(self, name: EventName) -> list[StatusEvent]:
        return await self.store.events("test", names=[name])


async def test_bulk_resolve_journals_each_one_and_names_who_did_it(store: StateStore) -> None:
    office = Office(store)
    pairs = await office.conflicts_on_city(["Bakkerij De Molen", "Jansen Bouw", "Smit BV"])
    chosen = RecordFilter(field="city")
    selection = await select_conflicts(store, chosen, utc_now())
    started = utc_now()

    result = await settle_conflicts(office.conn, selection, take=AFAS, by="alice")

    assert [o.item.name for o in result.settled] == list(pairs)
    assert not result.failed
    assert not result.skipped
    for crm_id, _ in pairs.values():
        assert office.crm.row(ENTITY, crm_id)["city"] == CITIES["afas"]
    closed = await office.events(EventName.CONFLICT_CLOSED)
    assert sorted(e.record or "" for e in closed) == sorted(crm for crm, _ in pairs.values())
    assert {(e.data["field"], e.data["by"]) for e in closed} == {("city", "alice")}
    links = [s.conflict.link_id for s in selection]
    journal = await store.recent_updates(links, started)
    assert sorted(journal) == sorted(links)  # one journalled write per record, to the CRM
    for entries in journal.values():
        assert [(e.action, e.target, e.fields) for e in entries] == [
            (JournalAction.UPDATE, CRM, {"city": CITIES["afas"]})
        ]
    assert await store.conflicts("test") == []


async def test_a_dry_run_says_which_and_writes_nothing(store: StateStore) -> None:
    office = Office(store)
    await office.conflicts_on_city(["Bakkerij De Molen", "Jansen Bouw"])
    selection = await select_conflicts(store, RecordFilter(search="molen"), utc_now())
    events_before = await store.events("test")
    writes_before = office.crm.calls["update"] + office.afas.calls["update"]

    result = await settle_conflicts(office.conn, selection, take=CRM, by="alice", dry_run=True)

    assert [s.name for s in result.selected] == ["Bakkerij De Molen"]
    assert result.settled == result.failed == result.skipped == []
    assert await store.events("test") == events_before
    assert office.crm.calls["update"] + office.afas.calls["update"] == writes_before
    assert len(await store.conflicts("test")) == 2


async def test_one_that_fails_does_not_stop_the_others(store: StateStore) -> None:
    office = Office(store)
    pairs = await office.conflicts_on_city(["Bakkerij De Molen", "Jansen Bouw", "Smit BV"])
    gone, _ = pairs["Jansen Bouw"]
    office.crm.remove(ENTITY, gone)  # deleted in HubSpot since the conflict opened
    selection = await select_conflicts(store, RecordFilter(everything=True), utc_now())

    result = await settle_conflicts(office.conn, selection, value="Utrecht", by="bob")

    assert [o.item.name for o in result.settled] == ["Bakkerij De Molen", "Smit BV"]
    [failed] = result.failed
    assert failed.item.name == "Jansen Bouw"
    assert gone in failed.detail
    assert [c.field for c in await store.conflicts("test")] == ["city"]  # the one left open
    assert len(await office.events(EventName.CONFLICT_CLOSED)) == 2


async def test_one_settled_meanwhile_is_skipped(store: StateStore) -> None:
    office = Office(store)
    await office.conflicts_on_city(["Bakkerij De Molen"])
    selection = await select_conflicts(store, RecordFilter(field="city"), utc_now())
    await settle_conflicts(office.conn, selection, take=CRM, by="alice")

    again = await settle_conflicts(office.conn, selection, take=AFAS, by="bob")

    assert [o.detail for o in again.skipped] == ["settled already"]
    assert office.crm.row(ENTITY, selection[0].crm_id or "")["city"] == CITIES["crm"]


async def test_without_a_filter_nothing_is_selected(store: StateStore) -> None:
    office = Office(store)
    await office.conflicts_on_city(["Bakkerij De Molen"])
    with pytest.raises(FilterError, match="--all"):
        await select_conflicts(store, RecordFilter(connection="test"), utc_now())
    with pytest.raises(FilterError, match="--all"):
        await select_quarantined(store, RecordFilter(), utc_now(), MAPPINGS)


async def quarantine(store: StateStore, *entries: Quarantined) -> None:
    async with store.transaction() as tx:
        for entry in entries:
            await tx.quarantine(entry)


def refused(
    record_id: str, reason: str, side: Side = AFAS, fields: dict[str, str | None] | None = None
) -> Quarantined:
    later = utc_now() + timedelta(hours=1)
    read = fields or {}
    return Quarantined("test", ENTITY, side, record_id, reason, next_attempt=later, fields=read)


async def test_bulk_retry_and_drop_are_an_event_each_naming_who(store: StateStore) -> None:
    await quarantine(
        store,
        refused("10001", "BIC does not match IBAN"),
        refused("10002", "BIC does not match IBAN"),
        refused("9000000101", "kvk: not a KvK number", CRM),
    )
    now = utc_now()
    bics = await select_quarantined(store, RecordFilter(search="bic", side=AFAS), now, MAPPINGS)
    assert [q.record_id for q in bics] == ["10001", "10002"]

    dry = await retry_quarantined(store, bics, MAPPINGS, by="carol", now=now, dry_run=True)
    assert dry.settled == []
    assert await store.events("test") == []
    retried = await retry_quarantined(store, bics, MAPPINGS, by="carol", now=now)

    assert [o.item.record_id for o in retried.settled] == ["10001", "10002"]
    due = {q.record_id: q.next_attempt for q in await store.quarantined("test")}
    assert due["10001"] == due["10002"] == now
    assert due["9000000101"] != now
    asked = await store.events("test", names=[EventName.RETRY_REQUESTED])
    assert [(e.record, e.data["side"], e.data["by"]) for e in asked] == [
        ("10001", "afas", "carol"),
        ("10002", "afas", "carol"),
    ]

    await drop_quarantined(store, bics[:1], MAPPINGS, by="dave")  # one dropped alone, first
    dropped = await drop_quarantined(store, bics, MAPPINGS, by="dave")

    assert [o.detail for o in dropped.skipped] == ["no longer in quarantine"]
    assert [o.item.record_id for o in dropped.settled] == ["10002"]
    assert [q.record_id for q in await store.quarantined("test")] == ["9000000101"]
    released = await store.events("test", names=[EventName.RECORD_RELEASED])
    assert [(e.record, e.data["by"]) for e in released] == [("10001", "dave"), ("10002", "dave")]


async def test_a_quarantined_record_is_named_as_the_other_views_name_it(
    store: StateStore,
) -> None:
    """Linked: by its link's name; linked to none: by its mapping's record_name."""
    office = Office(store)
    pairs = await office.conflicts_on_city(["Jansen Bouw"])
    _, linked = pairs["Jansen Bouw"]
    read: dict[str, str | None] = {"name": "Bakkerij De Molen", "city": "Gouda", "kvk": "12"}
    await quarantine(
        store,
        refused(linked, "BIC does not match IBAN", fields={"name": "Jansen"}),
        refused("10077", "kvk: not a KvK number", fields=read),
    )
    by_name_and_city = {ENTITY: replace(MAPPING, record_name=("name", "city"))}

    found = await select_quarantined(
        store, RecordFilter(search="molen gouda"), utc_now(), by_name_and_city
    )
    assert [q.record_id for q in found] == ["10077"]
    held = await store.quarantined("test")
    await retry_quarantined(store, held, by_name_and_city, by="erin", now=utc_now())

    asked = await store.events("test", names=[EventName.RETRY_REQUESTED])
    assert [(e.record, e.data["name"]) for e in asked] == [
        (linked, "Jansen Bouw"),
        ("10077", "Bakkerij De Molen Gouda"),
    ]
