"""Every error class the AFAS gateway raises, provoked through the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from syncd.errors import (
    AuthError,
    OutcomeUnknownError,
    PermanentError,
    RecordError,
    TransientError,
)
from syncd.gateways.afas.client import AfasClient, Limits, OAuthClient, _read_answer
from syncd.gateways.afas.gateway import AfasGateway
from syncd.gateways.afas.writing import _created_key
from syncd.mapping import KNOWN_ENTITIES, EntityMapping, load_mappings
from syncd.sim.afas import AfasSimulator, Fault
from tests.gateways.afas.helpers import FAST_RETRY, TOKEN, client, gateway, served, simulator
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS

SAMPLE = {"name": "Bakkerij De Korenaar B.V.", "country": "NL", "city": "Utrecht"}
TIMEOUTS = Limits(read_timeout=0.3, write_timeout=0.3, connect_timeout=1.0)


@pytest.fixture
def mappings() -> dict[str, EntityMapping]:
    return load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)


@pytest.fixture
def sim() -> AfasSimulator:
    return simulator()


@pytest.fixture
async def afas(
    sim: AfasSimulator, mappings: dict[str, EntityMapping]
) -> AsyncIterator[AfasGateway]:
    async with served(sim) as url:
        gw = gateway(url, mappings, limits=TIMEOUTS)
        yield gw
        await gw.aclose()


def requests_to(sim: AfasSimulator, method: str, connector: str) -> int:
    return sum(
        n
        for key, n in sim.requests.items()
        if key.lower().endswith(connector.lower()) and key.startswith(method)
    )


async def test_a_503_with_a_short_retry_after_is_retried(
    sim: AfasSimulator, afas: AfasGateway
) -> None:
    sim.add_fault(Fault("unavailable", method="GET", retry_after=0.01))
    page = await afas.read("customer", ["10001"])
    assert page.records == []
    assert requests_to(sim, "GET", "syncd_debtors") == 2


async def test_a_503_with_a_long_retry_after_is_left_to_the_engine(
    sim: AfasSimulator, afas: AfasGateway
) -> None:
    sim.add_fault(Fault("unavailable", method="GET", retry_after=7200))
    with pytest.raises(TransientError) as caught:
        await afas.read("customer", ["10001"])
    assert caught.value.retry_after == 7200
    assert requests_to(sim, "GET", "syncd_debtors") == 1


async def test_a_lock_error_is_retried_even_for_a_write(
    sim: AfasSimulator, afas: AfasGateway
) -> None:
    sim.add_fault(Fault("lock", method="POST"))
    created = await afas.create("customer", SAMPLE, "crm-1")
    assert created.correlation == "crm-1"
    assert len(sim.rows("customer")) == 1


async def test_a_lock_that_persists_becomes_a_transient_error(
    sim: AfasSimulator, afas: AfasGateway
) -> None:
    sim.add_fault(Fault("lock", method="GET", times=10))
    with pytest.raises(TransientError, match="locked"):
        await afas.read("customer", ["10001"])
    assert requests_to(sim, "GET", "syncd_debtors") == FAST_RETRY.attempts


async def test_a_refused_record_carries_the_message_and_log_reference(
    afas: AfasGateway,
) -> None:
    with pytest.raises(RecordError) as caught:
        await afas.update("customer", "99999", {"name": "Nobody"})
    assert "does not exist" in str(caught.value)
    assert caught.value.reference is not None
    assert len(caught.value.reference) == 32


async def test_an_unknown_update_field_is_a_record_error(sim: AfasSimulator) -> None:
    async with served(sim) as url:
        afas_client = client(url)
        body = {"KnSalesRelationOrg": {"Element": {"Fields": {"Nonsense": 1}}}}
        with pytest.raises(RecordError, match="Nonsense"):
            await afas_client.post("connectors/KnSalesRelationOrg", body)
        await afas_client.aclose()


async def test_a_wrong_token_stops_the_connection(
    sim: AfasSimulator, mappings: dict[str, EntityMapping]
) -> None:
    async with served(sim) as url:
        gw = AfasGateway(client(url, token="wrong"), mappings)
        with pytest.raises(AuthError, match="401"):
            await gw.read("customer", ["10001"])
        await gw.aclose()
    assert not isinstance(AuthError("x"), TransientError)


async def test_a_blocked_getconnector_needs_an_administrator(
    sim: AfasSimulator, afas: AfasGateway
) -> None:
    sim.blocked.add("syncd_debtors")
    with pytest.raises(PermanentError, match="administrator"):
        await afas.read("customer", ["10001"])
    assert requests_to(sim, "GET", "syncd_debtors") == 1


async def test_a_slow_read_is_retried(sim: AfasSimulator, afas: AfasGateway) -> None:
    sim.add_fault(Fault("slow", method="GET", seconds=1.0))
    assert (await afas.read("customer", ["10001"])).records == []
    assert requests_to(sim, "GET", "syncd_debtors") == 2


async def test_a_lost_create_is_not_reposted_and_is_found_by_its_key(
    sim: AfasSimulator, afas: AfasGateway
) -> None:
    sim.add_fault(Fault("lost", method="POST", seconds=1.0))
    with pytest.raises(OutcomeUnknownError):
        await afas.create("customer", SAMPLE, "crm-lost")
    assert requests_to(sim, "POST", "KnSalesRelationOrg") == 1
    found = await afas.find_by_correlation("customer", ["crm-lost"])
    assert list(found) == ["crm-lost"]
    assert len(sim.rows("customer")) == 1


async def test_a_dropped_connection_retries_a_read_but_not_a_write(
    sim: AfasSimulator, afas: AfasGateway
) -> None:
    created = await afas.create("customer", SAMPLE, "crm-1")
    sim.add_fault(Fault("drop", method="GET"))
    assert [r.id for r in (await afas.read("customer", [created.id])).records] == [created.id]
    sim.add_fault(Fault("drop", method="PUT"))
    with pytest.raises(OutcomeUnknownError):
        await afas.update("customer", created.id, {"city": "Zeist"})
    assert requests_to(sim, "PUT", "KnSalesRelationOrg") == 1


async def test_no_server_is_a_transient_error(mappings: dict[str, EntityMapping]) -> None:
    gw = gateway("http://127.0.0.1:9/ProfitRestServices", mappings)
    with pytest.raises(TransientError, match="cannot connect"):
        await gw.read("customer", ["1"])
    with pytest.raises(TransientError, match="cannot connect"):
        await gw.create("customer", SAMPLE, "crm-1")  # nothing was sent: safe to say so
    await gw.aclose()


async def test_concurrency_is_limited(
    sim: AfasSimulator, mappings: dict[str, EntityMapping]
) -> None:
    sim.latency = 0.05
    async with served(sim) as url:
        gw = gateway(url, mappings, limits=Limits(concurrency=2))
        await asyncio.gather(*(gw.read("customer", [str(i)]) for i in range(8)))
        await gw.aclose()
    assert sim.max_active == 2


async def test_oauth_client_credentials_and_a_renewed_token(
    mappings: dict[str, EntityMapping],
) -> None:
    sim = simulator(oauth_clients={"syncd": "s3cret"})
    async with served(sim) as url:
        oauth_client = AfasClient(url, oauth=OAuthClient("syncd", "s3cret"), retry=FAST_RETRY)
        gw = AfasGateway(oauth_client, mappings)
        assert (await gw.read("customer", ["1"])).records == []
        sim.expire_bearer_tokens()
        assert (await gw.read("customer", ["1"])).records == []
        await gw.aclose()
        wrong = AfasClient(url, oauth=OAuthClient("syncd", "nope"), retry=FAST_RETRY)
        with pytest.raises(AuthError, match="OAuth"):
            await AfasGateway(wrong, mappings).read("customer", ["1"])
        await wrong.aclose()


@pytest.mark.parametrize(
    ("status", "body", "write", "error", "text"),
    [
        (403, "", False, AuthError, "IP"),
        (404, "", False, PermanentError, "2049"),
        (502, "", False, TransientError, "502"),
        (502, "", True, OutcomeUnknownError, "may have happened"),
        (500, '{"externalMessage":"Command timeout expired."}', False, TransientError, "timeout"),
        (500, '{"externalMessage":"Out of memory"}', False, PermanentError, "page_size"),
        (
            500,
            '{"externalMessage":"GetConnector not supported for this app or the user is not '
            'authorized"}',
            False,
            AuthError,
            "app connector",
        ),
        (
            500,
            '{"externalMessage":"Deze GetConnector (definitie) is geblokkeerd"}',
            False,
            PermanentError,
            "administrator",
        ),
        (
            500,
            '{"externalMessage":"Connector field \'X\' not found","profitLogReference":"AB"}',
            False,
            PermanentError,
            "AB",
        ),
        (500, '{"externalMessage":"Debiteur is geblokkeerd"}', True, RecordError, "geblokkeerd"),
        (400, '{"message":"Invalid json"}', True, PermanentError, "Invalid json"),
        (503, "", False, TransientError, "503"),
    ],
)
def test_status_and_body_become_one_error(
    status: int, body: str, write: bool, error: type[Exception], text: str
) -> None:
    with pytest.raises(error, match=text):
        _read_answer("AFAS GET x", status, {}, body, write)


def test_a_retry_after_header_counts_when_the_body_has_none() -> None:
    with pytest.raises(TransientError) as caught:
        _read_answer("AFAS GET x", 503, {"Retry-After": "30"}, "", False)
    assert caught.value.retry_after == 30


def test_an_unreadable_answer_is_transient_for_a_read_and_done_for_a_write() -> None:
    with pytest.raises(TransientError, match="unreadable"):
        _read_answer("AFAS GET x", 200, {}, "<html>", False)
    assert _read_answer("AFAS PUT x", 201, {}, "<html>", True) is None
    assert _read_answer("AFAS PUT x", 200, {}, "", True) is None


def test_a_create_answered_without_its_key_must_be_looked_up() -> None:
    with pytest.raises(OutcomeUnknownError, match="correlation"):
        _created_key(None, "KnSalesRelationOrg", "DbId")
    answer = {"results": {"KnSalesRelationOrg": [{"DbId": 10001}]}}
    assert _created_key(answer, "KnSalesRelationOrg", "DbId") == "10001"


async def test_an_ip_restriction_stops_the_connection(
    sim: AfasSimulator, afas: AfasGateway
) -> None:
    sim.add_fault(Fault("forbidden"))
    with pytest.raises(AuthError, match="IP"):
        await afas.read("customer", ["10001"])


async def test_too_big_a_page_asks_for_a_smaller_page_size(
    mappings: dict[str, EntityMapping],
) -> None:
    sim = simulator(max_cells=50)
    for n in range(5):
        sim.data.seed("customer", {"DebtorName": f"D{n}"})
    async with served(sim) as url:
        big = gateway(url, mappings, page_size=10)
        with pytest.raises(PermanentError, match="page_size"):
            await anext(big.list_all("customer"))
        await big.aclose()
        small = gateway(url, mappings, page_size=2)
        assert len([p async for p in small.list_all("customer")]) == 3
        await small.aclose()


@pytest.mark.parametrize(
    ("block", "error", "text"),
    [(True, PermanentError, "geblokkeerd"), (False, PermanentError, "niet gevonden")],
)
async def test_dutch_messages_are_understood_too(
    sim: AfasSimulator, block: bool, error: type[Exception], text: str
) -> None:
    async with served(sim) as url:
        dutch = AfasClient(url, token=TOKEN, language="nl-nl", retry=FAST_RETRY)
        if block:
            sim.blocked.add("syncd_debtors")
            params = [("take", "1")]
        else:
            params = [("orderbyfieldids", "Nope")]
        with pytest.raises(error, match=text) as caught:
            await dutch.get("connectors/syncd_debtors", params)
        if block:
            assert "administrator" in str(caught.value)
        await dutch.aclose()


async def test_a_write_that_times_out_is_still_done_by_afas(
    sim: AfasSimulator, afas: AfasGateway
) -> None:
    sim.add_fault(Fault("slow", method="POST", seconds=0.6))
    with pytest.raises(OutcomeUnknownError, match="look the record up"):
        await afas.create("customer", SAMPLE, "crm-slow")
    assert await afas.find_by_correlation("customer", ["crm-slow"]) == {}  # not yet
    await asyncio.sleep(0.6)
    assert list(await afas.find_by_correlation("customer", ["crm-slow"])) == ["crm-slow"]
    assert requests_to(sim, "POST", "KnSalesRelationOrg") == 1


async def test_profit_stops_a_request_at_its_limit_and_saves_nothing(
    mappings: dict[str, EntityMapping],
) -> None:
    """Profit's own time-out (900 s; shorter here) ends the request with a 500 "Command
    timeout expired." and nothing of it is saved: a simulator that saved it anyway would
    hide a create sent again too early."""
    sim = simulator(command_timeout=0.3)
    sim.add_fault(Fault("slow", method="POST", seconds=5.0, times=10))
    async with served(sim) as url:
        afas = gateway(url, mappings)  # waits longer than Profit works on it
        with pytest.raises(TransientError, match="Command timeout expired"):
            await afas.create("customer", SAMPLE, "crm-too-slow")  # each try stopped
        assert await afas.find_by_correlation("customer", ["crm-too-slow"]) == {}
        await afas.aclose()


@pytest.mark.parametrize("write_timeout", [30.0, 300.0, 1200.0])
def test_a_create_may_land_until_profits_own_limit_whatever_the_client_waits(
    write_timeout: float,
) -> None:
    """AFAS goes on with a request its caller gave up on for at most its own 900 s: the
    window is that limit, not a multiple of how long syncd waits for an answer."""
    waits = client("http://afas.invalid", limits=Limits(write_timeout=write_timeout))
    assert AfasGateway(waits, {}).outcome_window == timedelta(seconds=900)
    shorter = client("http://afas.invalid", limits=Limits(server_timeout=2.0))  # a simulator
    assert AfasGateway(shorter, {}).outcome_window == timedelta(seconds=2)
