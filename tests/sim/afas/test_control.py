"""The control API under /_sim: seeding, user edits, faults and counts."""

from __future__ import annotations

from typing import Any

from syncd.sim.afas import AfasSimulator
from tests.sim.afas.api import call


async def test_the_control_api_seeds_edits_injects_faults_and_counts(
    http: Any, sim: AfasSimulator
) -> None:
    seed = {
        "afas": {
            "customer": [
                {
                    "DebtorId": "10001",
                    "ModifiedDate": "2025-02-11T14:05:00+01:00",
                    "DebtorName": "Korenaar",
                }
            ]
        }
    }
    status, doc, _ = await call(http, "POST", "../_sim/seed", headers={}, body=seed)
    assert (status, doc) == (200, {"customer": ["10001"]})
    _, rows, _ = await call(http, "GET", "../_sim/rows/customer", headers={})
    assert rows[0]["ModifiedDate"] == "2025-02-11T14:05:00Z"
    edit = {"entity": "customer", "id": "10001", "fields": {"City": "Zeist"}}
    assert (await call(http, "POST", "../_sim/edit", headers={}, body=edit))[0] == 200
    _, rows, _ = await call(http, "GET", "../_sim/rows/customer", headers={})
    assert rows[0]["City"] == "Zeist"
    assert rows[0]["AddressModifiedDate"] > "2025-02-11T14:05:00Z"
    fault = {"kind": "unavailable", "method": "GET", "retry_after": 5}
    assert (await call(http, "POST", "../_sim/faults", headers={}, body=fault))[0] == 200
    status, doc, _ = await call(http, "GET", "connectors/syncd_debtors")
    assert (status, doc["retry_after"]) == (503, 5)
    assert (await call(http, "GET", "connectors/syncd_debtors"))[0] == 200
    _, stats, _ = await call(http, "GET", "../_sim/stats", headers={})
    assert sum(stats["requests"].values()) == 2
    assert (await call(http, "POST", "../_sim/reset", headers={}))[0] == 200
    assert sim.rows("customer") == []


async def test_a_control_request_it_cannot_use_is_a_400(http: Any) -> None:
    status, body, _ = await call(http, "POST", "../_sim/faults", headers={}, body={"kind": "nope"})
    assert status == 400
    assert "unknown fault" in body["error"]
    status, body, _ = await call(http, "POST", "../_sim/faults", headers={}, body={"colour": 1})
    assert status == 400
