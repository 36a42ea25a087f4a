"""A record that only resembles an unlinked one on the other side waits for a person.

With ``review_first = false`` syncd creates what is new at once; a look-alike on a
``[match] review`` key (a typo, an abbreviation, a move) is not new for sure, so it is
held on both sides, in every cycle, until the match review decides.
"""

from __future__ import annotations

from pathlib import Path

from syncd.engine.cycle import Connection, run_cycle
from syncd.engine.matchplan import count_held_back, parse_reviewed_pairs, to_csv
from syncd.engine.review import apply_match_plan, match_plan
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import load_mappings
from syncd.policy import SyncRules
from syncd.records import Side
from syncd.state.store import open_store
from syncd.status.views import entity_health, health_as_text

MAPPINGS = load_mappings(Path(__file__).resolve().parents[2] / "mappings", ["customer", "supplier"])
CUSTOMER = "customer"


async def test_look_alikes_wait_for_the_review_on_both_sides_then_follow_it(
    tmp_path: Path,
) -> None:
    crm, afas = MemoryGateway(Side.CRM, MAPPINGS), MemoryGateway(Side.AFAS, MAPPINGS)
    mapping = MAPPINGS[CUSTOMER]
    crm.put(
        CUSTOMER,
        mapping.to_native(Side.CRM, {"name": "Techn. Bureau Jansen", "email": "info@jansen.nl"}),
    )
    debtor = afas.put(
        CUSTOMER,
        mapping.to_native(
            Side.AFAS, {"name": "Technisch Bureau Jansen B.V.", "email": "post@jansen.nl"}
        ),
    )
    store = await open_store(f"sqlite:///{tmp_path}/state.db")
    try:
        conn = Connection("c", {Side.CRM: crm, Side.AFAS: afas}, store, MAPPINGS, SyncRules())
        for _ in range(3):
            await run_cycle(conn, CUSTOMER)
            assert (len(crm.rows(CUSTOMER)), len(afas.rows(CUSTOMER))) == (1, 1)
        # edited later, each is held again (an incremental cycle reads the other)
        afas.edit(CUSTOMER, debtor, {"Phone": "+31201234567"})
        await run_cycle(conn, CUSTOMER)
        assert (len(crm.rows(CUSTOMER)), len(afas.rows(CUSTOMER))) == (1, 1)

        health = await entity_health(store, "c", CUSTOMER)
        assert health.awaiting_review == 2
        assert "2 unlinked records held back" in health_as_text([health])
        assert health.as_dict()["awaiting_review"] == 2
        plan = await match_plan(conn, CUSTOMER)
        assert [p.kind for p in plan] == ["review"]
        assert count_held_back(plan) == {Side.CRM: 1, Side.AFAS: 1}

        # the person says they are two companies: each is created on the other side
        kept, declined = parse_reviewed_pairs(to_csv(plan), "plan.csv")
        await apply_match_plan(conn, CUSTOMER, kept, declined)
        for _ in range(2):
            await run_cycle(conn, CUSTOMER)
        assert (len(crm.rows(CUSTOMER)), len(afas.rows(CUSTOMER))) == (2, 2)
        assert (await entity_health(store, "c", CUSTOMER)).awaiting_review == 0
    finally:
        await store.close()
