"""A contact's company: one value on both sides, and what waits for it to be linked.

* :mod:`~syncd.engine.references.directory`: a company in CRM ids, through the links of
  the company entities (AFAS: through the organisation);
* :mod:`~syncd.engine.references.gateway`: a side's gateway as a contact cycle sees it;
* :mod:`~syncd.engine.references.waits`: which records wait for their company, kept in
  the state store, and which go once their company is linked.
"""

from __future__ import annotations

from collections.abc import Mapping

from syncd.engine.references.directory import CompanyDirectory
from syncd.engine.references.gateway import ReferencingGateway
from syncd.engine.references.waits import CompanyWaits
from syncd.gateways.base import Gateway
from syncd.mapping import EntityMapping
from syncd.records import Side
from syncd.state.store import StateStore

__all__ = ["following_companies"]


def following_companies(
    store: StateStore,
    connection: str,
    mapping: EntityMapping,
    gateways: Mapping[Side, Gateway],
    *,
    full: bool = False,
) -> tuple[Mapping[Side, Gateway], CompanyWaits | None]:
    """The gateways one cycle of ``mapping``'s entity uses, and its waits: for an entity
    whose records follow a company (contacts), both sides speak of the company in CRM
    ids, and the records of companies not linked wait; for any other, as they are. A
    ``full`` cycle (a sweep) reads the organisations of the company links again."""
    reference = mapping.reference
    if reference is None:
        return gateways, None
    directory = CompanyDirectory(store, connection, reference.refers_to, gateways, sweep=full)
    waits = CompanyWaits(
        store, connection, mapping.entity, reference.name, reference.refers_to, directory
    )
    translated = {
        side: ReferencingGateway(gateway, mapping.entity, reference.name, directory)
        for side, gateway in gateways.items()
    }
    return translated, waits
