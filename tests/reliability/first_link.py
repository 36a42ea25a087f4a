"""The shipped mappings with every field's first link manual, for the campaigns.

A campaign counts a user's edit as lost unless it is on a side or held by an open
conflict. An edit made before its record is first linked (a company users created on
both sides, or one adopted into a second role) may rightly be overwritten by the
field's first_link rule, which the campaigns' check does not model: with ``manual``
such a difference stays a conflict, as the check expects.
"""

from __future__ import annotations

import re
from pathlib import Path

from syncd.mapping import EntityMapping, load_mappings

ROOT = Path(__file__).resolve().parents[2]
_RULE = re.compile(r'^first_link = "\w+"', re.MULTILINE)


def manual_first_link(directory: Path) -> tuple[Path, dict[str, EntityMapping]]:
    """Copies of the shipped mapping files in ``directory``, and the mappings loaded."""
    directory.mkdir(parents=True, exist_ok=True)
    for source in (ROOT / "mappings").glob("*.toml"):
        text = _RULE.sub('first_link = "manual"', source.read_text(encoding="utf-8"))
        (directory / source.name).write_text(text, encoding="utf-8")
    return directory, load_mappings(directory, ["customer", "supplier"])
