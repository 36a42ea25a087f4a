"""Which company rows of an in-memory AFAS side are at which organisation.

A company row (a debtor, a creditor) is at the organisation its ``organisation`` field
(the mapping's ``[afas]``) names; a row without one, as in fixtures, is at an
organisation numbered as the row itself, so a contact row's ``"OrganisationId":
"10001"`` is at debtor 10001. The CRM side has no organisations.
"""

from __future__ import annotations

from collections.abc import Sequence

from syncd.gateways.native_tables import NativeRow, NativeTables
from syncd.records import Side

__all__ = ["MemoryOrganisations"]


class MemoryOrganisations:
    """The :class:`~syncd.gateways.base.OrganisationGateway` part of
    :class:`~syncd.gateways.memory.MemoryGateway`, over its side and rows."""

    _side: Side
    _tables: NativeTables
    _organisations_seen: dict[str, dict[str, str | None]]

    async def organisations_of(self, entity: str, ids: Sequence[str]) -> dict[str, str]:
        """Per record of the company entity ``entity`` among ``ids``, its organisation."""
        table = self._company_table(entity)
        return {i: self._organisation(entity, table[i]) for i in dict.fromkeys(ids) if i in table}

    def organisations_seen(self, entity: str) -> dict[str, str | None]:
        """The organisation each record of ``entity`` read since the last call showed."""
        self._company_table(entity)
        return self._organisations_seen.pop(entity, {})

    def _note_organisation(self, entity: str, row: NativeRow) -> None:
        """A company row was read: what it shows is handed out by :meth:`organisations_seen`."""
        spec = self._tables.spec(entity)
        self._organisations_seen.setdefault(entity, {})[str(row[spec.id])] = self._organisation(
            entity, row
        )

    def _company_table(self, entity: str) -> dict[str, NativeRow]:
        if self._side is not Side.AFAS:
            raise ValueError(f"organisations are AFAS's; the {self._side} side has none")
        return self._tables.table(entity)

    def _organisation(self, entity: str, row: NativeRow) -> str:
        """The organisation a company row is at: its own field, else one numbered as it."""
        spec = self._tables.spec(entity)
        number = row.get(spec.options.get("organisation") or spec.id)
        return str(row[spec.id]) if number in (None, "") else str(number)
