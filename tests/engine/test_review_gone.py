"""A record held for the match review that is then deleted or blocked on its side stops
waiting: it no longer counts as awaiting review, and cycles stop reading it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from syncd.engine.cycle import Connection, run_cycle
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import load_mappings
from syncd.policy import SyncRules
from syncd.records import Page, Side
from syncd.state.store import open_store
from syncd.status.views import entity_health

MAPPINGS = load_mappings(Path(__file__).resolve().parents[2] / "mappings", ["customer", "supplier"])
CUSTOMER = "customer"
LOOK_ALIKES = {
    Side.CRM: {"name": "Techn. Bureau Jansen", "email": "info@jansen.nl"},
    Side.AFAS: {"name": "Technisch Bureau Jansen B.V.", "email": "post@jansen.nl"},
}


def put(gateway: MemoryGateway, name: str) -> str:
    fields = {**LOOK_ALIKES[gateway.side], "name": name} if name else LOOK_ALIKES[gateway.side]
    return gateway.put(CUSTOMER, MAPPINGS[CUSTOMER].to_native(gateway.side, fields))


@pytest.mark.parametrize(
    ("side", "how"),
    [(Side.AFAS, "deleted"), (Side.AFAS, "blocked"), (Side.CRM, "deleted")],
)
async def test_a_held_record_gone_from_its_side_stops_waiting_and_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, side: Side, how: str
) -> None:
    gateways = {s: MemoryGateway(s, MAPPINGS) for s in Side}
    held = {s: put(gateways[s], "") for s in Side}
    store = await open_store(f"sqlite:///{tmp_path}/state.db")
    try:
        conn = Connection("c", dict(gateways), store, MAPPINGS, SyncRules())
        for _ in range(2):
            await run_cycle(conn, CUSTOMER)
        assert (await entity_health(store, "c", CUSTOMER)).awaiting_review == 2

        gone, other = gateways[side], gateways[side.other]
        if how == "deleted":
            gone.remove(CUSTOMER, held[side])
        else:
            gone.edit(CUSTOMER, held[side], {gone.inactive_field(CUSTOMER): True})
        put(other, "Bakkerij Smit")  # new on the other side: held records are candidates
        report = await run_cycle(conn, CUSTOMER)
        assert report.counts[f"created_{side}"] == 2  # its look-alike is new now, and Smit
        assert (await entity_health(store, "c", CUSTOMER)).awaiting_review == 0

        asked: list[str] = []
        read = gone.read

        async def reading(entity: str, ids: Sequence[str]) -> Page:
            asked.extend(ids)
            return await read(entity, ids)

        monkeypatch.setattr(gone, "read", reading)
        put(other, "Drukkerij Visser")
        await run_cycle(conn, CUSTOMER)
        assert held[side] not in asked
        assert (await entity_health(store, "c", CUSTOMER)).awaiting_review == 0
    finally:
        await store.close()
