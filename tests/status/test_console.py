"""The console: each status event as one line a person reads, naming the record."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from syncd.state.rows import StatusEvent
from syncd.status.console import event_line
from syncd.status.log import StatusLog

AT = datetime(2026, 12, 7, 9, 30, 5, tzinfo=UTC)


def event(kind: str, record: str | None = None, /, **data: Any) -> StatusEvent:
    return StatusEvent("demo", "customer", kind, record=record, data=data, at=AT, id=1)


def line_of(found: StatusEvent) -> str:
    text = event_line(found)
    assert text is not None
    return text.plain


def test_a_change_names_the_company_both_ids_each_field_and_who_decided() -> None:
    change = event(
        "record_changed",
        "10002",
        side="afas",
        name="Van der Linden Installatie",
        crm_id="9000000102",
        afas_id="10002",
        fields={
            "email": {"before": "a@vdl.nl", "after": "b@vdl.nl", "rule": "changed in crm"},
            "phone": {"before": None, "after": "+31201234567", "rule": "changed in crm"},
        },
    )

    line = line_of(change)

    assert "\n" not in line
    assert line.startswith(AT.astimezone().strftime("%H:%M:%S") + "  demo/customer  ")
    assert "changed in afas  Van der Linden Installatie  (crm 9000000102 ⇄ afas 10002)" in line
    assert "email: a@vdl.nl → b@vdl.nl (changed in crm)" in line
    assert "phone: (blank) → +31201234567 (changed in crm)" in line


def test_a_create_names_the_new_record_and_the_one_it_came_from() -> None:
    created = event(
        "record_created",
        "70009",
        side="afas",
        source="9000000002",
        name="Autobedrijf Het Anker",
        fields={"name": "Autobedrijf Het Anker", "city": "Eindhoven"},
    )

    line = line_of(created)

    assert "created in afas  Autobedrijf Het Anker  (crm 9000000002 ⇄ afas 70009)" in line
    assert "Eindhoven" not in line  # the new record's fields are the JSON log's


def test_a_link_names_the_pair_and_why() -> None:
    linked = event(
        "record_linked", "9000000001", afas_id="10001", reason="match on kvk", name="De Groot"
    )

    assert line_of(linked).endswith("linked  De Groot  (crm 9000000001 ⇄ afas 10001)  match on kvk")


def test_a_record_without_a_name_is_named_by_its_ids() -> None:
    held = event("record_quarantined", "10004", side="afas", reason="refused: bad postcode")

    assert line_of(held).endswith("quarantined  afas 10004  refused: bad postcode")


def test_a_conflict_shows_both_values_and_the_base() -> None:
    conflict = event(
        "conflict_opened",
        "9000000102",
        afas_id="10002",
        name="Van der Linden",
        field="email",
        base="a@vdl.nl",
        crm="b@vdl.nl",
        afas="c@vdl.nl",
    )

    line = line_of(conflict)

    assert "conflict  Van der Linden  (crm 9000000102 ⇄ afas 10002)" in line
    assert line.endswith("email: crm b@vdl.nl, afas c@vdl.nl (was a@vdl.nl)")


def test_a_finished_cycle_is_one_summary_line() -> None:
    finished = event(
        "cycle_finished",
        counts={"linked": 12, "updated_afas": 2},
        full=False,
        seconds=0.2,
        requests={"afas": {"used": 14}, "crm": {"used": 5, "daily_budget": 200000}},
    )

    assert line_of(finished).endswith(
        "demo/customer  cycle  linked 12, updated_afas 2 (0.2 s; requests afas 14, crm 5)"
    )


def test_an_incremental_cycle_start_is_left_to_its_summary_a_sweep_is_announced() -> None:
    assert event_line(event("cycle_started", full=False)) is None
    assert "full sweep" in line_of(event("cycle_started", full=True))
    sweep = event("cycle_finished", counts={}, full=True, seconds=3)
    assert line_of(sweep).endswith("cycle  full sweep: no changes (3 s)")


def test_a_hinted_cycle_says_how_many_records_it_looked_at() -> None:
    hinted = event("cycle_finished", counts={"updated_afas": 1}, hinted={"crm": 2}, seconds=1)
    assert line_of(hinted).endswith("cycle  hinted (crm 2): updated_afas 1 (1 s)")


def test_a_tripped_guard_says_what_to_do() -> None:
    tripped = event("guard_tripped", guard="max_delete_share", message="12 of 40 deleted")

    line = line_of(tripped)

    assert "guard tripped  12 of 40 deleted  max_delete_share" in line
    assert "syncd guards confirm" in line


def test_colour_marks_what_needs_a_person() -> None:
    conflict = event_line(event("conflict_opened", "1", field="email"))
    assert conflict is not None
    assert any("red" in str(span.style) for span in conflict.spans)


def test_with_a_console_the_stream_gets_lines_and_the_file_json(tmp_path: Path) -> None:
    stream = io.StringIO()
    log = StatusLog(tmp_path, console=Console(file=stream, soft_wrap=True))
    linked = event("record_linked", "9000000001", afas_id="10001", reason="match", name="Bos")

    log.write([linked])
    log.close()

    assert stream.getvalue().splitlines() == [line_of(linked)]
    (logged,) = (tmp_path / "status.log").read_text(encoding="utf-8").splitlines()
    assert json.loads(logged)["name"] == "Bos"


def test_without_a_console_the_stream_gets_json_lines() -> None:
    stream = io.StringIO()
    log = StatusLog(None, stream)

    log.write([event("record_linked", "9000000001", afas_id="10001", name="Bos")])
    log.close()

    (logged,) = stream.getvalue().splitlines()
    assert json.loads(logged)["event"] == "record_linked"
