"""Contacts whose company is not linked wait: neither matched nor created, and visible.

A contact follows its company. One whose company is not linked as a customer or supplier
(a prospect's contact in HubSpot, the contact of an AFAS organisation that is neither
debtor nor creditor, or one linked to nothing yet) is not created on the other side: it
*waits*, with its reason, in the state store (``syncd status`` counts them by reason).

It goes once its company is linked: every contact cycle looks at the company links made
since its last look (the *link mark*) and reads again the waiting contacts of those
companies, which are then matched or created like any unlinked record. A full sweep
lists everything anyway, and replaces the waiting list with what it found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from syncd.engine.references.directory import (
    UNLINKED_PREFIX,
    CompanyDirectory,
    unlinked_organisation,
)
from syncd.records import Record, Side
from syncd.state.rows import Waiting
from syncd.state.store import StateStore, Transaction

__all__ = ["CompanyWaits", "WaitingRecords", "why_waiting"]

NO_CRM_COMPANY = "it has no primary company in HubSpot"
NO_AFAS_ORGANISATION = "it is at no organisation in AFAS"


def why_waiting(side: Side, company: str | None, linked: bool) -> str | None:
    """Why a record with this canonical company waits, or None if it need not."""
    if company is None:
        return NO_CRM_COMPANY if side is Side.CRM else NO_AFAS_ORGANISATION
    if linked:
        return None
    if company.startswith(UNLINKED_PREFIX):
        return "its organisation is not linked: it has no synced debtor or creditor"
    return "its company is not linked: it is not a synced customer or supplier"


@dataclass
class WaitingRecords:
    """What one cycle found waiting, and what it may stop keeping."""

    waiting: dict[tuple[Side, str], Waiting] = field(default_factory=dict)
    released: dict[Side, set[str]] = field(default_factory=lambda: {s: set() for s in Side})


class CompanyWaits:
    """The waits of one contact cycle: which records wait, which may go now."""

    def __init__(
        self,
        store: StateStore,
        connection: str,
        entity: str,
        company_field: str,
        company_entities: Sequence[str],
        directory: CompanyDirectory,
    ) -> None:
        self._store = store
        self._connection = connection
        self._entity = entity
        self._field = company_field
        self._company_entities = tuple(company_entities)
        self._directory = directory
        self.found = WaitingRecords()
        self._mark: int | None = None

    async def due(self) -> dict[Side, list[str]]:
        """Waiting records whose company was linked since the last look: read them again."""
        mark = await self._store.link_mark(self._connection, self._entity)
        horizon = await self._directory.horizon()  # the links this cycle sees
        self._mark = horizon
        if mark is None:  # a first cycle lists everything: nothing to look back on
            return {side: [] for side in Side}
        after = await self._store.links_after(self._connection, self._company_entities, mark)
        links = [link for link in after if (link.id or 0) <= horizon]
        if not links:
            return {side: [] for side in Side}
        # a waiting AFAS contact reads as its organisation, unlinked (directory.py)
        organisations = await self._directory.organisations_of_links(links)
        companies = {link.crm_id for link in links}
        companies |= {unlinked_organisation(o) for o in organisations}
        waiting = await self._store.waiting(self._connection, self._entity)
        return {
            side: [w.record_id for w in waiting if w.side is side and w.company in companies]
            for side in Side
        }

    async def sort(self, side: Side, records: Iterable[Record]) -> list[Record]:
        """The records that need not wait; the others are noted in :attr:`found`."""
        records = list(records)
        crm_ids = [
            c
            for r in records
            if (c := r.fields.get(self._field)) is not None and not c.startswith(UNLINKED_PREFIX)
        ]
        linked = await self._directory.linked_crm(crm_ids)
        going = []
        for record in records:
            company = record.fields.get(self._field)
            why = why_waiting(side, company, company in linked)
            if why is None:
                going.append(record)
                self.found.released[side].add(record.id)
            else:
                entry = Waiting(self._connection, self._entity, side, record.id, company, why)
                self.found.waiting[(side, record.id)] = entry
        return going

    def release(self, side: Side, record_ids: Iterable[str]) -> None:
        """These records wait no longer (linked, created, or gone)."""
        self.found.released[side].update(record_ids)

    async def save(self, tx: Transaction, *, whole: bool) -> None:
        """Keep what waits; with ``whole`` (a full sweep) forget everything else."""
        if whole:
            await tx.forget_waiting(self._connection, self._entity)
        else:
            for side in Side:
                going = self.found.released[side] - {i for s, i in self.found.waiting if s is side}
                if going:
                    await tx.stop_waiting(self._connection, self._entity, side, sorted(going))
        await tx.hold_waiting(list(self.found.waiting.values()))
        if self._mark is not None:
            await tx.set_link_mark(self._connection, self._entity, self._mark)
