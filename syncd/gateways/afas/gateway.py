"""The AFAS Profit gateway: debtors, creditors and contacts through GetConnectors and
UpdateConnectors.

Everything AFAS-specific that the mapping does not say is decided in this package;
:class:`AfasGateway` meets the Gateway contract (:mod:`syncd.gateways.base`) by handing
each call to the part that knows it:

* reading: the changes since a cursor (:mod:`~syncd.gateways.afas.changes`), listings and
  reads by key (:mod:`~syncd.gateways.afas.reading`), both through
  :mod:`~syncd.gateways.afas.get_connector`; rows become records, and blocked relations
  are left out, as :mod:`~syncd.gateways.afas.relations` says;
* writing: UpdateConnector requests, the second role under the first one's organisation
  (:mod:`~syncd.gateways.afas.writing`, bodies by :mod:`~syncd.gateways.afas.payload`);
* contacts (an entity whose ``update_connector`` is ``KnContact``): read by id following
  a person who moved (:mod:`~syncd.gateways.afas.contact_reading`), written through
  KnOrganisation, KnContact and KnPerson (:mod:`~syncd.gateways.afas.contacts`); which
  organisation a debtor or creditor is at (a contact's company) is read by
  :mod:`~syncd.gateways.afas.reading` and noted from every row read
  (:mod:`~syncd.gateways.afas.organisations`);
* the HTTP work (auth, fair use, retries, error translation) is
  :mod:`~syncd.gateways.afas.client`'s, time zones :mod:`~syncd.gateways.afas.profit_time`'s.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import date, datetime, timedelta

from syncd.errors import ConfigError, Problem
from syncd.gateways.afas.changes import ChangeReader
from syncd.gateways.afas.client import AfasClient, Limits, OAuthClient, RetryPolicy, base_url
from syncd.gateways.afas.contact_reading import ContactReader
from syncd.gateways.afas.contacts import ContactWriter
from syncd.gateways.afas.environment import missing_in_environment
from syncd.gateways.afas.get_connector import GetConnector
from syncd.gateways.afas.options import AfasOptions
from syncd.gateways.afas.profit_time import AMSTERDAM
from syncd.gateways.afas.reading import RelationReader
from syncd.gateways.afas.relations import RelationMapping
from syncd.gateways.afas.writing import RelationWriter, WriteOptions
from syncd.gateways.base import BatchOutcome
from syncd.gateways.http.tls import checked_ca_bundle
from syncd.gateways.options import GatewaySettings
from syncd.mapping import EntityMapping
from syncd.records import Page, Record, Side, Value

__all__ = ["AfasGateway", "build_afas_gateway"]


class AfasGateway:
    """The AFAS side of a connection, for every entity of the mappings."""

    def __init__(
        self,
        client: AfasClient,
        mappings: Mapping[str, EntityMapping],
        *,
        page_size: int = 500,
        write: WriteOptions | None = None,
        today: Callable[[], date] | None = None,
    ) -> None:
        if page_size < 2:
            raise ValueError("page_size must be at least 2")
        self.client = client
        self.page_size = page_size
        self.write = write or WriteOptions()
        self._mappings = dict(mappings)
        in_amsterdam = today or (lambda: datetime.now(AMSTERDAM).date())
        self._relations = RelationMapping(mappings, in_amsterdam)
        get = GetConnector(client, self._relations, page_size)
        self._changes = ChangeReader(get, self._relations)
        self._reader = RelationReader(get, self._relations)
        self._writer = RelationWriter(
            client, self._relations, self._reader, self.write, in_amsterdam
        )
        self._contacts = ContactReader(get, self._relations)
        self._contact_writer = ContactWriter(
            client, self._relations, self._contacts, self._reader, self.write
        )

    @property
    def side(self) -> Side:
        return Side.AFAS

    @property
    def requests_sent(self) -> int:
        return self.client.requests_sent

    @property
    def outcome_window(self) -> timedelta:
        """How long after it reached Profit a write may still be saved: Profit goes on
        with a write whose caller gave up or died, until its own limit stops it."""
        return timedelta(seconds=self.client.limits.server_timeout)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def verify(self) -> list[str]:
        """What the environment lacks for the mappings, one sentence each (empty: all there)."""
        return await missing_in_environment(self.client, self._mappings)

    # -- reading ----------------------------------------------------------------------

    def changed_since(self, entity: str, since: datetime | None) -> AsyncIterator[Page]:
        return self._changes.changed_since(entity, since)

    def list_all(self, entity: str) -> AsyncIterator[Page]:
        return self._reader.list_all(entity)

    async def read(self, entity: str, ids: Sequence[str]) -> Page:
        if self._is_contact(entity):
            return await self._contacts.read(entity, ids)
        return await self._reader.read(entity, ids)

    async def moved_here(self, entity: str, ids: Sequence[str]) -> dict[str, str]:
        """Contacts among ``ids`` that a person's move made: the blocked contact each
        replaced -> it (relations never move)."""
        if not self._is_contact(entity):
            return {}
        return await self._contacts.moved_here(entity, ids)

    async def find_by_correlation(self, entity: str, keys: Sequence[str]) -> dict[str, Record]:
        return await self._reader.find_by_correlation(entity, keys)

    async def find_by_values(self, entity: str, field: str, values: Sequence[str]) -> list[Record]:
        return await self._reader.find_by_values(entity, field, values)

    async def relations_beside(
        self, entity: str, ids: Sequence[str], sibling: str
    ) -> dict[str, str]:
        """Per relation of ``entity`` among ``ids``, an active relation of ``sibling``
        under the same organisation (the creditor of a debtor's organisation)."""
        return await self._reader.relations_beside(entity, ids, sibling)

    async def organisations_of(self, entity: str, ids: Sequence[str]) -> dict[str, str]:
        """Per relation of the company entity ``entity`` among ``ids``, its organisation."""
        return await self._reader.organisations_of(entity, ids)

    def organisations_seen(self, entity: str) -> dict[str, str | None]:
        """The organisation each relation of ``entity`` showed in the rows read since the
        last call (None: it showed none), handed out once."""
        return self._relations.seen.take(entity)

    # -- writing ----------------------------------------------------------------------

    async def create(self, entity: str, fields: Mapping[str, Value], correlation: str) -> Record:
        if self._is_contact(entity):
            return await self._contact_writer.create(entity, fields, correlation)
        return await self._writer.create(entity, fields, correlation)

    async def update(
        self,
        entity: str,
        record_id: str,
        fields: Mapping[str, Value],
        correlation: str | None = None,
    ) -> Record:
        if self._is_contact(entity):
            return await self._contact_writer.update(entity, record_id, fields, correlation)
        return await self._writer.update(entity, record_id, fields, correlation)

    async def create_batch(
        self, entity: str, items: Sequence[tuple[Mapping[str, Value], str]]
    ) -> list[BatchOutcome]:
        """Create (fields, correlation) items: one POST each (UpdateConnectors take one
        record a request), sent side by side up to the client's concurrency, then read
        back together (one GetConnector call per chunk of keys, not one per record)."""
        if self._is_contact(entity):
            return await self._contact_writer.create_batch(entity, items)
        return await self._writer.create_beside(entity, items, {})

    async def create_beside(
        self,
        entity: str,
        items: Sequence[tuple[Mapping[str, Value], str]],
        beside: Mapping[str, tuple[str, str]],
    ) -> list[BatchOutcome]:
        """:meth:`create_batch`, each item whose correlation ``beside`` names (with an
        entity and a relation of it) under that relation's organisation: a company's
        debtor and creditor are one organisation. (A contact shares nothing: its items
        are created as by :meth:`create_batch`.)"""
        if self._is_contact(entity):
            return await self._contact_writer.create_batch(entity, items)
        return await self._writer.create_beside(entity, items, beside)

    async def update_batch(
        self, entity: str, items: Sequence[tuple[str, Mapping[str, Value], str | None]]
    ) -> list[BatchOutcome]:
        """Partial updates of (id, fields, correlation or None), as :meth:`create_batch`."""
        if self._is_contact(entity):
            return await self._contact_writer.update_batch(entity, items)
        return await self._writer.update_batch(entity, items)

    async def deactivate(self, entity: str, record_id: str) -> None:
        if self._is_contact(entity):
            await self._contact_writer.deactivate(entity, record_id)
        else:
            await self._writer.deactivate(entity, record_id)

    def _is_contact(self, entity: str) -> bool:
        """Contacts are written through KnContact (and KnOrganisation, KnPerson)."""
        return self._relations.spec(entity).options["update_connector"] == "KnContact"


# -- building from config.toml ----------------------------------------------------------


def build_afas_gateway(
    settings: GatewaySettings, side: Side, mappings: Mapping[str, EntityMapping]
) -> AfasGateway:
    """The gateway for ``afas = { kind = "afas", ... }`` (options: :class:`AfasOptions`).

    Raises :class:`ConfigError` with every problem of the options at once.
    """
    options = settings.options_as(AfasOptions)
    problems: list[Problem] = []
    if side is not Side.AFAS:
        problems.append(_problem("kind", "the afas gateway serves the afas side only"))
    url = _url(options, problems)
    token, oauth = _credentials(options, problems)
    if not 1 <= options.concurrency <= 8:
        message = f"{options.concurrency} is out of range; AFAS allows 1 to 8 at once"
        problems.append(_problem("concurrency", message))
    if problems:
        raise ConfigError(problems)
    limits = Limits(
        concurrency=options.concurrency,
        rate=options.rate,
        read_timeout=options.read_timeout,
        write_timeout=options.write_timeout,
        server_timeout=options.server_timeout,
        ca_bundle=checked_ca_bundle(options.ca_bundle),
    )
    client = AfasClient(str(url), token=token, oauth=oauth, limits=limits, retry=RetryPolicy())
    write = WriteOptions(currency=options.currency, autonum=options.autonum)
    return AfasGateway(client, mappings, page_size=options.page_size, write=write)


def _problem(key: str, message: str) -> Problem:
    return Problem("config.toml", f"afas.{key}", message)


def _url(options: AfasOptions, problems: list[Problem]) -> str | None:
    """``base_url``, or the URL of ``environment`` and ``environment_type``."""
    if options.base_url is not None:
        return options.base_url
    if options.environment is None:
        problems.append(_problem("environment", "set the environment number, or base_url"))
        return None
    try:
        return base_url(options.environment, options.environment_type)
    except ValueError as exc:
        problems.append(_problem("environment_type", str(exc)))
        return None


def _credentials(
    options: AfasOptions, problems: list[Problem]
) -> tuple[str | None, OAuthClient | None]:
    """The classic token, or OAuth client credentials: exactly one of them."""
    client_id, secret = options.oauth_client_id, options.oauth_client_secret
    oauth = None
    if client_id is not None or secret is not None:
        if secret is None or client_id is None:
            message = "give oauth_client_id and oauth_client_secret together"
            problems.append(_problem("oauth_client_secret", message))
            return None, None
        oauth = OAuthClient(client_id, secret.value)
    token = options.token_secret
    if (token is None) == (oauth is None):
        message = (
            "give either token (an environment variable), token_file (a file) or OAuth "
            "client credentials"
        )
        problems.append(_problem("token", message))
    return (token.value if token is not None else None), oauth
