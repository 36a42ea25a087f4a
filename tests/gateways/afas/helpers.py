"""Running the AFAS simulator in-process and pointing a gateway at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from aiohttp.test_utils import TestServer

from syncd.gateways.afas.client import AfasClient, Limits, RetryPolicy
from syncd.gateways.afas.gateway import AfasGateway
from syncd.gateways.base import Gateway
from syncd.mapping import EntityMapping
from syncd.records import Side, Value
from syncd.sim.afas import AfasSimulator, QueryOptions, SimClock, SimOptions

TOKEN = "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
START = datetime(2025, 3, 1, 9, 0, 0, 600_000, tzinfo=UTC)
FAST_RETRY = RetryPolicy(attempts=3, initial=0.01, maximum=0.05, max_retry_after=1.0)


def simulator(precision: str = "round", **options: object) -> AfasSimulator:
    """A simulator with a logical clock: each write one second after the previous."""
    query = QueryOptions(precision=precision)
    return AfasSimulator(
        options=SimOptions(token=TOKEN, query=query, **options),  # type: ignore[arg-type]
        clock=SimClock(start=START, step=timedelta(seconds=1)),
    )


@asynccontextmanager
async def served(sim: AfasSimulator) -> AsyncIterator[str]:
    """The simulator on 127.0.0.1; yields its ProfitRestServices URL."""
    server = TestServer(sim.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/ProfitRestServices"))
    finally:
        await server.close()


def client(url: str, *, token: str = TOKEN, limits: Limits | None = None) -> AfasClient:
    return AfasClient(url, token=token, limits=limits, retry=FAST_RETRY)


def gateway(
    url: str,
    mappings: Mapping[str, EntityMapping],
    *,
    page_size: int = 4,
    limits: Limits | None = None,
) -> AfasGateway:
    return AfasGateway(
        client(url, limits=limits), mappings, page_size=page_size, today=lambda: date(2025, 3, 1)
    )


@dataclass
class AfasHarness:
    """The contract's user works straight in the simulator's tables. A contact is at
    an organisation that exists: one the user adds (with a debtor) when first needed."""

    sim: AfasSimulator
    afas: AfasGateway
    mappings: Mapping[str, EntityMapping]
    _organisation: str | None = None

    @property
    def gateway(self) -> Gateway:
        return self.afas

    @property
    def page_size(self) -> int:
        return self.afas.page_size

    def native(self, entity: str, fields: Mapping[str, Value]) -> dict[str, object]:
        return self.mappings[entity].to_native(Side.AFAS, fields)

    async def seed(self, entity: str, fields: Mapping[str, Value]) -> str:
        return self.sim.seed({entity: [self.native(entity, fields)]})[entity][0]

    async def edit(self, entity: str, record_id: str, fields: Mapping[str, Value]) -> None:
        self.sim.edit(entity, record_id, self.native(entity, fields))

    async def seed_unmappable(self, entity: str) -> str:
        from tests.gateways.test_memory import unmappable_row

        mapping = self.mappings[entity]
        row = unmappable_row(mapping, Side.AFAS)
        if mapping.reference is not None:  # at an organisation that exists
            row[mapping.reference.native_name(Side.AFAS)] = self.organisation()
        return self.sim.seed({entity: [row]})[entity][0]

    def organisation(self) -> str:
        """The number of the organisation the user's contacts are at (a debtor's)."""
        if self._organisation is None:
            debtor = self.sim.data.seed("customer", {"DebtorName": "Contactbedrijf B.V."})
            self._organisation = self.sim.data.relation("customer", debtor).organisation
        return self._organisation
