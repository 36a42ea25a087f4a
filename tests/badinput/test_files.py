"""Broken configuration and mapping files: every problem named by file, key and fix.

The cases are in ``tests/data/bad/files.toml``. syncd must refuse each file with one
ConfigError listing the problems (never a parser's traceback), each naming the file and
the place in it, and never repeating a secret written into the file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from syncd.config import load_settings
from syncd.errors import ConfigError
from syncd.mapping import load_mapping

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"
CASES = tomllib.loads((BAD / "files.toml").read_text(encoding="utf-8"))["case"]


def load(path: Path) -> None:
    if path.parent.name == "config":
        load_settings(path, env={})
    else:
        load_mapping(path)


def test_every_file_of_the_corpus_has_a_case() -> None:
    files = {str(p.relative_to(BAD)) for d in ("config", "mappings") for p in (BAD / d).iterdir()}
    assert files == {case["file"] for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["file"])
def test_a_broken_file_is_refused_naming_the_place_and_the_fix(case: dict[str, Any]) -> None:
    path = BAD / case["file"]
    with pytest.raises(ConfigError) as caught:
        load(path)
    problems = caught.value.problems
    assert {p.source for p in problems} == {str(path)}
    for expected in case["problem"]:
        messages = [p.message for p in problems if p.key == expected["key"]]
        assert messages, f"no problem at {expected['key']}: {problems}"
        assert any(all(said in m for said in expected["says"]) for m in messages), messages
    if "secret" in case:
        assert case["secret"] not in str(caught.value)
