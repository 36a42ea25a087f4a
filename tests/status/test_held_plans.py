"""A held plan as the page and the CLI show it: totals, then each write's record and its
field changes ``field: old → new``, escaped on the page."""

from __future__ import annotations

from datetime import UTC, datetime

from syncd.engine.held_plan import FieldChange, HeldPlan, PlannedWrite
from syncd.status.held_plans import plan_html, plan_lines
from syncd.status.record_names import HubSpotPages, RecordRef

AT = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)
BLANKING = PlannedWrite(
    "update", "crm", "9001", "10001", "Atlas & <Zn>", (FieldChange("city", "Delft", None),)
)
HELD = HeldPlan(AT, {"update crm": 3}, (BLANKING,))


def test_the_page_shows_totals_and_each_write_escaped() -> None:
    shown = plan_html(HELD, "customer", HubSpotPages())

    assert "held back at 2026-12-08 09:30 UTC would write: update HubSpot 3." in shown
    assert (
        "<tr><td>update HubSpot</td><td>Atlas &amp; &lt;Zn&gt;<br><small>HubSpot 9001, "
        "AFAS debtor 10001</small></td><td>city: Delft → (blank)</td></tr>"
    ) in shown
    assert "and 2 more" in shown
    assert "<Zn>" not in shown


def test_the_cli_shows_the_same_lines() -> None:
    def named(ref: RecordRef) -> str:
        return f"{ref.name} [{ref.crm_id}/{ref.afas_id}]"

    assert plan_lines(HELD, "customer", named) == [
        "  would write: update HubSpot 3 (held back at 2026-12-08 09:30 UTC)",
        "    update HubSpot Atlas & <Zn> [9001/10001]",
        "      city: Delft → (blank)",
        "    and 2 more ('syncd plan' shows them all)",
    ]
