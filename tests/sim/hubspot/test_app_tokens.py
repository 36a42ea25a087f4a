"""The simulated app's client-credentials tokens: OAuth's token endpoint hands one out for
the app's id and secret, and the journal takes nothing else, nor an expired one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from syncd.sim.hubspot import HubSpotSimulator
from syncd.sim.hubspot.app_tokens import JOURNAL_SCOPE, SimApp

LATEST = "/webhooks-journal/journal-local/2026-03/latest"


@pytest.fixture
async def app_sim() -> AsyncIterator[tuple[HubSpotSimulator, list[float]]]:
    now = [1_000_000.0]
    simulator = HubSpotSimulator(app=SimApp(clock=lambda: now[0]))
    await simulator.start()
    yield simulator, now
    await simulator.close()


async def ask(session: aiohttp.ClientSession, **form: str) -> tuple[int, dict[str, object]]:
    async with session.post("/oauth/2026-03/token", data=form) as reply:
        return reply.status, await reply.json()


def credentials(app: SimApp, **changed: str) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "scope": JOURNAL_SCOPE,
    }
    return {**form, **changed}


async def journal_status(session: aiohttp.ClientSession, token: str) -> int:
    async with session.get(LATEST, headers={"Authorization": f"Bearer {token}"}) as reply:
        return reply.status


async def test_the_token_opens_the_journal_until_it_expires(
    app_sim: tuple[HubSpotSimulator, list[float]],
) -> None:
    sim, now = app_sim
    async with aiohttp.ClientSession(base_url=sim.url) as session:
        status, body = await ask(session, **credentials(sim.installed_app))
        assert status == 200
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 1800
        token = str(body["access_token"])
        assert await journal_status(session, token) == 404  # let in: the journal is empty
        assert await journal_status(session, "pat-na1-portal-token") == 401

        now[0] += 1800
        assert await journal_status(session, token) == 401


@pytest.mark.parametrize(
    ("changed", "named"),
    [
        ({"grant_type": "refresh_token"}, "BAD_GRANT_TYPE"),
        ({"client_id": "someone-else"}, "BAD_CLIENT_ID"),
        ({"client_secret": "guessed"}, "BAD_CLIENT_SECRET"),
    ],
)
async def test_wrong_credentials_get_no_token(
    app_sim: tuple[HubSpotSimulator, list[float]], changed: dict[str, str], named: str
) -> None:
    sim, _ = app_sim
    async with aiohttp.ClientSession(base_url=sim.url) as session:
        status, body = await ask(session, **credentials(sim.installed_app, **changed))
    assert (status, body["status"]) == (400, named)


async def test_a_token_without_the_journal_scope_is_refused_by_the_journal(
    app_sim: tuple[HubSpotSimulator, list[float]],
) -> None:
    sim, _ = app_sim
    async with aiohttp.ClientSession(base_url=sim.url) as session:
        _, body = await ask(session, **credentials(sim.installed_app, scope="crm.objects.read"))
        assert await journal_status(session, str(body["access_token"])) == 401
