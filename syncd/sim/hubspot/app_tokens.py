"""The simulated HubSpot app: its client id and secret, the client-credentials tokens its
OAuth endpoint hands out, and the journal's check of them.

HubSpot's Webhooks Journal answers a token an app gets with its own credentials and the
``developer.webhooks_journal.read`` scope, not a portal's private-app token; such a token
lives ``expires_in`` seconds (HubSpot's OAuth tokens: 1,800)::

    POST /oauth/2026-03/token | /oauth/v1/token    (form) grant_type=client_credentials,
                                                   client_id, client_secret, scope

What the simulator assumes where HubSpot's pages say nothing: a wrong grant, client id or
secret answers 400 with OAuth's ``{"status": "BAD_...", "message"}`` body, a journal
request without a live token with the scope answers 401, and one naming another portal
(``installPortalId``) than the app's answers 403.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from syncd.sim.hubspot.responses import error_response

JOURNAL_SCOPE = "developer.webhooks_journal.read"
TOKEN_PATHS = ("/oauth/2026-03/token", "/oauth/v1/token")
JOURNAL_PREFIX = "/webhooks-journal/"
LIFETIME = 1800.0  # seconds


@dataclass
class SimApp:
    """The one app installed in the simulated portal."""

    client_id: str = "sim-app-client-id"
    client_secret: str = field(default="sim-app-client-secret", repr=False)
    portal_id: int = 62515
    lifetime: float = LIFETIME
    clock: Callable[[], float] = time.time
    _issued: dict[str, tuple[float, frozenset[str]]] = field(default_factory=dict, repr=False)

    def add_to(self, app: web.Application) -> None:
        for path in TOKEN_PATHS:
            app.router.add_post(path, self._token)

    def expire_tokens(self) -> None:
        """Every token handed out expires now (a test's hour later)."""
        self._issued.clear()

    def journal_refusal(self, request: web.Request) -> web.Response | None:
        """A journal request's answer when its token or portal will not do; else None."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        expires, scopes = self._issued.get(token, (0.0, frozenset()))
        if scheme != "Bearer" or expires <= self.clock() or JOURNAL_SCOPE not in scopes:
            return error_response(
                401,
                "INVALID_AUTHENTICATION",
                f"The journal needs an app token with the {JOURNAL_SCOPE} scope from the "
                "client credentials grant; this one is not (or has expired)",
            )
        portal = request.query.get("installPortalId")
        if portal is not None and portal != str(self.portal_id):
            return error_response(
                403, "MISSING_SCOPES", f"The app is not installed in portal {portal}"
            )
        return None

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return _oauth_error("BAD_GRANT_TYPE", "grant_type must be client_credentials")
        if form.get("client_id") != self.client_id:
            return _oauth_error("BAD_CLIENT_ID", "missing or unknown client id")
        if not secrets.compare_digest(str(form.get("client_secret", "")), self.client_secret):
            return _oauth_error("BAD_CLIENT_SECRET", "missing or invalid client secret")
        token = secrets.token_urlsafe(24)
        scopes = frozenset(str(form.get("scope", "")).split())
        self._issued[token] = (self.clock() + self.lifetime, scopes)
        return web.json_response(
            {"access_token": token, "token_type": "bearer", "expires_in": int(self.lifetime)}
        )


def _oauth_error(status: str, message: str) -> web.Response:
    return web.json_response({"status": status, "message": message}, status=400)
