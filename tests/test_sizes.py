"""Sizes a person can hold: no module in syncd/ over 600 lines, no class over 300.

A module that outgrows this holds more than one concept; split it by concern (see
docs/architecture.md) rather than raising the limit.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "syncd"
MODULE_LINES = 600
CLASS_LINES = 300


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def test_no_module_is_over_the_limit() -> None:
    too_long = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in _modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MODULE_LINES
    }
    assert not too_long, f"modules over {MODULE_LINES} lines: {too_long}"


def test_no_class_is_over_the_limit() -> None:
    too_long: dict[str, int] = {}
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines > CLASS_LINES:
                    too_long[f"{path.relative_to(PACKAGE.parent)}:{node.name}"] = lines
    assert not too_long, f"classes over {CLASS_LINES} lines: {too_long}"
