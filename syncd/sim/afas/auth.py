"""Who may call the simulated Profit: an ``AfasToken`` (the XML token, base64-encoded),
or a Bearer token from the OAuth client-credentials route."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from datetime import UTC, datetime, timedelta

from aiohttp import web

from syncd.sim.afas.options import SimOptions
from syncd.sim.afas.responses import json_response
from syncd.sim.afas.store import UNEXPECTED, ProfitError

TOKEN = re.compile(r"<token><version>1</version><data>([^<]+)</data></token>")
BEARER_LIFETIME = timedelta(seconds=3600)


class Authentication:
    """Checks ``Authorization`` headers against the options' token and the Bearer tokens
    it handed out (reads the options at each request: tests change them)."""

    def __init__(self, options: SimOptions) -> None:
        self.options = options
        self._bearer_expiry: dict[str, datetime] = {}

    def allows(self, header: str) -> bool:
        scheme, _, credential = header.partition(" ")
        if scheme == "Bearer":
            expiry = self._bearer_expiry.get(credential)
            return expiry is not None and expiry > datetime.now(UTC)
        if scheme != "AfasToken":
            return False
        try:
            text = base64.b64decode(credential, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ProfitError("An unexpected error has occurred.", UNEXPECTED) from None
        match = TOKEN.fullmatch(text)
        if match is None:
            return False
        return self.options.token is None or secrets.compare_digest(match[1], self.options.token)

    async def token_route(self, request: web.Request) -> web.StreamResponse:
        """``POST /oauth/token``: a Bearer token for a known client id and secret."""
        form = await request.post()
        client, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        known = self.options.oauth_clients.get(client)
        if form.get("grant_type") != "client_credentials" or known is None or known != secret:
            return json_response({"error": "invalid_client"}, status=401)
        token = secrets.token_urlsafe(24)
        self._bearer_expiry[token] = datetime.now(UTC) + BEARER_LIFETIME
        return json_response(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": int(BEARER_LIFETIME.total_seconds()),
                "refresh_token": None,
            }
        )

    def expire_bearer_tokens(self) -> None:
        self._bearer_expiry.clear()
