"""The command line, as an operator uses it: over a fixture of two in-memory systems."""

from __future__ import annotations

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
    assert run(capsys, "conflicts", *cfg) == (EXIT_CLEAN, "")
    assert run(capsys, "once", *cfg)[0] == EXIT_CLEAN  # nothing left for a person


def test_quarantine_list_retry_and_drop(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = ("--config", str(config))
    systems = config.parent / "systems.json"
    data = json.loads(systems.read_text(encoding="utf-8"))
    data["crm"]["customer"][0]["kvk_number"] = "12"  # not a KvK number
    systems.write_text(json.dumps(data), encoding="utf-8")
    bad = data["crm"]["customer"][0]["hs_object_id"]

    assert run(capsys, "once", *cfg)[0] == EXIT_NOT_CLEAN

    _, out = run(capsys, "quarantine", *cfg)
    assert out.startswith(f"crm:{bad} demo/customer attempts 1")
    assert "kvk" in out
    assert run(capsys, "quarantine", *cfg, "retry", f"crm:{bad}")[1] == f"retry: crm:{bad}\n"
    run(capsys, "once", *cfg)  # retried at once instead of in five minutes
    assert "attempts 2" in run(capsys, "quarantine", *cfg)[1]
    assert run(capsys, "quarantine", *cfg, "drop")[1] == f"drop: crm:{bad}\n"
    assert run(capsys, "quarantine", *cfg) == (EXIT_CLEAN, "")


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
