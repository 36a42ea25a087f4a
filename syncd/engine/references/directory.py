"""Which company a contact is at, in words both sides share: the CRM company's id.

A HubSpot contact names its primary company by the company's id; an AFAS contact is at an
organisation, which the company's debtor and creditor share. The canonical value of a
contact's company is the CRM id of the company, found for an AFAS contact through its
organisation's debtor or creditor and their links. An organisation with no linked debtor
or creditor has no CRM company (yet): its contacts read as
``"AFAS organisation <number>"``, a value no CRM id equals, so that such a contact is
never matched with, nor written as, a CRM company's contact; it waits (see waits.py).

A :class:`CompanyDirectory` serves one cycle: what it looked up it keeps until the cycle
ends, so that a page of contacts at fifty organisations costs one look-up per company
entity, not one per contact. It sees the company links as they were when it first looked
(its *horizon*: the newest link id then): the company lanes run beside the contact lane
and link companies meanwhile, and a company seen linked on one side of a contact and
not on the other would keep the contact from matching its twin, which would then be
created a second time. Links after the horizon free waiting contacts in the next cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from syncd.errors import ConfigError, Problem
from syncd.gateways.base import Gateway, OrganisationGateway
from syncd.records import Side
from syncd.state.rows import Link
from syncd.state.store import StateStore

__all__ = ["UNLINKED_PREFIX", "CompanyDirectory", "company_words", "unlinked_organisation"]

UNLINKED_PREFIX = "AFAS organisation "


def unlinked_organisation(organisation: str) -> str:
    """The canonical company of an AFAS contact whose organisation is linked to none."""
    return f"{UNLINKED_PREFIX}{organisation}"


def company_words(company: str) -> str:
    """A contact's canonical company as an operator reads it."""
    return company if company.startswith(UNLINKED_PREFIX) else f"CRM company {company}"


class CompanyDirectory:
    """Translates a contact's company between the sides' own ids and the CRM id."""

    def __init__(
        self,
        store: StateStore,
        connection: str,
        entities: Sequence[str],
        gateways: Mapping[Side, Gateway],
    ) -> None:
        self._store = store
        self._connection = connection
        self._entities = tuple(entities)  # the company entities, in order of preference
        self._afas = gateways[Side.AFAS]
        self._crm_by_organisation: dict[str, str | None] = {}
        self._organisation_by_crm: dict[str, str | None] = {}
        self._linked_crm: dict[str, bool] = {}
        self._horizon: int | None = None

    async def horizon(self) -> int:
        """The newest company link this cycle's view holds (read once, at first use)."""
        if self._horizon is None:
            self._horizon = await self._store.newest_link_id(self._connection, self._entities)
        return self._horizon

    async def _links(self, entity: str, side: Side, ids: Sequence[str]) -> dict[str, Link]:
        """The active links of ``ids`` on ``side`` within this cycle's view."""
        horizon = await self.horizon()
        found = await self._store.links_by_ids(self._connection, entity, side, ids)
        return {
            i: link
            for i, link in found.items()
            if link.detached_at is None and (link.id or 0) <= horizon
        }

    async def crm_of_organisations(self, organisations: Iterable[str]) -> dict[str, str]:
        """The linked CRM company of each organisation that has one."""
        organisations = list(organisations)
        wanted = [o for o in dict.fromkeys(organisations) if o not in self._crm_by_organisation]
        organisation_gateway = self._organisation_gateway()
        for entity in self._entities:
            if not wanted:
                break
            at = await organisation_gateway.at_organisations(entity, wanted)
            relations = [r for ids in at.values() for r in ids]
            links = await self._links(entity, Side.AFAS, relations)
            for organisation, ids in at.items():
                crm = next((links[r].crm_id for r in ids if r in links), None)
                if crm is not None:
                    self._crm_by_organisation[organisation] = crm
                    self._organisation_by_crm.setdefault(crm, organisation)
            wanted = [o for o in wanted if o not in self._crm_by_organisation]
        self._crm_by_organisation.update(dict.fromkeys(wanted))  # none, for this cycle
        return {
            o: crm for o in organisations if (crm := self._crm_by_organisation.get(o)) is not None
        }

    async def organisations_of_crm(self, crm_ids: Iterable[str]) -> dict[str, str]:
        """The AFAS organisation of each CRM company that is linked."""
        crm_ids = list(crm_ids)
        wanted = [c for c in dict.fromkeys(crm_ids) if c not in self._organisation_by_crm]
        organisation_gateway = self._organisation_gateway()
        for entity in self._entities:
            if not wanted:
                break
            links = await self._links(entity, Side.CRM, wanted)
            relation_of = {crm: link.afas_id for crm, link in links.items()}
            if not relation_of:
                continue
            organisations = await organisation_gateway.organisations_of(
                entity, list(relation_of.values())
            )
            for crm, relation in relation_of.items():
                if relation in organisations:
                    self._organisation_by_crm[crm] = organisations[relation]
            wanted = [c for c in wanted if c not in self._organisation_by_crm]
        for crm in wanted:
            self._organisation_by_crm[crm] = None
        return {
            c: organisation
            for c in crm_ids
            if (organisation := self._organisation_by_crm.get(c)) is not None
        }

    async def linked_crm(self, crm_ids: Iterable[str]) -> set[str]:
        """Those of ``crm_ids`` that are linked as one of the company entities."""
        crm_ids = list(crm_ids)
        wanted = [c for c in dict.fromkeys(crm_ids) if c not in self._linked_crm]
        for entity in self._entities:
            if not wanted:
                break
            for crm in await self._links(entity, Side.CRM, wanted):
                self._linked_crm[crm] = True
            wanted = [c for c in wanted if c not in self._linked_crm]
        self._linked_crm.update(dict.fromkeys(wanted, False))
        return {c for c in crm_ids if self._linked_crm.get(c)}

    async def organisations_of_links(self, links: Sequence[Link]) -> set[str]:
        """The AFAS organisations of the relations that company ``links`` link."""
        organisation_gateway = self._organisation_gateway()
        found: set[str] = set()
        for entity in self._entities:
            ids = [link.afas_id for link in links if link.entity == entity]
            if ids:
                found |= set((await organisation_gateway.organisations_of(entity, ids)).values())
        return found

    def _organisation_gateway(self) -> OrganisationGateway:
        if not isinstance(self._afas, OrganisationGateway):
            raise ConfigError(
                [
                    Problem(
                        "config.toml",
                        "connections",
                        f"the AFAS side ({type(self._afas).__name__}) cannot tell which "
                        "organisation a contact is at; contacts need an AFAS gateway",
                    )
                ]
            )
        return self._afas
