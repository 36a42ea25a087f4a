"""Contacts whose company is not linked wait: neither matched nor created, and visible.

A contact follows its company. One whose company is not linked as a customer or supplier
(a prospect's contact in HubSpot, the contact of an AFAS organisation that is neither
debtor nor creditor, or one linked to nothing yet) is not created on the other side: it
*waits*, with its reason, in the state store (``syncd status`` counts them by reason).

A linked pair waits the same way when one of its records *moved* to a company that is
not linked (or one whose link a fault held up): the whole pair is held before it is
planned, nothing is written for it on either side, and its base stays as it was, so its
other changes are kept (they describe the person at the new company, and go with the
move).

Either goes once its company is linked: every contact cycle looks at the company links
made since its last look (the *link mark*) and reads again the waiting contacts of those
companies; an unlinked one is then matched or created like any other, a held pair is
reconciled like any other. A full sweep lists everything anyway, and replaces the
waiting list with what it found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from syncd.engine.actions import PairState
from syncd.engine.references.directory import (
    UNLINKED_PREFIX,
    CompanyDirectory,
    company_words,
    unlinked_organisation,
)
from syncd.records import Record, Side
from syncd.state.rows import Waiting
from syncd.state.store import StateStore, Transaction

__all__ = ["CompanyWaits", "WaitingRecords", "why_held", "why_waiting"]

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


def why_held(company: str) -> str:
    """Why a linked pair whose record moved to ``company`` (not linked) waits."""
    return f"moved to {company_words(company)}, not linked yet"


def _moved_to(pair: PairState, side: Side, field_name: str) -> str | None:
    """The company the pair's record on ``side`` moved to since the base, if any. A pair
    with a record gone is not held: it is detached as always."""
    record = pair.on(side)
    if record is None or pair.on(side.other) is None:
        return None
    company = record.fields.get(field_name)
    return company if company not in (None, pair.link.base.get(field_name)) else None


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
        self._due: dict[Side, list[str]] | None = None

    async def due(self) -> dict[Side, list[str]]:
        """Waiting records whose company was linked since the last look: read them again.
        (Asked by the pairs and the match stage: looked up once a cycle.)"""
        if self._due is None:
            self._due = await self._look_back()
        return self._due

    async def _look_back(self) -> dict[Side, list[str]]:
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

    async def hold_moves(self, pairs: Iterable[PairState]) -> list[PairState]:
        """The pairs that may be planned; a pair with a record moved to a company that is
        not linked is held as a whole, and noted in :attr:`found`."""
        pairs = list(pairs)
        moves = [{s: c for s in Side if (c := _moved_to(p, s, self._field))} for p in pairs]
        linked = await self._directory.linked_crm(
            c for m in moves for c in m.values() if not c.startswith(UNLINKED_PREFIX)
        )
        going = []
        for pair, moved in zip(pairs, moves, strict=True):
            held = [(side, c) for side, c in moved.items() if c not in linked]
            if held:
                side, company = held[0]
                record_id = pair.link.id_on(side)
                entry = Waiting(
                    self._connection, self._entity, side, record_id, company, why_held(company)
                )
                self.found.waiting[(side, record_id)] = entry
            else:
                going.append(pair)
                for side in Side:  # it may have been held before
                    self.found.released[side].add(pair.link.id_on(side))
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
