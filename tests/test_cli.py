"""The command line, as an operator uses it: over a fixture of two in-memory systems."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import pytest

from syncd.cli import EXIT_CLEAN, EXIT_ERROR, EXIT_NOT_CLEAN, build_parser, main
from tests.config_file import write_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path)


def rows(path: Path, side: str, entity: str) -> list[dict[str, object]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data[side][entity]  # type: ignore[no-any-return]


def plant_conflict(systems: Path) -> None:
    """Users on both sides change Van der Linden's e-mail, linked by the first cycle."""
    data = json.loads(systems.read_text(encoding="utf-8"))
    (crm,) = (r for r in data["crm"]["customer"] if r["hs_object_id"] == "9000000102")
    (afas,) = (r for r in data["afas"]["customer"] if r["DebtorId"] == "10002")
    crm.update(company_email="sales@vdlinden-installatie.nl")
    crm["hs_lastmodifieddate"] = "2026-01-05T09:00:00.000Z"
    afas.update(Email="facturen@vdlinden-installatie.nl", ModifiedDate="2026-01-05T10:00:00+01:00")
    systems.write_text(json.dumps(data), encoding="utf-8")


COMMANDS = [
    "run",
    "plan",
    "once",
    "status",
    "check",
    "log",
    "history",
    "conflicts",
    "quarantine",
    "guards",
    "match",
    "sim",
    "demo",
]


@pytest.mark.parametrize("command", [[], *([c] for c in COMMANDS)])
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args([*command, "--help"])
    assert stop.value.code == 0
    assert "--help" in capsys.readouterr().out


def test_plan_prints_the_plan_and_writes_nothing(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    systems = config.parent / "systems.json"
    before = systems.read_bytes()

    code = main(["plan", "--config", str(config), "--json", "--entity", "customer"])

    assert code == EXIT_CLEAN
    plan = json.loads(capsys.readouterr().out)
    kinds = {a["action"] for a in plan["actions"]}
    assert {"create", "link", "update"} <= kinds
    assert "conflict" not in kinds
    # Van der Linden's e-mail differs: the plan says whose value the first link takes.
    (update,) = (a for a in plan["actions"] if a["action"] == "update" and a["target"] == "afas")
    assert update["afas_id"] == "10002"
    assert update["fields"]["email"] == {
        "before": "administratie@vdlinden-installatie.nl",
        "after": "info@vdlinden-installatie.nl",
        "why": "first link, first_link = crm: the crm value",
    }
    assert plan["writes"] > 0
    assert systems.read_bytes() == before


def test_once_syncs_both_systems_without_duplicates(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    systems = config.parent / "systems.json"
    crm_before = len(rows(systems, "crm", "customer"))
    afas_before = len(rows(systems, "afas", "customer"))

    first = main(["once", "--config", str(config)])
    first_events = json_lines(capsys.readouterr().out)  # not a terminal: JSON lines
    second = main(["once", "--config", str(config)])
    second_events = json_lines(capsys.readouterr().out)

    assert first == second == EXIT_CLEAN  # the differing e-mail was settled by first_link
    assert cycle_counts(first_events)["customer"]["created_afas"] > 0
    crm, afas = rows(systems, "crm", "customer"), rows(systems, "afas", "customer")
    assert len(crm) > crm_before
    assert len(afas) > afas_before
    # Every active customer on one side has exactly one partner on the other.
    active_afas = [r for r in afas if not r["Blocked"]]
    assert len(crm) == len(active_afas)
    assert cycle_counts(second_events) == {"customer": {}, "supplier": {}, "contact": {}}
    contacts = rows(systems, "crm", "contact")
    assert len(contacts) == len({r["email"] for r in contacts}) == 7  # every person, once
    plant_conflict(systems)
    assert main(["once", "--config", str(config)]) == EXIT_NOT_CLEAN  # waits for a person
    conflicted = json_lines(capsys.readouterr().out)
    assert cycle_counts(conflicted)["customer"] == {"conflicts": 1}


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


def cycle_counts(events: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Each entity's finished cycle's counts."""
    return {e["entity"]: e["counts"] for e in events if e["event"] == "cycle_finished"}


def test_once_names_the_records_in_its_events(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    systems = config.parent / "systems.json"
    names = {r["DebtorId"]: r["DebtorName"] for r in rows(systems, "afas", "customer")}

    main(["once", "--config", str(config), "--entity", "customer", "--log-format", "json"])

    events = json_lines(capsys.readouterr().out)
    linked = [e for e in events if e["event"] == "record_linked"]
    assert linked
    assert all(e["name"] == names[e["afas_id"]] for e in linked)
    changed = [e for e in events if e["event"] == "record_changed"]
    assert changed
    assert all(e["crm_id"] and e["afas_id"] and e["name"] for e in changed)
    created = [e for e in events if e["event"] == "record_created"]
    assert created
    assert all(e["name"] == e["fields"]["name"] for e in created)


def test_once_on_the_console_reads_as_lines_with_a_summary_per_cycle(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["once", "--config", str(config), "--log-format", "console"])
    main(["once", "--config", str(config), "--log-format", "console"])

    lines = capsys.readouterr().out.splitlines()
    assert any("linked  " in line and "(crm " in line for line in lines)
    assert [line.split("  ", 1)[1].split(" (")[0] for line in lines[-3:]] == [
        f"demo/{entity}  cycle  no changes" for entity in ("customer", "supplier", "contact")
    ]
    assert not any(line.startswith("{") for line in lines)


def test_a_bad_config_names_the_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[sync]\nconflict = "sometimes"\n', encoding="utf-8")

    assert main(["once", "--config", str(path)]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "sync.conflict" in err
    assert "sometimes" in err


def test_a_missing_fixture_says_what_to_do(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (config.parent / "systems.json").unlink()
    assert main(["once", "--config", str(config)]) == EXIT_ERROR
    assert "copy tests/fixtures/systems.json" in capsys.readouterr().err


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_operator_commands_after_a_cycle(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = ("--config", str(config))
    run(capsys, "once", *cfg)
    plant_conflict(config.parent / "systems.json")
    run(capsys, "once", *cfg)

    code, out = run(capsys, "status", *cfg, "--json")
    health = {h["entity"]: h for h in json.loads(out)}
    assert code == EXIT_CLEAN
    assert health["customer"]["conflicts"] == 1
    assert health["customer"]["linked"] == 7
    assert health["supplier"]["last_outcome"] == "cycle_finished"
    assert run(capsys, "check", *cfg) == (EXIT_CLEAN, "ok\n")

    code, out = run(capsys, "log", *cfg, "--json", "--event", "record_created")
    created = [json.loads(line) for line in out.splitlines()]
    assert created
    assert {e["event"] for e in created} == {"record_created"}

    code, out = run(capsys, "history", *cfg, "9000000102")
    assert "record_linked" in out
    assert "conflict_opened" in out


VAN_DER_LINDEN = "Van der Linden Installatietechniek B.V. (HubSpot 9000000102, AFAS debtor 10002)"


def test_conflicts_name_the_record_and_both_its_ids(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("--config", str(config))
    run(capsys, "once", *cfg)
    plant_conflict(config.parent / "systems.json")
    run(capsys, "once", *cfg)

    _, out = run(capsys, "conflicts", *cfg)
    assert out.startswith(f"#1 demo/customer {VAN_DER_LINDEN} field email: ")
    assert "link" not in out  # the internal link id is for tools: --json
    assert run(capsys, "conflicts", *cfg, "show", "1")[1] == out
    [shown] = json.loads(run(capsys, "conflicts", *cfg, "--json")[1])
    assert shown["name"] == "Van der Linden Installatietechniek B.V."
    assert (shown["crm_id"], shown["afas_id"], shown["field"]) == ("9000000102", "10002", "email")
    assert isinstance(shown["link_id"], int)
    assert shown["hubspot_url"] is None  # the memory CRM has no portal id


def test_status_names_the_records_that_wait_for_a_person(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("--config", str(config))
    run(capsys, "once", *cfg)
    plant_conflict(config.parent / "systems.json")
    run(capsys, "once", *cfg)

    _, out = run(capsys, "status", *cfg)
    # under the connection's header, below its lane
    assert f"\n    conflict #1 on email: {VAN_DER_LINDEN}: crm 'sales@" in out
    health = {h["entity"]: h for h in json.loads(run(capsys, "status", *cfg, "--json")[1])}
    [waiting] = health["customer"]["needs_a_person"]
    assert (waiting["name"], waiting["crm_id"], waiting["afas_id"]) == (
        "Van der Linden Installatietechniek B.V.",
        "9000000102",
        "10002",
    )
    assert isinstance(waiting["link_id"], int)
    assert health["supplier"]["needs_a_person"] == []


def test_history_finds_a_record_by_name_hubspot_id_or_afas_number(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("--config", str(config))
    run(capsys, "once", *cfg)
    plant_conflict(config.parent / "systems.json")
    run(capsys, "once", *cfg)

    outputs = [
        run(capsys, "history", *cfg, wanted)
        for wanted in (
            "van der LINDEN",
            "9000000102",
            "10002",
            "Van der Linden Installatietechniek B.V.",
        )
    ]
    for code, out in outputs:
        assert code == EXIT_CLEAN
        assert out.startswith(f"demo/customer {VAN_DER_LINDEN}\n")
        assert f"record_linked  {VAN_DER_LINDEN}" in out
        assert f"conflict_opened  {VAN_DER_LINDEN}" in out
    assert len({out for _, out in outputs}) == 1
    assert run(capsys, "history", *cfg, "10002", "--entity", "supplier")[0] == EXIT_ERROR


def test_history_of_a_name_several_records_have_lists_them(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("--config", str(config))
    run(capsys, "once", *cfg)

    code, out = run(capsys, "history", *cfg, "b.v.")
    assert code == EXIT_NOT_CLEAN
    head, *listed = out.splitlines()
    assert head.startswith("'b.v.' names ")
    assert "HubSpot id or AFAS number" in head
    assert f"  demo/customer {VAN_DER_LINDEN}" in listed
    assert any(line.startswith("  demo/supplier ") and "AFAS creditor" in line for line in listed)
    assert "record_linked" not in out

    code, out = run(capsys, "history", *cfg, "Anouk")  # a contact, by first name
    assert code == EXIT_CLEAN
    assert out.startswith("demo/contact Anouk van der Berg (HubSpot 9000000501, AFAS contact ")


def test_history_of_nothing_known_says_what_to_give(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "once", "--config", str(config))
    assert main(["history", "--config", str(config), "Nobody Here"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "no record is called or has the id 'Nobody Here'" in err
    assert "a HubSpot id or an AFAS number" in err


def test_the_log_names_each_record(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = ("--config", str(config))
    run(capsys, "once", *cfg)
    plant_conflict(config.parent / "systems.json")
    run(capsys, "once", *cfg)

    _, out = run(capsys, "log", *cfg, "--event", "conflict_opened")
    assert f"conflict_opened  {VAN_DER_LINDEN}" in out
    _, out = run(capsys, "log", *cfg, "--event", "record_created", "--entity", "contact")
    lines = out.splitlines()
    assert lines
    assert all("AFAS contact " in line and "HubSpot " in line for line in lines)
    assert not any("unnamed" in line for line in lines)
    [logged] = [
        json.loads(line)
        for line in run(capsys, "log", *cfg, "--json", "--event", "conflict_opened")[1].splitlines()
    ]
    assert logged["record"] == "9000000102"  # as logged: ids, for tools


def test_guards_name_the_records_a_tripped_guard_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guarded = "{ min_records_for_share = 1, max_delete_share = 0.1 }"
    config = write_config(tmp_path, sync={"guards": guarded})
    cfg = ("--config", str(config))
    run(capsys, "once", *cfg)
    systems = config.parent / "systems.json"
    data = json.loads(systems.read_text(encoding="utf-8"))
    gone = {"9000000101", "9000000102"}  # deleted in HubSpot: a mass delete for this guard
    data["crm"]["customer"] = [r for r in data["crm"]["customer"] if r["hs_object_id"] not in gone]
    systems.write_text(json.dumps(data), encoding="utf-8")
    assert run(capsys, "once", "--full", *cfg)[0] == EXIT_NOT_CLEAN

    code, out = run(capsys, "guards", *cfg)

    assert code == EXIT_NOT_CLEAN
    lines = out.splitlines()
    assert lines[0].startswith("demo/customer: tripped delete_share: 2 of 7 linked")
    assert sorted(lines[1:3]) == [
        "  Bakkerij De Korenaar B.V. (HubSpot 9000000101, AFAS debtor 10001)",
        f"  {VAN_DER_LINDEN}",
    ]


def test_resolving_a_conflict_writes_both_sides(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("--config", str(config))
    systems = config.parent / "systems.json"
    run(capsys, "once", *cfg)
    plant_conflict(systems)
    run(capsys, "once", *cfg)
    code, out = run(capsys, "conflicts", *cfg)
    assert out.startswith("#1 demo/customer")
    assert "field email" in out

    code, out = run(capsys, "conflicts", *cfg, "resolve", "1", "--take", "afas")

    assert code == EXIT_CLEAN
    assert "wrote crm" in out
    crm = {r["hs_object_id"]: r for r in rows(systems, "crm", "customer")}
    assert crm["9000000102"]["company_email"] == "facturen@vdlinden-installatie.nl"
    assert run(capsys, "conflicts", *cfg) == (EXIT_CLEAN, "no open conflicts\n")
    assert run(capsys, "once", *cfg)[0] == EXIT_CLEAN  # nothing left for a person


def plant_second_conflict(systems: Path) -> None:
    """Users on both sides change Drukkerij Atlas's e-mail too."""
    data = json.loads(systems.read_text(encoding="utf-8"))
    (crm,) = (r for r in data["crm"]["customer"] if r["hs_object_id"] == "9000000105")
    (afas,) = (r for r in data["afas"]["customer"] if r["DebtorId"] == "10005")
    crm.update(company_email="drukwerk@drukkerij-atlas.nl")
    crm["hs_lastmodifieddate"] = "2026-01-05T09:00:00.000Z"
    afas.update(Email="debiteuren@drukkerij-atlas.nl", ModifiedDate="2026-01-05T10:00:00+01:00")
    systems.write_text(json.dumps(data), encoding="utf-8")


def test_resolving_conflicts_in_bulk_by_a_filter(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("--config", str(config))
    systems = config.parent / "systems.json"
    run(capsys, "once", *cfg)
    plant_conflict(systems)
    plant_second_conflict(systems)
    run(capsys, "once", *cfg)
    before = systems.read_text(encoding="utf-8")
    resolve = ("conflicts", *cfg, "resolve", "--take", "afas")

    code, out = run(capsys, *resolve, "--search", "LINDEN", "--dry-run")

    assert code == EXIT_CLEAN
    heading, *lines = out.splitlines()
    assert heading == "dry run: 1 conflict would be resolved; nothing written"
    assert len(lines) == 1
    assert "Van der Linden" in lines[0]
    assert "crm 9000000102, afas 10002" in lines[0]
    assert "field email" in lines[0]
    assert systems.read_text(encoding="utf-8") == before
    assert len(run(capsys, "conflicts", *cfg)[1].splitlines()) == 2

    code, out = run(capsys, *resolve, "--field", "email", "--older-than", "1m")
    assert (code, out) == (EXIT_CLEAN, "no open conflict matches\n")  # both just opened

    code, out = run(capsys, *resolve, "--field", "email")

    assert code == EXIT_CLEAN
    assert [line.split(" ", 2)[:2] for line in out.splitlines()] == [
        ["resolved", "#1"],
        ["resolved", "#2"],
    ]
    crm = {r["hs_object_id"]: r for r in rows(systems, "crm", "customer")}
    assert crm["9000000102"]["company_email"] == "facturen@vdlinden-installatie.nl"
    assert crm["9000000105"]["company_email"] == "debiteuren@drukkerij-atlas.nl"
    _, out = run(capsys, "log", *cfg, "--json", "--event", "conflict_closed")
    closed = [json.loads(line) for line in out.splitlines()]
    assert sorted(e["record"] for e in closed) == ["9000000102", "9000000105"]
    assert {e["by"] for e in closed} == {getpass.getuser()}
    _, out = run(capsys, "log", *cfg, "--event", "conflict_closed")  # as a person reads it
    assert all(f"by={getpass.getuser()}" in line for line in out.splitlines())


def test_a_bulk_action_without_a_filter_is_refused(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("--config", str(config))
    systems = config.parent / "systems.json"
    run(capsys, "once", *cfg)
    plant_conflict(systems)
    run(capsys, "once", *cfg)

    for argv in (["resolve", "--take", "crm"], ["resolve", "--take", "crm", "--dry-run"]):
        assert main(["conflicts", *cfg, *argv]) == EXIT_ERROR
        assert "--all" in capsys.readouterr().err
    both = ["resolve", "1", "--field", "email", "--take", "crm"]
    assert main(["conflicts", *cfg, *both]) == EXIT_ERROR
    assert "a conflict ID or filters, not both" in capsys.readouterr().err
    assert len(run(capsys, "conflicts", *cfg)[1].splitlines()) == 1

    code, out = run(capsys, "conflicts", *cfg, "resolve", "--all", "--take", "crm", "--dry-run")
    assert code == EXIT_CLEAN
    assert out.startswith("dry run: 1 conflict would be resolved")


def test_quarantine_list_retry_and_drop(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = ("--config", str(config))
    systems = config.parent / "systems.json"
    data = json.loads(systems.read_text(encoding="utf-8"))
    data["crm"]["customer"][0]["kvk_number"] = "12"  # not a KvK number
    systems.write_text(json.dumps(data), encoding="utf-8")
    bad = data["crm"]["customer"][0]["hs_object_id"]

    assert run(capsys, "once", *cfg)[0] == EXIT_NOT_CLEAN

    _, out = run(capsys, "quarantine", *cfg)
    # named by what could be read of it: it is linked to nothing in AFAS yet
    named = f"crm:{bad} demo/customer Bakkerij De Korenaar B.V. (HubSpot {bad}) attempts 1"
    assert out.startswith(named)
    assert "kvk" in out
    assert run(capsys, "quarantine", *cfg, "retry", f"crm:{bad}")[1] == f"retry: crm:{bad}\n"
    run(capsys, "once", *cfg)  # retried at once instead of in five minutes
    assert "attempts 2" in run(capsys, "quarantine", *cfg)[1]
    code, out = run(capsys, "history", *cfg, bad)  # linked to nothing: its events by id
    assert code == EXIT_CLEAN
    assert f"record_quarantined  Bakkerij De Korenaar B.V. (HubSpot {bad})" in out
    assert main(["quarantine", *cfg, "drop"]) == EXIT_ERROR  # every one? only if told so
    assert "--all" in capsys.readouterr().err
    assert run(capsys, "quarantine", *cfg, "drop", "--all")[1] == f"drop: crm:{bad}\n"
    assert run(capsys, "quarantine", *cfg) == (EXIT_CLEAN, "no quarantined records\n")


def test_quarantine_retry_and_drop_by_a_filter(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("--config", str(config))
    systems = config.parent / "systems.json"
    data = json.loads(systems.read_text(encoding="utf-8"))
    for row in data["crm"]["customer"][:2]:
        row["kvk_number"] = "12"  # not a KvK number
    systems.write_text(json.dumps(data), encoding="utf-8")
    first, second = (r["hs_object_id"] for r in data["crm"]["customer"][:2])
    run(capsys, "once", *cfg)

    code, out = run(capsys, "quarantine", *cfg, "drop", "--search", "korenaar", "--dry-run")

    assert code == EXIT_CLEAN
    assert out.splitlines()[0] == "dry run: 1 record would be dropped; nothing written"
    assert out.splitlines()[1].startswith(f"  crm:{first} demo/customer: ")
    assert len(run(capsys, "quarantine", *cfg)[1].splitlines()) == 2

    code, out = run(capsys, "quarantine", *cfg, "retry", "--side", "crm", "--entity", "customer")
    assert out == f"retry: crm:{first}\nretry: crm:{second}\n"
    _, out = run(capsys, "log", *cfg, "--json", "--event", "retry_requested")
    asked = [json.loads(line) for line in out.splitlines()]
    me = getpass.getuser()
    assert [(e["record"], e["by"]) for e in asked] == [(first, me), (second, me)]

    assert (
        run(capsys, "quarantine", *cfg, "drop", "--search", "korenaar")[1] == f"drop: crm:{first}\n"
    )
    assert run(capsys, "quarantine", *cfg)[1].startswith(f"crm:{second} ")


def test_match_plan_and_apply_through_the_cli(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("--config", str(config))
    plan = config.parent / "matches.csv"

    code, out = run(capsys, "match", *cfg, "--plan", str(plan))

    assert code == EXIT_CLEAN
    assert "3 confident" in out  # Korenaar, Van der Linden and Atlas share KvK numbers
    rows = plan.read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("keep,kind,score,crm_id,afas_id")
    assert run(capsys, "match", *cfg, "--apply", str(plan))[1] == "linked 3, already linked 0\n"
    assert run(capsys, "match", *cfg, "--apply", str(plan))[1] == "linked 0, already linked 3\n"
    plan.write_text(rows[0] + "\nmaybe,auto,1.00,1,2,,,,\n", encoding="utf-8")
    assert main(["match", *cfg, "--apply", str(plan)]) == EXIT_ERROR
    assert "keep must be yes or no" in capsys.readouterr().err


def test_sim_serves_until_stopped(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sim = subprocess.Popen(
        [sys.executable, "-m", "syncd.cli", "sim", "hubspot", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/crm/v3/objects/companies"
        request = urllib.request.Request(url, headers={"Authorization": "Bearer anything"})
        for _ in range(100):
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    assert response.status == 200
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        else:
            raise AssertionError("the simulator never answered")
    finally:
        sim.terminate()
        sim.wait(timeout=10)
