"""Signing in to the status page: a browser without the token gets a form asking for it;
the right token, posted from the page with its CSRF token, sets the cookie ``?token=``
sets and goes back to the page asked for; a wrong one is refused and never shown."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from syncd.state.store import StateStore
from syncd.status import csrf
from syncd.status.server import StatusSource, make_app

TOKEN = "sign-in-s3cret"
WRONG = "not-the-t0ken"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(store: StateStore) -> AsyncIterator[Client]:
    app = make_app(StatusSource(store, [("test", "customer")]), token=TOKEN)
    async with TestClient(TestServer(app)) as served:
        yield served


def origin(client: Client) -> dict[str, str]:
    return {"Origin": str(client.make_url("/")).rstrip("/")}


async def sign_in_form(client: Client, path: str) -> dict[str, str]:
    """What a browser's first visit to ``path`` shows: the form's hidden fields."""
    page = await client.get(path, headers=BROWSER)
    assert page.status == 401
    text = await page.text()
    assert "action='/signin'" in text
    assert "type='password' name='token'" in text
    return dict(re.findall(r"type='hidden' name='(\w+)' value='([^']*)'", text))


async def post(client: Client, form: dict[str, str], **headers: str) -> ClientResponse:
    return await client.post(
        "/signin", data=form, headers=headers or origin(client), allow_redirects=False
    )


def session_cookie(response: ClientResponse) -> str | None:
    found = [c for c in response.headers.getall("Set-Cookie", []) if csrf.SESSION_COOKIE in c]
    return found[0] if found else None


async def test_the_right_token_signs_in_and_goes_back_to_the_page(client: Client) -> None:
    hidden = await sign_in_form(client, "/guards?done=x")
    assert hidden["next"] == "/guards?done=x"

    signed = await post(client, {**hidden, "token": TOKEN})

    assert signed.status == 303
    assert signed.headers["Location"] == "/guards?done=x"
    cookie = session_cookie(signed)
    assert cookie is not None
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert TOKEN not in cookie  # a proof of the token, not the token
    assert (await client.get("/guards")).status == 200


async def test_a_wrong_token_is_refused_and_never_shown(client: Client) -> None:
    hidden = await sign_in_form(client, "/conflicts")

    refused = await post(client, {**hidden, "token": WRONG})

    text = await refused.text()
    assert refused.status == 401
    assert "not the status page&#x27;s token" in text
    assert WRONG not in text
    assert "action='/signin'" in text  # asked again
    assert session_cookie(refused) is None
    assert (await client.get("/conflicts")).status == 401


async def test_a_sign_in_from_elsewhere_or_without_the_form_is_refused(client: Client) -> None:
    hidden = await sign_in_form(client, "/")
    elsewhere = await post(client, {**hidden, "token": TOKEN}, Origin="http://evil.example")
    assert elsewhere.status == 403
    forged = await post(client, {**hidden, "csrf": "0" * 64, "token": TOKEN})
    assert forged.status == 403
    assert "try again" in await forged.text()
    for response in (elsewhere, forged):
        assert session_cookie(response) is None
    assert (await client.get("/")).status == 401


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
async def test_signing_in_goes_nowhere_but_this_server(client: Client, target: str) -> None:
    hidden = await sign_in_form(client, "/")

    signed = await post(client, {**hidden, "next": target, "token": TOKEN})

    assert signed.status == 303
    assert signed.headers["Location"] == "/"


async def test_scripts_still_get_a_plain_401_and_may_use_the_query(client: Client) -> None:
    plain = await client.get("/status")
    assert plain.status == 401
    assert await plain.text() == "a token is required\n"
    linked = await client.get("/guards", params={"token": TOKEN}, headers=BROWSER)
    assert linked.status == 200
    assert (await client.get("/conflicts")).status == 200  # the cookie it set


async def test_an_operator_signs_in_with_their_own_token(store: StateStore) -> None:
    operators = {"Anouk": "anouks-own-t0ken", "Bram": "brams-own-t0ken"}
    app = make_app(StatusSource(store, [("test", "customer")]), token=TOKEN, operators=operators)
    async with TestClient(TestServer(app)) as client:
        hidden = await sign_in_form(client, "/")
        signed = await post(client, {**hidden, "token": "brams-own-t0ken"})
        assert signed.status == 303
        cookie = session_cookie(signed)
        assert cookie is not None
        assert "brams-own-t0ken" not in cookie
        assert (await client.get("/")).status == 200
        assert (await client.get("/", headers={"Authorization": "Bearer anouks-own-t0ken"})).ok
