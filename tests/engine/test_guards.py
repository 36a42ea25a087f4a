"""Safety guards end to end: nothing is written, status shows it until an operator confirms.

A side whose GetConnector suddenly lists nothing, a mapping change that would blank a
field everywhere, a mass delete: each stops the plan, every cycle logs ``guard_tripped``
and ``syncd status`` keeps showing it, until an operator confirms (or the cause goes
away). A confirmation lets one plan of that size through, no bigger one, and is used up.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from syncd.cli import EXIT_CLEAN, EXIT_NOT_CLEAN, main
from syncd.engine import guards
from syncd.engine.cycle import Connection, CycleReport, run_cycle
from syncd.events import EventName
from syncd.gateways.base import Gateway
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import EntityMapping, load_mapping
from syncd.policy import DeletePolicy, Guards, SyncRules
from syncd.records import Side, Value
from syncd.state.store import StateStore
from syncd.status.views import entity_health, health_as_text
from tests.gateways.afas.helpers import gateway, served, simulator

CRM, AFAS = Side.CRM, Side.AFAS
ENTITY = "customer"
DATA = Path(__file__).parent / "data" / "stateful_customer.toml"
MAPPING = load_mapping(DATA)
RULES = SyncRules(
    deletes=DeletePolicy.BLOCK,
    blank_overwrites=True,
    guards=Guards(max_delete_share=0.3, max_blank_share=0.3, min_records_for_share=4),
)
ROOT = Path(__file__).resolve().parents[2]


class Systems:
    """A memory CRM and an AFAS side (memory, or the simulator behind the real gateway)."""

    def __init__(
        self, store: StateStore, afas: Gateway | None = None, mapping: EntityMapping = MAPPING
    ) -> None:
        self.store = store
        self.mapping = mapping
        self.crm = MemoryGateway(CRM, {ENTITY: mapping})
        self.memory_afas = MemoryGateway(AFAS, {ENTITY: mapping})
        self.afas: Gateway = afas or self.memory_afas

    async def cycle(self, *, full: bool = True) -> CycleReport:
        conn = Connection(
            "test", {CRM: self.crm, AFAS: self.afas}, self.store, {ENTITY: self.mapping}, RULES
        )
        return await run_cycle(conn, ENTITY, full=full)

    def companies(self, count: int, **more: Value) -> list[str]:
        return [
            self.crm.put(
                ENTITY,
                self.mapping.to_native(CRM, {"name": f"Firma {n}", "city": "Delft", **more}),
            )
            for n in range(count)
        ]

    async def linked_then_deleted(self, count: int, deleted: int) -> list[str]:
        """``count`` companies linked by a cycle, then the first ``deleted`` of them
        deleted in the CRM; their CRM ids."""
        ids = self.companies(count)
        await self.cycle()
        for crm_id in ids[:deleted]:
            self.crm.remove(ENTITY, crm_id)
        return ids

    def remap(self, mapping: EntityMapping) -> None:
        self.mapping = mapping
        for memory in (self.crm, self.memory_afas):
            memory.remap(ENTITY, mapping)

    def writes(self) -> int:
        ops = ("create", "update", "deactivate")
        return sum(g.calls[op] for g in (self.crm, self.memory_afas) for op in ops)

    async def status(self) -> str:
        return health_as_text([await entity_health(self.store, "test", ENTITY)])

    async def events(self, name: EventName) -> int:
        return len(await self.store.events("test", names=[name]))


async def test_a_mass_delete_waits_for_a_confirmation(store: StateStore) -> None:
    systems = Systems(store)
    await systems.linked_then_deleted(6, 3)
    before = systems.writes()

    for _ in range(2):  # however many cycles run, nothing is written and status says why
        report = await systems.cycle()
        assert not report.applied
        assert systems.writes() == before
        assert "guard_tripped" in await systems.status()
        assert "3 of 6 linked customer records are gone" in await systems.status()
    assert await systems.events(EventName.GUARD_TRIPPED) == 2

    confirmed = await guards.confirm(store, "test", ENTITY, by="ops")

    assert [(t.guard, t.count) for t in confirmed] == [("delete_share", 3)]
    report = await systems.cycle()
    assert report.applied
    assert report.counts["deactivated"] == 3
    assert "ok" in await systems.status()


async def test_a_confirmation_covers_no_bigger_plan_and_is_used_up(store: StateStore) -> None:
    systems = Systems(store)
    ids = systems.companies(10)
    await systems.cycle()
    for crm_id in ids[:4]:
        systems.crm.remove(ENTITY, crm_id)
    await systems.cycle()
    await guards.confirm(store, "test", ENTITY)
    systems.crm.remove(ENTITY, ids[4])  # meanwhile, one more is gone: 5, not the 4 confirmed

    assert not (await systems.cycle()).applied
    assert await guards.read_trips(store, "test", ENTITY) != []

    await guards.confirm(store, "test", ENTITY)
    assert (await systems.cycle()).counts["deactivated"] == 5
    for crm_id in ids[5:9]:  # a new mass delete after that needs a new confirmation
        systems.crm.remove(ENTITY, crm_id)
    assert not (await systems.cycle()).applied
    assert await guards.read_confirmation(store, "test", ENTITY) == {}


async def test_a_mapping_change_that_blanks_a_field_everywhere_is_held(
    store: StateStore, tmp_path: Path
) -> None:
    systems = Systems(store)
    systems.memory_afas.put(ENTITY, MAPPING.to_native(AFAS, {"name": "Eerste", "city": "Delft"}))
    systems.companies(5)
    await systems.cycle()
    assert all(row["city"] == "Delft" for row in systems.crm.rows(ENTITY))
    # Someone points the AFAS city at a field the connector does not have.
    broken = tmp_path / "customer.toml"
    broken.write_text(DATA.read_text().replace('afas = "City"', 'afas = "Town"'))
    systems.remap(load_mapping(broken))
    before = systems.writes()

    report = await systems.cycle()

    assert [f.guard for f in report.plan.findings] == ["blank_share"]
    assert systems.writes() == before
    assert all(row["city"] == "Delft" for row in systems.crm.rows(ENTITY))
    assert "filled field blanked" in await systems.status()
    systems.remap(MAPPING)  # the mapping is put right: no confirmation needed
    assert (await systems.cycle()).applied
    assert "ok" in await systems.status()


@pytest.fixture
async def on_the_afas_simulator(store: StateStore) -> AsyncIterator[tuple[Systems, Any]]:
    sim = simulator()
    shipped = load_mapping(ROOT / "mappings" / "customer.toml")
    async with served(sim) as url:
        afas = gateway(url, {ENTITY: shipped})
        yield Systems(store, afas, shipped), sim
        await afas.aclose()


async def test_a_get_connector_that_suddenly_lists_nothing_is_refused(
    on_the_afas_simulator: tuple[Systems, Any],
) -> None:
    systems, sim = on_the_afas_simulator
    systems.companies(3, country="NL")
    await systems.cycle()
    relations = sim.data.relations[ENTITY]
    saved = dict(relations)
    assert len(saved) == 3  # created in AFAS by the first cycle
    relations.clear()  # the GetConnector now answers with no rows at all
    crm_before = systems.crm.rows(ENTITY)

    for _ in range(2):
        report = await systems.cycle()
        assert [f.guard for f in report.plan.findings] == ["empty_side"]
        assert systems.crm.rows(ENTITY) == crm_before
        assert "afas listed no customer records, but 3 are linked" in await systems.status()

    relations.update(saved)  # the connector is repaired
    assert (await systems.cycle()).applied
    assert await guards.read_trips(systems.store, "test", ENTITY) == []


def test_guards_list_and_confirm_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'data_dir = "data"\n[sync]\nmappings = "{ROOT / "mappings"}"\n'
        '[connections.demo]\ncrm = { kind = "memory" }\nafas = { kind = "memory" }\n'
        'fixture = "systems.json"\n',
        encoding="utf-8",
    )
    systems = tmp_path / "systems.json"
    shutil.copy(ROOT / "tests" / "fixtures" / "systems.json", systems)
    main(["once", "--config", str(config)])  # links them (the fixture holds a conflict)
    data = json.loads(systems.read_text(encoding="utf-8"))
    data["afas"]["customer"] = []  # AFAS suddenly lists no customers
    systems.write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()

    console = ("--log-format", "console")
    assert main(["once", "--full", "--config", str(config), *console]) == EXIT_NOT_CLEAN
    (tripped,) = (x for x in capsys.readouterr().out.splitlines() if "guard tripped" in x)
    assert "demo/customer  guard tripped  afas listed no customer records" in tripped
    assert "syncd guards confirm" in tripped
    assert main(["status", "--config", str(config)]) == EXIT_NOT_CLEAN
    assert "demo/customer: guard_tripped" in capsys.readouterr().out
    assert main(["guards", "--config", str(config)]) == EXIT_NOT_CLEAN
    listed = capsys.readouterr().out
    assert "demo/customer: tripped empty_side: afas listed no customer records" in listed
    assert "demo/supplier" not in listed
    linked = int(re.search(r"but (\d+) are linked", listed).group(1))  # type: ignore[union-attr]
    assert f"  would write: unlink (gone from AFAS) {linked} (held back at " in listed
    assert re.search(
        r"\n    unlink \(gone from AFAS\) .+ \(HubSpot \d+, AFAS debtor \d+\)\n", listed
    )

    assert main(["guards", "confirm", "--config", str(config)]) == EXIT_CLEAN
    assert "demo/customer: confirmed empty_side" in capsys.readouterr().out
    main(["once", "--full", "--config", str(config), *console])
    (summary,) = (x for x in capsys.readouterr().out.splitlines() if "customer  cycle  " in x)
    assert f"unlinked {linked}" in summary  # what was confirmed
    assert main(["guards", "--config", str(config)]) == EXIT_CLEAN
    assert "no guard has tripped" in capsys.readouterr().out
