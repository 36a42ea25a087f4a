"""The HubSpot gateway: companies as the CRM side of customers and suppliers, contacts as
the CRM side of contact persons.

A *company* is a HubSpot object; it is a *customer* or a *supplier* (or both) when its
role property says so (:mod:`syncd.gateways.hubspot.roles`). A *contact* is read and
written like a company (its modification time is ``lastmodifieddate``, it has no roles);
its company is its primary company association, read once per page and written with the
contact (:mod:`~syncd.gateways.hubspot.associations`), and a create whose e-mail another
contact has raises TakenError naming that contact. :class:`HubSpotGateway`
meets the Gateway contract (:mod:`syncd.gateways.base`) by handing each call to the part
that knows it:

* reading: ``changed_since`` and the look-ups by value search
  (:mod:`~syncd.gateways.hubspot.search`; the search lags, so its pages are hints only);
  ``list_all``, ``read`` and ``find_by_correlation`` list or read by id
  (:mod:`~syncd.gateways.hubspot.reading`); the companies without the role, which the
  list shows too, come along by their match keys (``Page.others``), so a first sync
  needs no look-up to adopt one;
* writing: one company at a time (:mod:`~syncd.gateways.hubspot.writing`), or 100 per
  request (:mod:`~syncd.gateways.hubspot.batches`), every value checked first against
  the portal's property definitions (:mod:`~syncd.gateways.hubspot.schemas`);
* limits: every request waits for HubSpot's rate windows and spends a daily budget
  (:mod:`~syncd.gateways.hubspot.limits`, through the client).

Besides the protocol it is a ``BatchGateway`` and a ``MultiRoleGateway``;
:meth:`HubSpotGateway.list_archived` is the ``archived=true`` sweep for deletes,
:meth:`~HubSpotGateway.merged_into` tells which ids were merged into which survivor,
:meth:`~HubSpotGateway.start` checks the portal's property definitions and
:meth:`~HubSpotGateway.status` reports the daily request budget.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime, timedelta

from syncd.errors import ConfigError, PermanentError, Problem
from syncd.gateways.base import BatchOutcome
from syncd.gateways.http.tls import checked_ca_bundle
from syncd.gateways.hubspot.app_token import AppCredentials, AppToken
from syncd.gateways.hubspot.associations import PrimaryCompanies
from syncd.gateways.hubspot.batches import BatchWriter
from syncd.gateways.hubspot.change_events import Hinted
from syncd.gateways.hubspot.client import ClientSettings, HubSpotClient
from syncd.gateways.hubspot.companies import CompanyMapping
from syncd.gateways.hubspot.journal import JournalReader, JournalStore
from syncd.gateways.hubspot.options import HubSpotOptions
from syncd.gateways.hubspot.reading import LIST_PAGE, CompanyReader
from syncd.gateways.hubspot.roles import CompanyRoles, role_problems
from syncd.gateways.hubspot.schemas import PortalSchemas
from syncd.gateways.hubspot.search import SLICE_SIZE, CompanySearch
from syncd.gateways.hubspot.writing import CompanyWriter
from syncd.gateways.options import GatewaySettings
from syncd.mapping import EntityMapping
from syncd.records import Page, Record, Side, Value

__all__ = ["HubSpotGateway", "build_hubspot"]

_SINGULAR = {"companies": "company", "contacts": "contact"}


class HubSpotGateway:
    """The CRM side of a connection, on one HubSpot portal."""

    def __init__(
        self,
        token: str,
        mappings: Mapping[str, EntityMapping],
        settings: ClientSettings | None = None,
        *,
        settle_seconds: float = 60.0,
        page_size: int = LIST_PAGE,
        client: HubSpotClient | None = None,
    ) -> None:
        """``client``, when given, is used instead of one made of ``token`` and
        ``settings`` (one that answers from elsewhere, in a test)."""
        if not 1 <= page_size <= LIST_PAGE:
            raise ValueError(f"page_size must be from 1 to {LIST_PAGE}, not {page_size}")
        self._client = client or HubSpotClient(token, settings)
        self.settle = timedelta(seconds=settle_seconds)
        self.page_size = page_size
        self.slice_size = SLICE_SIZE
        self._companies = CompanyMapping(mappings, self._client.settings)
        self._roles = CompanyRoles(self._companies)
        self._schemas = PortalSchemas(self._client, self._companies)
        self._primaries = primaries = PrimaryCompanies(self._client, self._companies)
        self._reader = CompanyReader(self._client, self._companies, self._roles, primaries)
        self._search = CompanySearch(
            self._client, self._companies, self._roles, self._schemas, primaries
        )
        self._writer = CompanyWriter(
            self._client, self._companies, self._roles, self._schemas, self._reader, primaries
        )
        self._batches = BatchWriter(
            self._companies, self._roles, self._schemas, self._writer, self._reader
        )

    # -- lifecycle and status -------------------------------------------------------------

    @property
    def side(self) -> Side:
        return Side.CRM

    async def start(self) -> None:
        """Read the property definitions and check the mapped properties exist.

        PermanentError listing every missing or unfit property (run it at start; writes
        would otherwise read the definitions on first use). Each call reads them afresh:
        the daemon calls it again after a failure, once the operator may have fixed the
        portal.
        """
        self._schemas.forget()
        problems: list[str] = []
        for entity in self._companies.mappings:
            schema = await self._schemas.of(entity)
            spec = self._companies.spec(entity)
            missing = schema.missing(self._companies.property_names(entity))
            kind = _SINGULAR.get(self._companies.object_type(entity), "object")
            problems += [f"{entity}: the portal has no {kind} property {n!r}" for n in missing]
            correlation = schema.definitions.get(spec.correlation)
            if correlation is not None and not correlation.unique:
                problems.append(
                    f"{entity}: {spec.correlation!r} must have unique values on ('hasUniqueValue')"
                )
            role = self._roles.role(entity)
            problems += [f"{entity}: {p}" for p in role_problems(role, schema)]
        if problems:
            raise PermanentError("HubSpot portal is not ready for syncd: " + "; ".join(problems))

    @property
    def requests_sent(self) -> int:
        return self._client.requests_sent

    def status(self) -> dict[str, object]:
        """Requests sent today against the daily budget, and throttling seen."""
        return self._client.status()

    async def aclose(self) -> None:
        await self._client.aclose()

    def journal_reader(
        self, app: AppCredentials, store: JournalStore, hint: Callable[[Hinted], None]
    ) -> JournalReader:
        """A reader of this portal's Webhooks Journal with the app's own token, whose
        requests go through (and are counted by) the gateway's own client."""
        return JournalReader(self._client, AppToken(self._client, app), store, hint)

    # -- reading ----------------------------------------------------------------------------

    @property
    def visibility_lag(self) -> timedelta:
        """How long a new or edited company may stay invisible to search."""
        return self.settle

    def changed_since(self, entity: str, since: datetime | None) -> AsyncIterator[Page]:
        return self._search.changed_since(
            entity,
            since,
            settle=self.settle,
            page_size=self.page_size,
            slice_size=self.slice_size,
        )

    def list_all(self, entity: str) -> AsyncIterator[Page]:
        return self._reader.list_all(entity, self.page_size)

    async def count_all(self, entity: str) -> int | None:
        """About how many records ``list_all`` lists: one search request."""
        return await self._search.count(entity)

    def list_archived(self, entity: str) -> AsyncIterator[list[str]]:
        """Pages of the ids of archived companies with the role (the sweep for deletes)."""
        return self._reader.list_archived(entity)

    async def read(self, entity: str, ids: Sequence[str]) -> Page:
        return await self._reader.read(entity, ids)

    async def merged_into(self, entity: str, ids: Sequence[str]) -> dict[str, str]:
        """Which of ``ids`` were merged away, and the id of the company each lives on in."""
        return await self._reader.merged_into(entity, ids)

    async def find_by_correlation(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        return await self._reader.find_by_correlation(entity, keys)

    async def find_by_values(self, entity: str, field: str, values: Sequence[str]) -> list[Record]:
        """Records whose ``field`` is one of ``values``: by search, or for a contact's
        company (an association, which search cannot filter on) the contacts that the
        companies are primary to, read by id."""
        reference = self._companies.mapping(entity).reference
        if reference is None or reference.name != field:
            return await self._search.find_by_values(entity, field, values, other_roles=False)
        ids = await self._primaries.contacts_at(entity, values)
        wanted = set(values)
        page = await self._reader.read(entity, ids)
        return sorted(
            (r for r in page.records if r.fields.get(field) in wanted), key=lambda r: int(r.id)
        )

    async def find_in_other_roles(
        self, entity: str, field: str, values: Sequence[str]
    ) -> list[Record]:
        """Companies without the entity's role whose ``field`` is one of ``values``: a
        customer that is about to become a supplier too is one company, not two."""
        if self._roles.role(entity) is None:
            return []
        return await self._search.find_by_values(entity, field, values, other_roles=True)

    # -- writing ----------------------------------------------------------------------------

    async def create(self, entity: str, fields: Mapping[str, Value], correlation: str) -> Record:
        return await self._writer.create(entity, fields, correlation)

    async def update(
        self,
        entity: str,
        record_id: str,
        fields: Mapping[str, Value],
        correlation: str | None = None,
    ) -> Record:
        return await self._writer.update(entity, record_id, fields, correlation)

    async def deactivate(self, entity: str, record_id: str) -> None:
        """Take the role off a company that keeps another one; archive it otherwise."""
        await self._writer.deactivate(entity, record_id)

    async def adopt(self, entity: str, record_id: str) -> Record:
        """Give an existing company the entity's role (a customer becoming a supplier too)."""
        return await self._writer.adopt(entity, record_id)

    async def create_batch(
        self, entity: str, items: Sequence[tuple[Mapping[str, Value], str]]
    ) -> list[BatchOutcome]:
        """Create companies, 100 per request; one outcome per item, in order."""
        return await self._batches.create_batch(entity, items)

    async def update_batch(
        self, entity: str, items: Sequence[tuple[str, Mapping[str, Value], str | None]]
    ) -> list[BatchOutcome]:
        """Partial updates of (id, fields, correlation or None), 100 per request, not read
        back: a record holds the fields HubSpot's answer carries."""
        return await self._batches.update_batch(entity, items)

    async def upsert_batch(
        self, entity: str, items: Sequence[tuple[str, Mapping[str, Value]]]
    ) -> list[BatchOutcome]:
        """Create or update by correlation key (the unique property), 100 per request."""
        return await self._batches.upsert_batch(entity, items)


def build_hubspot(
    settings: GatewaySettings, side: Side, mappings: Mapping[str, EntityMapping]
) -> HubSpotGateway:
    """The ``hubspot`` gateway kind, from its config options (see GATEWAY_KINDS)."""
    if side is not Side.CRM:
        raise ConfigError([Problem("config", f"{side}.kind", "hubspot can only be the crm side")])
    options = settings.options_as(HubSpotOptions)
    client = ClientSettings(
        base_url=options.base_url.rstrip("/"),
        api_version=options.api_version,
        search_per_second=options.search_per_second,
        requests_per_ten_seconds=options.requests_per_ten_seconds,
        daily_budget=options.daily_budget,
        timeout_seconds=options.timeout_seconds,
        ca_bundle=checked_ca_bundle(options.ca_bundle),
    )
    return HubSpotGateway(
        options.token_value(), mappings, client, settle_seconds=options.search_settle_seconds
    )
