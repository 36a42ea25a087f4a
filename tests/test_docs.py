"""The documentation a newcomer reads: a short README, and links and commands that hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from syncd.cli import build_parser
from syncd.events import EventName

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

README_LIMIT = 8_000
"""The project's standard: the README says what syncd is and points into docs/."""

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)
COMMAND = re.compile(r"(?<![\w/-])(?:\S*/)?syncd ([a-z][a-z-]*)")
HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    prose = CODE.sub("", page.read_text(encoding="utf-8"))
    return {anchor(heading) for heading in HEADING.findall(prose)}


def relative_links(page: Path) -> list[str]:
    prose = CODE.sub("", page.read_text(encoding="utf-8"))
    return [t for t in LINK.findall(prose) if not re.match(r"[a-z]+:", t)]


def test_the_readme_is_short() -> None:
    size = len(README.read_text(encoding="utf-8"))
    assert size <= README_LIMIT, f"README.md is {size} characters; move detail into docs/"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_points_at_a_file_and_anchor_that_exist(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        path, _, fragment = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no file {linked.relative_to(ROOT)}")
        elif fragment and fragment not in anchors(linked):
            broken.append(f"{target}: no heading with anchor #{fragment}")
    assert not broken, f"{page.relative_to(ROOT)}: {broken}"


def test_the_readme_links_every_docs_page() -> None:
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in relative_links(README)}
    missing = [p.name for p in PAGES[1:] if p.resolve() not in linked]
    assert not missing, f"docs pages the README's table of contents leaves out: {missing}"


def test_every_command_the_readme_names_is_in_syncd_help() -> None:
    help_text = build_parser().format_help()
    offered = set(re.findall(r"^ {4}([a-z][a-z-]*)", help_text, re.MULTILINE))
    code = " ".join(CODE.findall(README.read_text(encoding="utf-8")))
    named = set(COMMAND.findall(code))
    assert named, "the README names no syncd command"
    assert named <= offered, f"not in syncd --help: {sorted(named - offered)}"


def test_the_operations_page_names_every_status_event() -> None:
    page = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    missing = [name.value for name in EventName if f"`{name.value}`" not in page]
    assert not missing, f"status events docs/operations.md does not name: {missing}"
