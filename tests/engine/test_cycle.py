"""Whole cycles over two in-memory systems and a real state store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncd.engine import recovery
from syncd.engine.cycle import Connection, CycleReport, run_cycle
from syncd.engine.stages import standing as standing_stage
from syncd.errors import OutcomeUnknownError, RecordError, TransientError
from syncd.events import EventName
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import EntityMapping, load_mapping
from syncd.policy import DeletePolicy, Direction, Guards, SyncRules
from syncd.records import Page, Record, Side, Value
from syncd.state.store import StateStore

CRM, AFAS = Side.CRM, Side.AFAS
ENTITY = "customer"
MAPPING = load_mapping(Path(__file__).parent / "data" / "stateful_customer.toml")
WRITES = ("create", "update", "deactivate")


class Clock:
    """Wall time for quarantine backoff, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class OneAtATime:
    """A memory gateway that writes one record per request, as the AFAS gateway does."""

    def __init__(self, inner: MemoryGateway) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        if name in ("create_batch", "update_batch"):
            raise AttributeError(name)
        return getattr(self.inner, name)


class World:
    """Two systems, one store, one connection: what a test drives."""

    def __init__(self, store: StateStore, rules: SyncRules, mapping: EntityMapping) -> None:
        self.mapping = mapping
        self.clock = Clock()
        self.crm = MemoryGateway(CRM, {ENTITY: mapping}, page_size=2)
        self.afas = MemoryGateway(AFAS, {ENTITY: mapping}, page_size=2)
        self.store = store
        self.rules = rules
        self.overlap = timedelta(minutes=5)

    batched = True

    @property
    def conn(self) -> Connection:
        gateways: dict[Side, Any] = {CRM: self.crm, AFAS: self.afas}
        if not self.batched:
            gateways = {side: OneAtATime(g) for side, g in gateways.items()}
        return Connection(
            "test",
            gateways,
            self.store,
            {ENTITY: self.mapping},
            self.rules,
            overlap=self.overlap,
            now=self.clock,
        )

    def gateway(self, side: Side) -> MemoryGateway:
        return self.crm if side is CRM else self.afas

    def put(self, side: Side, **fields: Value) -> str:
        return self.gateway(side).put(ENTITY, self.mapping.to_native(side, fields))

    def edit(self, side: Side, record_id: str, **fields: Value) -> None:
        self.gateway(side).edit(ENTITY, record_id, self.mapping.to_native(side, fields))

    def fields(self, side: Side, record_id: str) -> dict[str, Value]:
        return self.mapping.to_canonical(side, self.gateway(side).row(ENTITY, record_id))

    def all(self, side: Side) -> list[dict[str, Value]]:
        return [self.mapping.to_canonical(side, row) for row in self.gateway(side).rows(ENTITY)]

    def writes(self) -> int:
        return sum(g.calls[op] for g in (self.crm, self.afas) for op in WRITES)

    async def cycle(self, **options: Any) -> CycleReport:
        return await run_cycle(self.conn, ENTITY, **options)

    async def events(self) -> list[str]:
        return [e.name for e in await self.store.events("test")]

    async def partner(self, side: Side, record_id: str) -> str:
        links = await self.store.links_by_ids("test", ENTITY, side, [record_id])
        return links[record_id].id_on(side.other)


RULES = SyncRules(guards=Guards(min_records_for_share=1000))


@pytest.fixture(params=["batched", "one at a time"])
def world(store: StateStore, request: pytest.FixtureRequest) -> World:
    world = World(store, RULES, MAPPING)
    world.batched = request.param == "batched"
    return world


async def test_writes_to_one_side_share_requests(world: World) -> None:
    for n in range(5):
        world.put(CRM, name=f"C{n}")
    world.put(AFAS, name="A")
    await world.cycle()
    assert world.afas.calls["create"] == 5
    expected = 1 if world.batched else 0
    assert world.afas.calls["create_batch"] == expected
    assert world.crm.calls["create_batch"] == expected


async def test_first_run_creates_links_and_never_duplicates(world: World) -> None:
    only_crm = world.put(CRM, name="Korenaar", kvk="30145872")
    world.put(AFAS, name="Moerman", kvk="24123456")
    both_crm = world.put(CRM, name="Atlas", kvk="27654321", city="Delft")
    both_afas = world.put(AFAS, name="Atlas", kvk="27654321", phone="+31152001234")

    report = await world.cycle()

    assert report.counts == {
        "created_afas": 1,
        "created_crm": 1,
        "linked": 1,
        "updated_afas": 1,
        "updated_crm": 1,
    }
    assert await world.partner(CRM, both_crm) == both_afas
    assert world.fields(AFAS, both_afas)["city"] == "Delft"
    assert world.fields(CRM, both_crm)["phone"] == "+31152001234"
    created = await world.partner(CRM, only_crm)
    assert world.fields(AFAS, created)["name"] == "Korenaar"
    assert world.afas.row(ENTITY, created)["ExternalKey"] == only_crm  # the correlation key
    assert len(world.all(CRM)) == len(world.all(AFAS)) == 3
    assert (await world.cycle()).counts == {}  # nothing left to do, nothing echoed


async def test_an_edit_flows_as_a_partial_update_and_its_echo_is_silent(world: World) -> None:
    crm_id = world.put(CRM, name="Atlas", city="Delft")
    await world.cycle()
    afas_id = await world.partner(CRM, crm_id)
    world.edit(AFAS, afas_id, city="Leiden")
    world.edit(CRM, crm_id, phone="+31152001234")
    before = world.writes()

    report = await world.cycle()

    assert report.counts == {"updated_afas": 1, "updated_crm": 1}
    assert world.writes() - before == 2
    assert world.fields(CRM, crm_id)["city"] == "Leiden"
    assert world.fields(AFAS, afas_id)["phone"] == "+31152001234"
    changed = [e for e in await world.store.events("test") if e.name == EventName.RECORD_CHANGED]
    assert {e.record for e in changed} == {crm_id, afas_id}
    assert changed[-1].data["fields"]  # before/after per field, for the status log
    before = world.writes()
    assert (await world.cycle()).counts == {}
    assert (await world.cycle(full=True)).counts == {}
    assert world.writes() == before
    [*_, last] = await world.store.events("test", names=["cycle_finished"])
    assert last.data["requests"]["afas"]["used"] > 0  # the status log counts requests


async def test_incremental_pull_reads_only_what_changed(world: World) -> None:
    world.overlap = timedelta(0)  # the logical clock ticks a second a write
    for n in range(6):
        world.put(CRM, name=f"Company {n}")
    await world.cycle()
    world.edit(CRM, world.crm.rows(ENTITY)[0]["hs_object_id"], city="Zwolle")  # type: ignore[arg-type]
    pages_before = world.crm.calls["page"]
    await world.cycle()
    # The record at the cursor and the edited one: one page of two, not all six records.
    assert world.crm.calls["page"] - pages_before < 3


async def test_a_lost_create_response_is_looked_up_not_repeated(world: World) -> None:
    crm_id = world.put(CRM, name="Korenaar")  # no KvK: no match key could rescue a duplicate
    world.afas.fail_next("create", OutcomeUnknownError("timed out"), after_write=True)

    first = await world.cycle()

    assert first.counts == {"outcome_unknown": 1}
    assert not first.clean
    pending = await world.store.pending_journal("test", ENTITY)
    assert [j.correlation for j in pending] == [crm_id]
    await world.cycle()
    assert len(world.all(AFAS)) == 1
    assert await world.partner(CRM, crm_id) == world.afas.rows(ENTITY)[0]["DebtorId"]
    assert await world.store.pending_journal("test", ENTITY) == []
    assert EventName.WRITE_RECOVERED in await world.events()


async def test_a_crash_between_write_and_commit_is_settled(world: World) -> None:
    crm_id = world.put(CRM, name="Atlas", city="Delft")
    await world.cycle()
    afas_id = await world.partner(CRM, crm_id)
    world.edit(CRM, crm_id, city="Leiden")
    world.afas.fail_next("update", RuntimeError("killed"), after_write=True)

    with pytest.raises(RuntimeError):
        await world.cycle()

    [journal] = await world.store.pending_journal("test", ENTITY)
    assert journal.target_id == afas_id
    link = (await world.store.links_by_ids("test", ENTITY, CRM, [crm_id]))[crm_id]
    assert link.base["city"] == "Delft"  # the base only moves after a confirmed write
    report = await world.cycle()
    assert report.plan.writes == 0  # both sides already say Leiden: agree, do not re-send
    link = (await world.store.links_by_ids("test", ENTITY, CRM, [crm_id]))[crm_id]
    assert link.base["city"] == "Leiden"
    assert EventName.CYCLE_FAILED in await world.events()


async def test_a_refused_record_is_quarantined_and_the_rest_sync(world: World) -> None:
    bad = world.put(CRM, name="Refused")
    good = world.put(CRM, name="Fine")
    world.afas.fail_next("create", RecordError("Naam is te lang", field="name", reference="LOG1"))

    report = await world.cycle()

    assert report.counts["quarantined"] == 1
    assert report.counts["created_afas"] == 1
    [entry] = await world.store.quarantined("test", ENTITY)
    assert (entry.side, entry.record_id, entry.reference) == (CRM, bad, "LOG1")
    assert "Naam is te lang" in entry.reason
    assert good in {link.crm_id for link in await world.store.get_links("test", ENTITY)}
    # Not retried before its time, then retried and released.
    await world.cycle()
    assert world.afas.calls["create"] == 2
    world.clock.now += timedelta(hours=1)
    await world.cycle()
    assert await world.store.quarantined("test", ENTITY) == []
    assert len(world.all(AFAS)) == 2
    assert EventName.RECORD_RELEASED in await world.events()


async def test_an_unreadable_record_is_quarantined_not_taken_for_deleted(world: World) -> None:
    mapping = load_mapping(Path("mappings/customer.toml"))
    strict = World(world.store, dataclasses.replace(RULES, deletes=DeletePolicy.BLOCK), mapping)
    crm_id = strict.put(CRM, name="Atlas", kvk="27654321")
    await strict.cycle()
    afas_id = await strict.partner(CRM, crm_id)
    strict.afas.edit(ENTITY, afas_id, {mapping.native_name(AFAS, "kvk"): "not a kvk"})

    report = await strict.cycle(full=True)

    assert report.counts == {"quarantined": 1}
    assert strict.crm.is_active(ENTITY, crm_id)
    [entry] = await strict.store.quarantined("test", ENTITY)
    assert (entry.side, entry.record_id, entry.field) == (AFAS, afas_id, "kvk")


async def test_a_failing_side_stops_the_cycle_and_keeps_the_cursor(world: World) -> None:
    crm_id = world.put(CRM, name="Atlas")
    await world.cycle()
    cursor = await world.store.get_cursor("test", ENTITY, CRM)
    world.edit(CRM, crm_id, city="Leiden")
    world.afas.fail_next("update", TransientError("503 Service Unavailable", retry_after=30))

    with pytest.raises(TransientError):
        await world.cycle()

    assert await world.store.get_cursor("test", ENTITY, CRM) == cursor
    assert (await world.cycle()).counts == {"updated_afas": 1}


async def test_deletes_block_the_other_side_when_configured(world: World) -> None:
    world.rules = dataclasses.replace(RULES, deletes=DeletePolicy.BLOCK)
    gone, edited = world.put(CRM, name="Gone"), world.put(CRM, name="Edited")
    world.put(CRM, name="Kept")  # a side that lists nothing at all trips a guard instead
    await world.cycle()
    gone_afas, edited_afas = [await world.partner(CRM, i) for i in (gone, edited)]
    world.crm.remove(ENTITY, gone)
    world.crm.remove(ENTITY, edited)
    world.edit(AFAS, edited_afas, city="Zeist")

    report = await world.cycle(full=True)

    assert report.counts == {"deactivated": 1, "unlinked": 1}
    assert not world.afas.is_active(ENTITY, gone_afas)
    assert world.afas.is_active(ENTITY, edited_afas)  # an edit is never thrown away
    # The survivor is neither synced nor created again.
    world.edit(AFAS, edited_afas, city="Gouda")
    assert (await world.cycle(full=True)).counts == {}
    assert len(world.all(CRM)) == 1


async def test_a_guard_stops_everything_until_accepted(world: World) -> None:
    world.rules = dataclasses.replace(
        RULES,
        deletes=DeletePolicy.BLOCK,
        guards=Guards(max_delete_share=0.3, min_records_for_share=2),
    )
    ids = [world.put(CRM, name=f"C{n}") for n in range(4)]
    await world.cycle()
    for crm_id in ids[:2]:
        world.crm.remove(ENTITY, crm_id)
    before = world.writes()

    report = await world.cycle(full=True)

    assert not report.applied
    assert [f.guard for f in report.plan.findings] == ["delete_share"]
    assert world.writes() == before
    assert EventName.GUARD_TRIPPED in await world.events()
    accepted = await world.cycle(full=True, accept_guards=True)
    assert accepted.counts == {"deactivated": 2}


async def test_an_empty_listing_is_refused(world: World) -> None:
    for n in range(3):
        world.put(CRM, name=f"C{n}")
    await world.cycle()
    for row in world.afas.rows(ENTITY):
        world.afas.remove(ENTITY, str(row["DebtorId"]))

    report = await world.cycle(full=True)

    assert [f.guard for f in report.plan.findings] == ["empty_side"]
    assert len(world.all(CRM)) == 3


async def test_a_dry_run_writes_nothing_anywhere(world: World) -> None:
    world.put(CRM, name="Korenaar")
    world.put(AFAS, name="Moerman")

    report = await world.cycle(dry_run=True)

    assert report.plan.writes == 2
    assert not report.applied
    assert world.writes() == 0
    assert await world.store.events("test") == []
    assert await world.store.get_links("test", ENTITY) == []


async def test_a_manual_conflict_is_recorded_once_and_closed_when_settled(world: World) -> None:
    crm_id = world.put(CRM, name="Atlas")
    await world.cycle()
    afas_id = await world.partner(CRM, crm_id)
    world.edit(CRM, crm_id, name="Atlas Groep")
    world.edit(AFAS, afas_id, name="Atlas B.V.")

    await world.cycle()
    world.edit(CRM, crm_id, city="Delft")  # touches the pair again: same conflict, not a new one
    await world.cycle()

    [conflict] = await world.store.conflicts("test", ENTITY)
    assert (conflict.crm, conflict.afas, conflict.base) == ("Atlas Groep", "Atlas B.V.", "Atlas")
    world.edit(CRM, crm_id, name="Atlas B.V.")
    await world.cycle()
    assert await world.store.conflicts("test", ENTITY) == []
    assert (await world.store.events("test"))[-2].name == EventName.CONFLICT_CLOSED


def directed(**directions: Direction) -> EntityMapping:
    fields = tuple(
        dataclasses.replace(f, direction=directions.get(f.name, f.direction))
        for f in MAPPING.fields
    )
    return dataclasses.replace(MAPPING, fields=fields)


async def test_one_way_and_on_create_fields(store: StateStore) -> None:
    mapping = directed(phone=Direction.TO_CRM, city=Direction.ON_CREATE)
    world = World(store, RULES, mapping)
    crm_id = world.put(CRM, name="Atlas", city="Delft", phone="+31152001234")
    await world.cycle()
    afas_id = await world.partner(CRM, crm_id)
    assert world.fields(AFAS, afas_id)["city"] == "Delft"  # set once, on create
    assert world.fields(AFAS, afas_id)["phone"] is None  # AFAS owns the phone

    world.edit(CRM, crm_id, city="Leiden", phone="+31150000000")
    assert (await world.cycle()).counts == {}  # neither flows from the CRM any more
    world.edit(AFAS, afas_id, phone="+31157777777", city="Gouda")
    assert (await world.cycle()).counts == {"updated_crm": 1}
    assert world.fields(CRM, crm_id)["phone"] == "+31157777777"
    assert world.fields(CRM, crm_id)["city"] == "Leiden"
    assert world.fields(AFAS, afas_id)["city"] == "Gouda"


async def test_a_later_edit_after_a_crash_is_a_change_not_a_conflict(world: World) -> None:
    crm_id = world.put(CRM, name="Atlas", city="Delft")
    await world.cycle()
    afas_id = await world.partner(CRM, crm_id)
    world.edit(CRM, crm_id, city="Leiden")
    world.afas.fail_next("update", RuntimeError("killed"), after_write=True)
    with pytest.raises(RuntimeError):
        await world.cycle()
    world.edit(CRM, crm_id, city="Gouda")  # the user goes on before syncd restarts

    report = await world.cycle()

    assert report.counts == {"updated_afas": 1}  # Leiden landed, so Gouda is a plain change
    assert world.fields(AFAS, afas_id)["city"] == "Gouda"
    assert await world.store.conflicts("test", ENTITY) == []


async def test_an_unreadable_twin_holds_back_the_create(store: StateStore) -> None:
    mapping = load_mapping(Path("mappings/customer.toml"))
    world = World(store, RULES, mapping)
    crm_id = world.put(CRM, name="Atlas", kvk="27654321")
    afas_id = world.put(AFAS, name="Atlas", kvk="27654321")
    world.afas.edit(ENTITY, afas_id, {mapping.native_name(AFAS, "email"): "not an address"})

    report = await world.cycle()

    assert report.counts == {"quarantined": 1, "match_ambiguous": 1}
    assert len(world.afas.rows(ENTITY)) == 1  # the CRM company was not created a second time
    world.afas.edit(ENTITY, afas_id, {mapping.native_name(AFAS, "email"): "info@atlas.nl"})
    world.clock.now += timedelta(hours=1)
    report = await world.cycle()
    assert report.counts["linked"] == 1
    assert await world.partner(CRM, crm_id) == afas_id


async def test_a_batch_lost_halfway_is_settled_without_duplicates(world: World) -> None:
    ids = [world.put(CRM, name=f"C{n}") for n in range(3)]
    world.afas.fail_next("create", OutcomeUnknownError("timed out"))  # the first: not sent
    world.afas.fail_next("create", OutcomeUnknownError("timed out"), after_write=True)

    await world.cycle()
    await world.cycle()
    await world.cycle()

    assert len(world.afas.rows(ENTITY)) == 3
    assert {await world.partner(CRM, i) for i in ids} == {
        str(r["DebtorId"]) for r in world.afas.rows(ENTITY)
    }
    assert await world.store.pending_journal("test", ENTITY) == []


class Rewriting(MemoryGateway):
    """A system that stores names its own way, whatever was written (as automations do)."""

    def __init__(self, side: Side, style: str) -> None:
        super().__init__(side, {ENTITY: MAPPING}, page_size=2)
        self.style = style

    async def update(
        self,
        entity: str,
        record_id: str,
        fields: Mapping[str, Value],
        correlation: str | None = None,
    ) -> Record:
        fields = {
            k: getattr(v, self.style)() if k == "name" and v else v for k, v in fields.items()
        }
        return await super().update(entity, record_id, fields, correlation)


async def test_a_flip_flop_is_held_and_reported_not_ping_ponged(store: StateStore) -> None:
    world = World(store, RULES, MAPPING)
    world.crm, world.afas = Rewriting(CRM, "upper"), Rewriting(AFAS, "title")
    crm_id = world.put(CRM, name="acme", city="Delft")
    await world.cycle()
    world.edit(CRM, crm_id, name="atlas")

    writes = []
    for _ in range(6):
        report = await world.cycle()
        writes.append(report.plan.writes)

    assert writes[-2:] == [0, 0]  # it stopped
    assert sum(writes) <= 4
    [conflict] = await world.store.conflicts("test", ENTITY)
    assert conflict.field == "name"
    assert EventName.FIELD_FLIP_FLOP in await world.events()
    # An edit elsewhere in the record still flows.
    world.edit(CRM, crm_id, city="Leiden")
    assert (await world.cycle()).counts["updated_afas"] == 1


async def test_records_linked_by_a_match_can_get_each_others_keys(world: World) -> None:
    world.rules = dataclasses.replace(RULES, write_correlation_keys=True)
    crm_id = world.put(CRM, name="Atlas", kvk="27654321")
    afas_id = world.put(AFAS, name="Atlas", kvk="27654321")

    report = await world.cycle()

    assert report.counts["linked"] == 1
    assert world.crm.row(ENTITY, crm_id)["afas_debtor_number"] == afas_id
    assert world.afas.row(ENTITY, afas_id)["ExternalKey"] == crm_id
    assert (await world.cycle()).counts == {}  # the key writes echo as nothing


class Watched(MemoryGateway):
    """A memory side whose listings say when they begin and end; a first page can be
    held back until ``release`` is set."""

    def __init__(self, side: Side, log: list[tuple[str, Side] | str]) -> None:
        super().__init__(side, {ENTITY: MAPPING}, page_size=2)
        self.log = log
        self.release: asyncio.Event | None = None

    async def list_all(self, entity: str) -> AsyncIterator[Page]:
        self.log.append(("listing", self.side))
        try:
            if self.release is not None:
                await self.release.wait()
            async for page in super().list_all(entity):
                yield page
        finally:
            self.log.append(("closed", self.side))


async def test_the_sides_are_asked_for_their_pages_before_the_state_store_is_read(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their first requests are on their way while the cycle settles earlier writes."""
    log: list[tuple[str, Side] | str] = []
    settle = recovery.settle_pending

    async def settling(*args: Any) -> set[int]:
        log.append("settling")
        return await settle(*args)

    monkeypatch.setattr(standing_stage, "settle_pending", settling)
    crm, afas = Watched(CRM, log), Watched(AFAS, log)
    crm.put(ENTITY, MAPPING.to_native(CRM, {"name": "Atlas"}))
    conn = Connection("test", {CRM: crm, AFAS: afas}, store, {ENTITY: MAPPING}, RULES)

    report = await run_cycle(conn, ENTITY)

    assert report.counts["created_afas"] == 1
    assert log.index("settling") > max(log.index(("listing", side)) for side in Side)


async def test_a_cycle_that_fails_before_it_reads_the_listings_leaves_none_running(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listings asked for as it began are stopped, the one still waiting for its
    first page too."""
    log: list[tuple[str, Side] | str] = []

    async def settling(*args: Any) -> set[int]:
        raise TransientError("AFAS answered 503 while a lost write was looked up")

    monkeypatch.setattr(standing_stage, "settle_pending", settling)
    crm, afas = Watched(CRM, log), Watched(AFAS, log)
    crm.release = asyncio.Event()  # the CRM's first page has not come when the cycle fails
    conn = Connection("test", {CRM: crm, AFAS: afas}, store, {ENTITY: MAPPING}, RULES)

    with pytest.raises(TransientError, match="503"):
        await run_cycle(conn, ENTITY)

    assert {("closed", CRM), ("closed", AFAS)} <= set(log)
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
