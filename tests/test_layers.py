"""Every top-level module and package of syncd has its place in the import contracts of
pyproject.toml: one that is left out has arrows nothing checks."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIMULATORS = "syncd.sim"  # kept apart by a contract of its own


def top_level_modules(package: Path) -> set[str]:
    """``syncd.<name>`` for each module and package directly in ``package``."""
    modules = {f"syncd.{p.stem}" for p in package.glob("*.py") if p.stem != "__init__"}
    packages = {f"syncd.{p.parent.name}" for p in package.glob("*/__init__.py")}
    return modules | packages


def contracts() -> list[dict[str, Any]]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return list(tomllib.load(file)["tool"]["importlinter"]["contracts"])


def layered() -> set[str]:
    """The modules the layers contract names ("a | b": siblings in one layer)."""
    (layers,) = [c for c in contracts() if c["type"] == "layers"]
    return {name.strip() for layer in layers["layers"] for name in layer.split("|")}


def kept_from_the_simulators() -> set[str]:
    """The modules the simulators' contract forbids to import them."""
    (contract,) = [c for c in contracts() if SIMULATORS in c.get("forbidden_modules", ())]
    return set(contract["source_modules"])


def test_every_module_has_a_layer() -> None:
    unplaced = top_level_modules(ROOT / "syncd") - layered() - {SIMULATORS}
    assert not unplaced, f"add these to the layers contract in pyproject.toml: {unplaced}"


def test_only_modules_that_exist_are_named() -> None:
    named = layered() | kept_from_the_simulators()
    assert named <= top_level_modules(ROOT / "syncd")


def test_no_module_but_the_simulators_may_import_them_unchecked() -> None:
    unchecked = top_level_modules(ROOT / "syncd") - kept_from_the_simulators() - {SIMULATORS}
    assert not unchecked, f"add these to the simulators' contract: {unchecked}"


def test_the_modules_are_found() -> None:
    found = top_level_modules(ROOT / "syncd")
    assert {"syncd.cli", "syncd.config", "syncd.records", SIMULATORS} <= found
