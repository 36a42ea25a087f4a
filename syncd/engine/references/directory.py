"""Which company a contact is at, in words both sides share: the CRM company's id.

A HubSpot contact names its primary company by the company's id; an AFAS contact is at an
organisation, which the company's debtor and creditor share. The canonical value of a
contact's company is the CRM id of the company, found for an AFAS contact through its
organisation's debtor or creditor and their links. An organisation with no linked debtor
or creditor has no CRM company (yet): its contacts read as
``"AFAS organisation <number>"``, a value no CRM id equals, so that such a contact is
never matched with, nor written as, a CRM company's contact; it waits (see waits.py).

A :class:`CompanyDirectory` serves one cycle: what it looked up it keeps until the cycle
ends, so that a page of contacts at fifty organisations costs one look-up, not one per
contact. It sees the company links as they were when it first looked (its *horizon*: the
newest link id then): the company lanes run beside the contact lane and link companies
meanwhile, and a company seen linked on one side of a contact and not on the other would
keep the contact from matching its twin, which would then be created a second time.
Links after the horizon free waiting contacts in the next cycle.

Which organisation a linked debtor or creditor is at is kept in the state store, not
asked of AFAS every cycle. It can change (Profit moves the relations of an organisation
merged into another), so what is kept is brought up to date at the first look of each
cycle: with what every AFAS row read since showed (a company cycle's changes, its sweep,
its reads before writing; ``organisations_seen``), and by reading the organisation of
each link that has none kept (a new link). A full sweep of contacts reads the
organisations of all links again, for what was read by another process. The kept
organisations are facts of AFAS, not sync state: a dry run keeps them too.
"""

from __future__ import annotations

import asyncio
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
        *,
        sweep: bool = False,
    ) -> None:
        self._store = store
        self._connection = connection
        self._entities = tuple(entities)  # the company entities, in order of preference
        self._afas = gateways[Side.AFAS]
        self._sweep = sweep  # read the organisations of all links again
        self._crm_by_organisation: dict[str, str | None] = {}
        self._organisation_by_crm: dict[str, str | None] = {}
        self._linked_crm: dict[str, bool] = {}
        self._horizon: int | None = None
        self._kept_up_to_date = asyncio.Lock()
        self._up_to_date = False

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
        if wanted:
            await self._keep_up_to_date()
            at = await self._store.links_at_organisations(
                self._connection, self._entities, wanted, await self.horizon()
            )
            preference = {entity: i for i, entity in enumerate(self._entities)}
            for organisation in wanted:
                there = sorted(
                    at.get(organisation, []), key=lambda k: (preference[k.entity], k.afas_id)
                )
                crm = there[0].crm_id if there else None  # none, for this cycle
                self._crm_by_organisation[organisation] = crm
                if crm is not None:
                    self._organisation_by_crm.setdefault(crm, organisation)
        return {
            o: crm for o in organisations if (crm := self._crm_by_organisation.get(o)) is not None
        }

    async def organisations_of_crm(self, crm_ids: Iterable[str]) -> dict[str, str]:
        """The AFAS organisation of each CRM company that is linked."""
        crm_ids = list(crm_ids)
        wanted = [c for c in dict.fromkeys(crm_ids) if c not in self._organisation_by_crm]
        if wanted:
            await self._keep_up_to_date()
        for entity in self._entities:
            if not wanted:
                break
            links = await self._links(entity, Side.CRM, wanted)
            kept = await self._kept(entity, [link.afas_id for link in links.values()])
            for crm, link in links.items():
                if (organisation := kept.get(link.afas_id)) is not None:
                    self._organisation_by_crm[crm] = organisation
            wanted = [c for c in wanted if c not in self._organisation_by_crm]
        self._organisation_by_crm.update(dict.fromkeys(wanted))
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
        """The AFAS organisations of the relations that company ``links`` (of this
        cycle's view) link."""
        await self._keep_up_to_date()
        found: set[str] = set()
        for entity in self._entities:
            ids = [link.afas_id for link in links if link.entity == entity]
            found |= {o for o in (await self._kept(entity, ids)).values() if o is not None}
        return found

    async def _kept(self, entity: str, relations: Sequence[str]) -> dict[str, str | None]:
        if not relations:
            return {}
        return await self._store.organisations_of(self._connection, entity, relations)

    async def _keep_up_to_date(self) -> None:
        """Once a cycle, before the first look: keep what the AFAS rows read since the
        last cycle showed, then read the organisation of each link of this cycle's view
        that has none kept (in a sweep: of every link not just seen)."""
        async with self._kept_up_to_date:
            if self._up_to_date:
                return
            gateway = self._organisation_gateway()
            seen = {entity: gateway.organisations_seen(entity) for entity in self._entities}
            await self._keep(seen)  # first: a failing read below must not lose them
            horizon = await self.horizon()
            if self._sweep:
                after = await self._store.links_after(self._connection, self._entities, 0)
                unknown = [k for k in after if (k.id or 0) <= horizon]
            else:
                unknown = await self._store.links_without_organisation(
                    self._connection, self._entities, horizon
                )
            read: dict[str, dict[str, str | None]] = {}
            for entity in self._entities:
                unread = [k.afas_id for k in unknown if k.entity == entity]
                unread = [r for r in unread if r not in seen[entity]]
                if unread:
                    found = await gateway.organisations_of(entity, unread)
                    read[entity] = {r: found.get(r) for r in unread}  # None: at none
            await self._keep(read)
            self._up_to_date = True

    async def _keep(self, organisations: Mapping[str, Mapping[str, str | None]]) -> None:
        """Keep, per company entity, the organisation each relation is at now."""
        if not any(organisations.values()):
            return
        async with self._store.transaction() as tx:
            for entity, of_relations in organisations.items():
                await tx.keep_organisations(self._connection, entity, of_relations)

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
