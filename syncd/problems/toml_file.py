"""Reading a TOML file: its document, or a problem that says where the file breaks."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from syncd.problems.report import ProblemReport

__all__ = ["read_toml"]

_TOML_WHERE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def read_toml(path: Path, report: ProblemReport) -> dict[str, Any] | None:
    """The parsed file, or None with a problem (unreadable file, invalid TOML)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        report.add("", "file not found; check the path or create the file")
        return None
    except OSError as exc:
        report.add("", f"cannot read the file ({exc.strerror}); check its permissions")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        report.add(
            f"line {line}",
            f"not valid UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
        )
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        report.add(*_toml_problem(str(exc), text))
    return None


def _toml_problem(error: str, text: str) -> tuple[str, str]:
    """Where a TOML syntax error is and what to do about it, as (key, message)."""
    hint = ""
    if text.lstrip().startswith("<"):
        hint = " (this looks like an HTML page: save the raw file, not the web page)"
    where = _TOML_WHERE.search(error)
    if where:
        message = _TOML_WHERE.sub("", error)
        return (
            f"line {where[1]}",
            f"invalid TOML: {message} (column {where[2]}); fix the syntax there{hint}",
        )
    if error.endswith("(at end of document)"):
        message = error.removesuffix("(at end of document)").strip()
        last = text.rstrip("\n").count("\n") + 1
        return (
            f"line {last}",
            f"invalid TOML: {message} at the end of the file; the file ends in the middle "
            "of a statement: was it cut off? Complete it or copy the whole file again",
        )
    return "", f"invalid TOML: {error}; fix the syntax{hint}"
