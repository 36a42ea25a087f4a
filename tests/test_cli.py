"""The command line, as an operator uses it: over a fixture of two in-memory systems."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from syncd.cli import EXIT_CLEAN, EXIT_ERROR, EXIT_NOT_CLEAN, build_parser, main

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "systems.json"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
data_dir = "data"
[sync]
mappings = "{ROOT / "mappings"}"
[connections.demo]
crm = {{ kind = "memory" }}
afas = {{ kind = "memory" }}
fixture = "systems.json"
""",
        encoding="utf-8",
    )
    shutil.copy(FIXTURE, tmp_path / "systems.json")
    return path


def rows(path: Path, side: str, entity: str) -> list[dict[str, object]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data[side][entity]  # type: ignore[no-any-return]


@pytest.mark.parametrize("command", [[], ["plan"], ["once"]])
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
    assert {"create", "link", "conflict"} <= kinds
    assert plan["writes"] > 0
    assert systems.read_bytes() == before


def test_once_syncs_both_systems_without_duplicates(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    systems = config.parent / "systems.json"
    crm_before = len(rows(systems, "crm", "customer"))
    afas_before = len(rows(systems, "afas", "customer"))

    first = main(["once", "--config", str(config)])
    second = main(["once", "--config", str(config)])

    out = capsys.readouterr().out
    assert first == second == EXIT_NOT_CLEAN  # the planted e-mail conflict waits for a person
    assert "created_afas" in out
    crm, afas = rows(systems, "crm", "customer"), rows(systems, "afas", "customer")
    assert len(crm) > crm_before
    assert len(afas) > afas_before
    # Every active customer on one side has exactly one partner on the other.
    active_afas = [r for r in afas if not r["Blocked"]]
    assert len(crm) == len(active_afas)
    assert out.strip().splitlines()[-2:] == [
        "demo / customer: conflicts 1",
        "demo / supplier: no changes",
    ]


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
