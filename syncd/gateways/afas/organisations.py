"""The organisation each debtor and creditor showed when it was last read.

A relation's row shows the number of its organisation (the mapping's ``organisation``
field). Profit can move a relation to another organisation: merging two organisations
moves the debtor or creditor of the one merged away to the other. So what a row showed
is noted whenever one is read, whatever read it (a company cycle's changes, a sweep, a
read before writing), and handed out once to whoever keeps it (the contact cycle's
company directory, engine/references/directory.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["SeenOrganisations", "organisation_number"]


class SeenOrganisations:
    """Per company entity, the organisation of each relation read since last taken."""

    def __init__(self) -> None:
        self._seen: dict[str, dict[str, str | None]] = {}

    def note(self, entity: str, key: str, field: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """The organisation each row (its ``key``) shows in ``field``, blocked ones too."""
        seen = self._seen.setdefault(entity, {})
        for row in rows:
            seen[str(row[key])] = organisation_number(row.get(field))

    def take(self, entity: str) -> dict[str, str | None]:
        """What was seen of ``entity``'s relations since the last take (None: at none)."""
        return self._seen.pop(entity, {})


def organisation_number(value: object) -> str | None:
    """An organisation number as a GetConnector shows it; None when it shows none."""
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        return None
    return str(value)
