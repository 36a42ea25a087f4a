"""Which contacts hold an e-mail: what HubSpot's unique contact ``email`` is checked
against (compared without regard to case, as e-mail addresses are). A contact holds its
``email`` and its secondary e-mails (``hs_additional_emails``, ";" apart): HubSpot
refuses a create with an address another contact has as a secondary one, naming it."""

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
        for email in held_by(record):
            self._ids.setdefault(email, set()).add(record.id)

    def holders(self, email: str) -> list[Company]:
        """Active contacts whose e-mail is ``email``, by ascending id."""
        wanted = email.casefold()
        found = (self.records[i] for i in self._ids.get(wanted, ()))
        return sorted(
            (c for c in found if not c.archived and c.merged_into is None and wanted in held_by(c)),
            key=lambda c: int(c.id),
        )


def held_by(contact: Company) -> set[str]:
    """The case-folded e-mails a contact holds: its own and its secondary ones."""
    properties = contact.properties
    emails = [
        properties.get("email") or "",
        *(properties.get("hs_additional_emails") or "").split(";"),
    ]
    return {e.strip().casefold() for e in emails if e.strip()}
