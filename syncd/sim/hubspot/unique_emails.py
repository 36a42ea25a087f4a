"""Which contacts hold an e-mail: what HubSpot's unique contact ``email`` is checked
against (compared without regard to case, as e-mail addresses are)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syncd.sim.hubspot.portal import Company


class EmailHolders:
    """Contact ids by case-folded e-mail, over a portal's records. Entries are only added
    (a write may change an e-mail in place), so each hit is checked again."""

    def __init__(self, records: Mapping[str, Company]) -> None:
        self.records = records
        self._ids: dict[str, set[str]] = {}

    def add(self, record: Company) -> None:
        email = record.properties.get("email")
        if email:
            self._ids.setdefault(email.casefold(), set()).add(record.id)

    def holders(self, email: str) -> list[Company]:
        """Active contacts whose e-mail is ``email``, by ascending id."""
        wanted = email.casefold()
        found = (self.records[i] for i in self._ids.get(wanted, ()))
        return sorted(
            (
                c
                for c in found
                if not c.archived
                and c.merged_into is None
                and c.properties.get("email", "").casefold() == wanted
            ),
            key=lambda c: int(c.id),
        )
