"""A first sync creates the records without a partner while the slower side still lists."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

import pytest

from syncd.engine.actions import Adopt, Create, LinkPair
from syncd.engine.cycle import Connection, run_cycle
from syncd.engine.speed import decide_while_listing
from syncd.errors import AuthError
from syncd.gateways.base import BatchOutcome
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import EntityMapping, load_mappings
from syncd.policy import Guards, SyncRules
from syncd.records import Page, Side, Value
from syncd.sim.companies import companies
from syncd.state.rows import Link
from syncd.state.store import StateStore
from tests.engine.test_first_run import build

MAPPINGS = load_mappings(Path(__file__).resolve().parents[3] / "mappings", ["customer", "supplier"])
ENTITY = "customer"
CRM, AFAS = Side.CRM, Side.AFAS
RULES = SyncRules(guards=Guards(min_records_for_share=100_000))

Event = tuple[str, Side]
WAIT = 5.0  # seconds a listing waits for the first create


class Logged(MemoryGateway):
    """A memory side that logs its pages and creates in one log shared by both sides.

    Its listing, after its ``wait_after``-th page, waits (a few seconds at most) for the
    first create on any side: a network listing takes that long; this one is made to.
    """

    def __init__(
        self,
        side: Side,
        mappings: Mapping[str, EntityMapping],
        log: list[Event],
        page_size: int,
        created: asyncio.Event,
        wait_after: int,
    ) -> None:
        super().__init__(side, mappings, page_size=page_size)
        self.log = log
        self.created = created
        self.wait_after = wait_after
        self.create_seconds = 0.0  # how long a batch of creates takes
        self.page_seconds = 0.0  # how long each page of its listing takes
        self.batches: list[int] = []  # the size of each batch of creates, as they begin

    async def list_all(self, entity: str) -> AsyncIterator[Page]:
        pages = 0
        async for page in super().list_all(entity):
            await asyncio.sleep(self.page_seconds)
            self.log.append(("page", self.side))
            yield page
            pages += 1
            if pages == self.wait_after:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.created.wait(), WAIT)

    async def create_batch(
        self, entity: str, items: Sequence[tuple[Mapping[str, Value], str]]
    ) -> list[BatchOutcome]:
        self.log.append(("create", self.side))
        self.batches.append(len(items))
        self.created.set()
        await asyncio.sleep(self.create_seconds)
        outcomes = await super().create_batch(entity, items)
        self.log.append(("created", self.side))
        return outcomes


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Creates start from five queued on: these tests list tens of records, not 100,000."""
    monkeypatch.setattr(decide_while_listing, "MIN_CHUNK", 5)


def sides(log: list[Event], crm_page: int = 5, wait_after: int = 3) -> tuple[Logged, Logged]:
    created = asyncio.Event()
    return (
        Logged(CRM, MAPPINGS, log, crm_page, created, wait_after),
        Logged(AFAS, MAPPINGS, log, 500, created, wait_after),
    )


def connection(store: StateStore, crm: MemoryGateway, afas: MemoryGateway) -> Connection:
    return Connection("early", {CRM: crm, AFAS: afas}, store, MAPPINGS, RULES)


def created_while_listing(log: list[Event], target: Side) -> bool:
    """A create on ``target`` came before the other side's last page."""
    first_create = log.index(("create", target))
    last_page = max(n for n, event in enumerate(log) if event == ("page", target.other))
    return first_create < last_page


async def test_creates_in_afas_begin_before_the_crm_listing_ends(store: StateStore) -> None:
    log: list[Event] = []
    crm, afas = sides(log)
    pool = [dict(c.fields) for c in companies(60, seed=21)]
    for fields in pool[:10]:  # on both sides
        crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, fields))
        afas.put(ENTITY, MAPPINGS[ENTITY].to_native(AFAS, fields))
    for fields in pool[10:50]:  # in the CRM only: created in AFAS, early
        crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, fields))
    for fields in pool[50:]:  # in AFAS only: created in the CRM once it is listed whole
        afas.put(ENTITY, MAPPINGS[ENTITY].to_native(AFAS, fields))
    conn = connection(store, crm, afas)

    report = await run_cycle(conn, ENTITY)

    assert created_while_listing(log, AFAS)
    assert (report.counts["linked"], report.counts["created_afas"]) == (10, 40)
    assert report.counts["created_crm"] == 10
    assert len(crm.rows(ENTITY)) == len(afas.rows(ENTITY)) == 60
    assert len(await store.get_links("early", ENTITY)) == 60
    again = await run_cycle(conn, ENTITY)
    assert again.plan.writes == 0
    assert not again.counts["created_afas"] + again.counts["created_crm"]


async def test_a_sides_first_creates_go_with_what_there_is(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is being created on AFAS yet: its first creates do not wait for a chunk."""
    monkeypatch.setattr(decide_while_listing, "MIN_CHUNK", 1000)  # far more than this listing holds
    log: list[Event] = []
    crm, afas = sides(log, wait_after=1)
    for company in companies(20, seed=29):  # in the CRM only: created in AFAS, early
        crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, dict(company.fields)))

    report = await run_cycle(connection(store, crm, afas), ENTITY)

    assert created_while_listing(log, AFAS)
    assert report.counts["created_afas"] == 20


async def test_while_creates_come_faster_than_they_go_each_chunk_doubles(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a side's first creates, the next apply waits only for twice as many, not
    for a whole chunk: it begins while the first still runs and the listing goes on,
    and the applies stay few."""
    monkeypatch.setattr(decide_while_listing, "MIN_CHUNK", 1000)  # far more than this listing holds
    log: list[Event] = []
    crm, afas = sides(log, wait_after=1)
    crm.page_seconds = 0.01  # five records to create every 10 ms
    afas.create_seconds = 0.3  # and a batch of creates takes far longer
    for company in companies(80, seed=31):  # in the CRM only: created in AFAS, early
        crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, dict(company.fields)))

    report = await run_cycle(connection(store, crm, afas), ENTITY)

    assert report.counts["created_afas"] == 80
    second = log.index(("create", AFAS), log.index(("create", AFAS)) + 1)
    last_page = max(n for n, event in enumerate(log) if event == ("page", CRM))
    assert second < min(log.index(("created", AFAS)), last_page)
    chunks = afas.batches
    assert 3 <= len(chunks) <= 5  # 5, 10, 20, 40 and the rest at the end, or fewer
    # Each at least twice the one before; the last takes what is left when the listing ends.
    assert all(later >= 2 * earlier for earlier, later in itertools.pairwise(chunks[:-1]))


async def test_creates_in_the_crm_begin_while_those_in_afas_still_run(store: StateStore) -> None:
    log: list[Event] = []
    crm, afas = sides(log)
    afas.create_seconds = 0.2  # AFAS writes one record a request: its creates take long
    pool = [dict(c.fields) for c in companies(90, seed=23)]
    for fields in pool[:60]:  # in the CRM only: created in AFAS, early
        crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, fields))
    for fields in pool[60:]:  # in AFAS only: created in the CRM as soon as it is listed whole
        afas.put(ENTITY, MAPPINGS[ENTITY].to_native(AFAS, fields))
    conn = connection(store, crm, afas)

    report = await run_cycle(conn, ENTITY)

    first_in_crm = log.index(("create", CRM))
    last_in_afas = max(n for n, event in enumerate(log) if event == ("created", AFAS))
    assert first_in_crm < last_in_afas
    assert (report.counts["created_afas"], report.counts["created_crm"]) == (60, 30)
    assert len(await store.get_links("early", ENTITY)) == 90
    again = await run_cycle(conn, ENTITY)
    assert again.plan.writes == 0


async def test_the_rest_of_the_plan_is_applied_while_the_creates_still_run(
    store: StateStore,
) -> None:
    log: list[Event] = []
    crm, afas = sides(log)
    afas.create_seconds = 0.2  # AFAS writes one record a request: its creates take long
    pool = [dict(c.fields) for c in companies(40, seed=29)]
    for fields in pool[:10]:  # on both sides: linked by the plan made after both listings
        crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, fields))
        afas.put(ENTITY, MAPPINGS[ENTITY].to_native(AFAS, fields))
    for fields in pool[10:]:  # in the CRM only: created in AFAS, early
        crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, fields))
    shared = {str(row[MAPPINGS[ENTITY].afas.id]) for row in afas.rows(ENTITY)}
    linked_when: list[int] = []  # per AFAS create, the shared records linked as it ended
    create_batch = afas.create_batch

    async def logging_links(
        entity: str, items: Sequence[tuple[Mapping[str, Value], str]]
    ) -> list[BatchOutcome]:
        outcomes = await create_batch(entity, items)
        links = await store.get_links("early", ENTITY)
        linked_when.append(len({link.afas_id for link in links} & shared))
        return outcomes

    afas.create_batch = logging_links  # type: ignore[method-assign]
    report = await run_cycle(connection(store, crm, afas), ENTITY)

    assert linked_when[-1] == 10  # the last create ended after the pairs were linked
    assert (report.counts["linked"], report.counts["created_afas"]) == (10, 30)
    links = await store.get_links("early", ENTITY)
    assert len(links) == 40
    assert all(link.base["name"] for link in links)  # each pair's agreed base, kept
    again = await run_cycle(connection(store, crm, afas), ENTITY)
    assert again.plan.actions == []


async def test_a_first_sync_looks_up_no_links_of_the_records_it_listed(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    log: list[Event] = []
    crm, afas = sides(log)
    pool = [dict(c.fields) for c in companies(30, seed=31)]
    for fields in pool[:20]:
        crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, fields))
        afas.put(ENTITY, MAPPINGS[ENTITY].to_native(AFAS, fields))
    for fields in pool[20:]:
        crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, fields))
    looked_up: list[str] = []
    links_by_ids = store.links_by_ids

    async def counted(
        connection: str, entity: str, side: Side, ids: Sequence[str]
    ) -> dict[str, Link]:
        looked_up.extend(ids)
        return await links_by_ids(connection, entity, side, ids)

    monkeypatch.setattr(store, "links_by_ids", counted)
    report = await run_cycle(connection(store, crm, afas), ENTITY)

    assert looked_up == []  # nothing was ever linked: 30 + 20 lookups would find nothing
    assert (report.counts["linked"], report.counts["created_afas"]) == (20, 10)


async def test_a_first_sweep_into_an_empty_side_trips_no_guard(store: StateStore) -> None:
    """The records created early are this cycle's own links, not links whose records
    the empty side lost: a first full sweep into an empty AFAS creates them all."""
    log: list[Event] = []
    crm, afas = sides(log)
    for c in companies(20, seed=6):
        crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, dict(c.fields)))
    conn = connection(store, crm, afas)

    report = await run_cycle(conn, ENTITY, full=True)

    assert created_while_listing(log, AFAS)
    assert not report.plan.findings
    assert report.applied
    assert len(afas.rows(ENTITY)) == 20
    assert len(await store.get_links("early", ENTITY)) == 20


@pytest.mark.parametrize("seed", [11, 12])
async def test_the_early_creates_are_the_creates_of_the_whole_plan(
    store: StateStore, seed: int
) -> None:
    """Matches, ambiguities, branches and look-alikes: the same outcome as one plan."""
    log: list[Event] = []
    world = build(seed, size=300)
    crm, afas = sides(log, crm_page=7, wait_after=10)
    for entity in ("customer", "supplier"):
        for gateway, source in ((crm, world.crm), (afas, world.afas)):
            for row in source.rows(entity):
                gateway.put(entity, row)
    twin, unreadable = (dict(c.fields) for c in companies(2, seed=99))
    for name in ("Twin One", "Twin Two"):  # two CRM companies match one debtor: ambiguous
        crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, {**twin, "name": name}))
    afas.put(ENTITY, MAPPINGS[ENTITY].to_native(AFAS, twin))
    crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, unreadable))  # like an unreadable row
    row = MAPPINGS[ENTITY].to_native(AFAS, unreadable)
    afas.put(ENTITY, {**row, MAPPINGS[ENTITY].native_name(AFAS, "postcode"): "no postcode!"})
    conn = connection(store, crm, afas)

    crm.created.set()  # a dry run creates nothing: its listing need not wait
    planned = (await run_cycle(conn, ENTITY, dry_run=True)).plan
    crm.created.clear()
    creates = {(a.target, a.source.id) for a in planned.actions if isinstance(a, Create)}
    pairs = {a.pair for a in planned.actions if isinstance(a, LinkPair | Adopt)}
    ambiguous = sorted((n.side, n.record_id) for n in planned.notes)
    assert creates
    assert pairs
    assert ambiguous

    report = await run_cycle(conn, ENTITY)

    assert created_while_listing(log, AFAS)
    links = {(link.crm_id, link.afas_id) for link in await store.get_links("early", ENTITY)}
    assert pairs <= links
    made = {
        (AFAS, crm_id) if (AFAS, crm_id) in creates else (CRM, afas_id)
        for crm_id, afas_id in links - pairs
    }
    assert made == creates
    assert len(links) == len(pairs) + len(creates)
    noted = sorted((str(n.side), n.record_id) for n in report.plan.notes)
    assert noted == sorted((str(side), record) for side, record in ambiguous)


async def test_an_error_while_creating_early_stops_the_cycle(store: StateStore) -> None:
    log: list[Event] = []
    crm, afas = sides(log)
    for c in companies(30, seed=5):
        crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, dict(c.fields)))
    afas.fail_next("create", AuthError("token refused"))
    conn = connection(store, crm, afas)

    with pytest.raises(AuthError):
        await run_cycle(conn, ENTITY)
    assert ("create", AFAS) in log
    rows = len(afas.rows(ENTITY))
    await asyncio.sleep(0.2)
    assert len(afas.rows(ENTITY)) == rows  # nothing of the failed cycle goes on writing

    afas.clear_faults()
    await run_cycle(conn, ENTITY)
    assert len(afas.rows(ENTITY)) == 30  # each created once
    assert len(await store.get_links("early", ENTITY)) == 30


def contested_late(log: list[Event]) -> tuple[Logged, Logged, list[str]]:
    """A CRM company that matches a debtor on a page decided as it came (its pair found
    then), and a later one that matches the same debtor: the pair is not final."""
    crm, afas = sides(log)
    pool = [dict(c.fields) for c in companies(31, seed=41)]
    for fields in pool[:30]:  # in the CRM only: created early
        crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, fields))
    debtor = pool[30]
    afas.put(ENTITY, MAPPINGS[ENTITY].to_native(AFAS, debtor))
    twins = [{**debtor, "name": f"{debtor['name']} {n}"} for n in (1, 2)]  # same KvK
    first = crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, twins[0]))
    for fields in pool[:5]:  # a page of others between the two
        crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, {**fields, "kvk": None}))
    second = crm.put(ENTITY, MAPPINGS[ENTITY].to_native(CRM, twins[1]))
    return crm, afas, [first, second]


async def test_a_pair_found_early_that_a_later_page_contests_is_matched_with_the_rest(
    store: StateStore,
) -> None:
    log: list[Event] = []
    crm, afas, twins = contested_late(log)
    read: list[list[str]] = []
    read_crm = crm.read

    async def logged_read(entity: str, ids: Sequence[str]) -> Page:
        read.append(sorted(ids))
        return await read_crm(entity, ids)

    crm.read = logged_read  # type: ignore[method-assign]
    report = await run_cycle(connection(store, crm, afas), ENTITY)

    assert created_while_listing(log, AFAS)
    # The listing kept neither (each was in a pair when its page came): read again, at
    # once, to be matched with the rest.
    assert read == [sorted(twins)]
    noted = {(n.side, n.record_id) for n in report.plan.notes}
    assert noted >= {(CRM, twins[0]), (CRM, twins[1])}  # ambiguous: neither is linked
    links = await store.get_links("early", ENTITY)
    assert not {link.crm_id for link in links} & set(twins)


async def test_an_error_reading_a_contested_record_again_stops_the_creates(
    store: StateStore,
) -> None:
    log: list[Event] = []
    crm, afas, _ = contested_late(log)
    afas.create_seconds = 0.1  # the creates still run when the listing ends
    crm.fail_next("read", AuthError("token refused"))

    with pytest.raises(AuthError):
        await run_cycle(connection(store, crm, afas), ENTITY)
    rows = len(afas.rows(ENTITY))
    await asyncio.sleep(0.3)
    assert len(afas.rows(ENTITY)) == rows  # nothing of the failed cycle goes on writing
