"""The Webhooks Journal reader against the simulator: it reads from the stored offset,
pages until caught up, hints what the entries name and stores the offset after."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from syncd.errors import AuthError, TransientError
from syncd.gateways.hubspot.app_token import AppCredentials, AppToken
from syncd.gateways.hubspot.change_events import COMPANY, CONTACT, Hinted
from syncd.gateways.hubspot.journal import FROM_EARLIEST, JOURNAL, JournalReader, JournalStore
from tests.gateways.hubspot.harness import HubSpotHarness
from tests.gateways.hubspot.test_openapi import HOST, SPECS, check_error

BATCH = "journal GET batch"


@dataclass
class Kept:
    """An offset kept in memory, and every hint handed on."""

    offset: str | None = None
    hinted: list[Hinted] = field(default_factory=list)

    async def load(self) -> str | None:
        return self.offset

    async def save(self, offset: str | None) -> None:
        self.offset = offset

    def ids(self, kind: str) -> set[str]:
        return {i for hinted in self.hinted for i in hinted.ids[kind]}


def app_token(hs: HubSpotHarness) -> AppToken:
    app = hs.sim.installed_app
    client = hs.hub._client  # the gateway's own, as journal_reader gives it
    return AppToken(client, AppCredentials(app.client_id, app.client_secret, app.portal_id))


def reader(hs: HubSpotHarness, kept: Kept, *, page: int = 100) -> JournalReader:
    client, store = hs.hub._client, JournalStore(kept.load, kept.save)
    return JournalReader(client, app_token(hs), store, kept.hinted.append, page=page)


def edited_companies(hs: HubSpotHarness, count: int) -> list[str]:
    ids = [hs.sim.seed({"name": f"Company {n}"}) for n in range(count)]
    for n, company in enumerate(ids):
        hs.sim.edit(company, {"name": f"Renamed {n}"})
    return ids


async def test_a_first_poll_starts_at_the_newest_entry(hs: HubSpotHarness) -> None:
    edited_companies(hs, 2)
    kept = Kept()
    await reader(hs, kept).poll()
    assert kept.offset == hs.sim.journal.entries[-1].offset
    assert kept.hinted == []  # what came before is polling's


async def test_it_pages_until_caught_up_and_stores_the_offset(hs: HubSpotHarness) -> None:
    edited_companies(hs, 1)
    kept = Kept()
    journal = reader(hs, kept, page=2)
    await journal.poll()
    companies = edited_companies(hs, 5)
    hs.sim.counts.clear()

    done = await journal.poll()

    assert done.entries == 5
    assert kept.ids(COMPANY) == set(companies)
    assert kept.ids(CONTACT) == set()
    assert kept.offset == hs.sim.journal.entries[-1].offset
    assert hs.sim.counts[BATCH] == 3  # pages of 2, 2 and 1


async def test_nothing_happened_costs_one_request(hs: HubSpotHarness) -> None:
    edited_companies(hs, 1)
    kept = Kept()
    journal = reader(hs, kept)
    await journal.poll()
    offset, sent = kept.offset, hs.hub.requests_sent
    hs.sim.counts.clear()

    done = await journal.poll()

    assert done.entries == 0
    assert kept.hinted == []
    assert kept.offset == offset
    assert hs.hub.requests_sent == sent + 1  # counted in the HubSpot budget
    assert dict(hs.sim.counts) == {BATCH: 1}  # the app's token is kept


async def test_the_offset_moves_only_after_the_hints_are_handed_on(hs: HubSpotHarness) -> None:
    edited_companies(hs, 1)
    kept = Kept()
    await reader(hs, kept).poll()
    before = kept.offset
    edited_companies(hs, 1)

    def refuse(hinted: Hinted) -> None:
        raise RuntimeError("the daemon fell over")

    client = hs.hub._client
    failing = JournalReader(client, app_token(hs), JournalStore(kept.load, kept.save), refuse)
    with pytest.raises(RuntimeError):
        await failing.poll()
    assert kept.offset == before  # read again next time: hints are idempotent
    await reader(hs, kept).poll()
    assert kept.hinted
    assert kept.offset != before


async def test_contacts_and_their_associations_are_hinted(hs: HubSpotHarness) -> None:
    company = hs.sim.seed({"name": "Acme"})
    contact = hs.sim.seed_contact({"email": "anouk@acme.example"})
    kept = Kept()
    journal = reader(hs, kept)
    hs.sim.edit(company, {"name": "Acme B.V."})  # so that the journal has a newest entry
    await journal.poll()

    hs.sim.edit_contact(contact, {"firstname": "Anouk"})
    hs.sim.associate(contact, company)
    await journal.poll()

    assert kept.ids(CONTACT) == {contact}
    assert kept.ids(COMPANY) == {company}


async def test_an_expired_offset_is_forgotten_and_reading_starts_again(
    hs: HubSpotHarness,
) -> None:
    edited_companies(hs, 1)
    kept = Kept()
    journal = reader(hs, kept)
    await journal.poll()
    stale = kept.offset
    later = hs.sim.journal.clock() + hs.sim.journal.retention + 60
    hs.sim.journal.clock = lambda: later  # three days on: the entry is gone
    edited_companies(hs, 1)

    done = await journal.poll()

    assert done.expired
    assert kept.offset is None
    assert kept.hinted == []
    await journal.poll()  # starts at the newest entry again; polling covered the gap
    assert kept.offset not in (None, stale)


async def test_a_journal_that_was_empty_is_read_from_its_first_entry(
    hs: HubSpotHarness,
) -> None:
    kept = Kept()
    journal = reader(hs, kept)
    await journal.poll()
    assert kept.offset == FROM_EARLIEST  # nothing to start after yet
    companies = edited_companies(hs, 2)

    await journal.poll()

    assert kept.ids(COMPANY) == set(companies)
    assert kept.offset == hs.sim.journal.entries[-1].offset


@pytest.mark.filterwarnings(
    "ignore:Unsupported scheme type:UserWarning:openapi_core.security.providers"
)
async def test_the_journal_exchanges_match_hubspots_openapi_file(hs: HubSpotHarness) -> None:
    journal = OpenAPI.from_file_path(str(SPECS / "webhooks-journal-2026-03.json"))
    hs.sim.record = True
    kept = Kept()
    await reader(hs, kept, page=2).poll()  # empty: latest answers 404
    edited_companies(hs, 3)
    await reader(hs, kept, page=2).poll()
    kept.offset = "3c90c3cc-0d44-4b50-8888-8dd25736052a"  # unknown: 404
    await reader(hs, kept).poll()

    statuses = []
    for exchange in hs.sim.exchanges:
        if not exchange.path.startswith("/webhooks-journal/"):
            continue  # the app's token, asked for once
        assert exchange.query == {"installPortalId": str(hs.sim.installed_app.portal_id)}
        request = MockRequest(
            HOST,
            "get",
            exchange.path,
            args=exchange.query,
            headers={"Authorization": "Bearer app-token"},
        )
        journal.validate_request(request)
        statuses.append(exchange.status)
        if exchange.status >= 400:
            check_error(exchange.response)
        else:
            body = json.dumps(exchange.response).encode()
            journal.validate_response(request, MockResponse(body, status_code=exchange.status))
    assert statuses == [404, 200, 200, 404]


async def test_an_entry_file_takes_no_token_and_its_link_expires(hs: HubSpotHarness) -> None:
    (company,) = edited_companies(hs, 1)
    client = hs.hub._client
    url = await client.call("GET", f"{JOURNAL}/latest", token=await app_token(hs).bearer())
    url = url.body["url"]
    async with aiohttp.ClientSession() as session:
        with_token = {"Authorization": "Bearer pat-test-token"}
        async with session.get(url, headers=with_token) as reply:
            assert reply.status == 400  # the token never goes to the file store
    events = await client.download(url)
    assert [e["objectId"] for e in events] == [int(company)]

    later = hs.sim.journal.clock() + 3600
    hs.sim.journal.clock = lambda: later
    with pytest.raises(TransientError, match="expired"):
        await client.download(url)


# -- the app's token ---------------------------------------------------------------------

TOKEN = "oauth POST token"  # the simulator's name for a request to OAuth's token endpoint


async def test_the_journal_refuses_the_portals_own_token(hs: HubSpotHarness) -> None:
    with pytest.raises(AuthError, match="refused the token"):
        await hs.hub._client.call("GET", f"{JOURNAL}/latest")


async def test_the_apps_token_is_asked_for_once_and_again_before_it_expires(
    hs: HubSpotHarness,
) -> None:
    now = [datetime(2026, 12, 8, 9, 0, tzinfo=UTC)]
    app = hs.sim.installed_app
    credentials = AppCredentials(app.client_id, app.client_secret, app.portal_id)
    token = AppToken(hs.hub._client, credentials, clock=lambda: now[0])
    kept = Kept()
    journal = JournalReader(hs.hub._client, token, JournalStore(kept.load, kept.save), print)
    edited_companies(hs, 1)

    for _ in range(3):
        await journal.poll()
    assert hs.sim.counts[TOKEN] == 1

    now[0] += timedelta(seconds=app.lifetime - 30)  # within a minute of its end
    await journal.poll()
    assert hs.sim.counts[TOKEN] == 2


async def test_a_token_the_journal_refuses_is_renewed_at_once(hs: HubSpotHarness) -> None:
    kept = Kept()
    journal = reader(hs, kept)
    edited_companies(hs, 1)
    await journal.poll()
    hs.sim.installed_app.expire_tokens()  # HubSpot forgot it before its time
    companies = edited_companies(hs, 1)

    await journal.poll()

    assert kept.ids(COMPANY) == set(companies)
    assert hs.sim.counts[TOKEN] == 2


async def test_wrong_app_credentials_name_the_settings_and_not_the_secret(
    hs: HubSpotHarness,
) -> None:
    app = hs.sim.installed_app
    wrong = AppCredentials(app.client_id, "not-the-secret-42", app.portal_id)
    journal = JournalReader(
        hs.hub._client,
        AppToken(hs.hub._client, wrong),
        JournalStore(Kept().load, Kept().save),
        print,
    )
    with pytest.raises(AuthError) as raised:
        await journal.poll()
    message = str(raised.value)
    assert "client_secret_env" in message
    assert "developer.webhooks_journal.read" in message
    assert "not-the-secret-42" not in message


async def test_another_portals_journal_is_refused(hs: HubSpotHarness) -> None:
    app = hs.sim.installed_app
    elsewhere = AppCredentials(app.client_id, app.client_secret, app.portal_id + 1)
    kept = Kept()
    journal = JournalReader(
        hs.hub._client,
        AppToken(hs.hub._client, elsewhere),
        JournalStore(kept.load, kept.save),
        print,
    )
    with pytest.raises(AuthError):
        await journal.poll()
    assert kept.offset is None
