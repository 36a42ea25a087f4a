"""A hinted cycle (syncd.engine.hints): records named by a hint are read by id and
reconciled as any cycle's changed records; a search index that lags does not hold them
back, and a hint about a record that did not change writes nothing."""

from __future__ import annotations

from syncd.engine.cycle import Connection, run_cycle
from syncd.engine.hints import Hints
from syncd.gateways.fixture import load_fixture
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import KNOWN_ENTITIES, load_mappings
from syncd.policy import SyncRules
from syncd.records import Side
from syncd.state.store import StateStore
from tests.engine.test_cycle import AFAS, CRM, ENTITY, MAPPING, RULES, World
from tests.gateways.contract.gateway_contract import SHIPPED_FIXTURE, SHIPPED_MAPPINGS

CONTACT_MAPPINGS = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)


async def synced_world(store: StateStore) -> tuple[World, str, str]:
    """A linked pair; the CRM's search lags behind its writes from here on."""
    world = World(store, RULES, MAPPING)
    world.crm = MemoryGateway(CRM, {ENTITY: MAPPING}, page_size=2, search_lags=True)
    crm_id = world.put(CRM, name="Atlas", kvk="27654321", city="Delft")
    await world.cycle()
    await world.cycle()  # AFAS, empty at first, has a cursor once it lists its record
    world.crm.catch_up_search()
    return world, crm_id, await world.partner(CRM, crm_id)


def hinted(side: Side, *ids: str) -> dict[Side, frozenset[str]]:
    return {side: frozenset(ids), side.other: frozenset()}


async def test_a_hinted_edit_reaches_afas_before_search_shows_it(store: StateStore) -> None:
    world, crm_id, afas_id = await synced_world(store)
    world.edit(CRM, crm_id, city="Zeist")
    assert (await world.cycle()).counts["updated_afas"] == 0  # search shows the old city

    report = await world.cycle(hinted=hinted(CRM, crm_id))

    assert report.counts["updated_afas"] == 1
    assert world.fields(AFAS, afas_id)["city"] == "Zeist"


async def test_a_hinted_cycle_leaves_the_cursors_where_they_are(store: StateStore) -> None:
    world, crm_id, _ = await synced_world(store)
    before = {side: await store.get_cursor("test", ENTITY, side) for side in Side}
    world.edit(CRM, crm_id, city="Zeist")

    await world.cycle(hinted=hinted(CRM, crm_id))

    assert {side: await store.get_cursor("test", ENTITY, side) for side in Side} == before


async def test_a_hint_about_an_unchanged_record_writes_nothing(store: StateStore) -> None:
    """A forged or repeated hint: the record is at its base, nothing is written."""
    world, crm_id, afas_id = await synced_world(store)
    writes = world.writes()

    for _ in range(2):
        report = await world.cycle(hinted=hinted(CRM, crm_id))
        assert report.plan.writes == 0

    assert world.writes() == writes
    assert world.fields(AFAS, afas_id)["city"] == "Delft"


async def test_a_hint_about_an_unknown_id_writes_nothing(store: StateStore) -> None:
    world, _, _ = await synced_world(store)
    writes = world.writes()

    report = await world.cycle(hinted=hinted(CRM, "999999"))

    assert report.plan.writes == 0
    assert world.writes() == writes


async def test_a_hinted_edit_in_afas_reaches_the_crm(store: StateStore) -> None:
    """The seam is per side: an AFAS source of hints plugs in the same way."""
    world, crm_id, afas_id = await synced_world(store)
    world.edit(AFAS, afas_id, city="Gouda")

    report = await world.cycle(hinted=hinted(AFAS, afas_id))

    assert report.counts["updated_crm"] == 1
    assert world.fields(CRM, crm_id)["city"] == "Gouda"


async def test_a_hint_before_the_first_sync_runs_the_first_sync(store: StateStore) -> None:
    world = World(store, RULES, MAPPING)
    crm_id = world.put(CRM, name="Atlas", kvk="27654321", city="Delft")
    world.put(CRM, name="Baken", kvk="27654322", city="Gouda")

    report = await world.cycle(hinted=hinted(CRM, crm_id))

    assert report.counts["created_afas"] == 2


def test_hints_are_deduplicated_until_taken() -> None:
    hints = Hints()
    lane = hints.lane("test", ENTITY)
    assert hints.add("test", ENTITY, CRM, ["1", "2"])
    assert hints.add("test", ENTITY, CRM, ["2", "1"])
    assert not hints.add("test", "supplier", CRM, ["1"])  # no such lane runs

    assert lane.waiting == 2
    assert lane.take() == {CRM: frozenset({"1", "2"}), AFAS: frozenset()}
    assert lane.waiting == 0


async def test_a_hinted_contact_edit_reaches_afas(store: StateStore) -> None:
    """Contacts follow their company: a hinted contact cycle reads the contact by id and
    writes its partner, as the contact lane's poll would."""
    crm, afas = load_fixture(SHIPPED_FIXTURE, CONTACT_MAPPINGS)
    conn = Connection("c", {CRM: crm, AFAS: afas}, store, CONTACT_MAPPINGS, SyncRules())
    for entity in ("customer", "supplier", "contact", "contact"):
        await run_cycle(conn, entity)
    link = (await store.get_links("c", "contact"))[0]
    mapping = CONTACT_MAPPINGS["contact"]
    crm.edit("contact", link.crm_id, mapping.to_native(CRM, {"first_name": "Annemiek"}))

    report = await run_cycle(conn, "contact", hinted=hinted(CRM, link.crm_id))

    assert report.counts["updated_afas"] == 1
    fields = mapping.to_canonical(AFAS, afas.row("contact", link.afas_id))
    assert fields["first_name"] == "Annemiek"
