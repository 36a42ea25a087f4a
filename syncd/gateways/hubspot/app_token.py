"""The app's own token for HubSpot's Webhooks Journal: OAuth's client-credentials grant.

The journal answers an app, not a portal's private-app token: HubSpot documents it for a
token the app gets with its client id and secret and the ``developer.webhooks_journal.read``
scope, from its OAuth token endpoint. Such a token lives for a while (``expires_in``
seconds); :class:`AppToken` asks for one when first needed, keeps it, and asks again a
minute before it expires or when HubSpot refused it. It belongs to the app, so the portal
is named in every journal request (``installPortalId``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from syncd.clock import utc_now
from syncd.errors import AuthError, PermanentError, TransientError
from syncd.gateways.http.token_lifetime import usable_for
from syncd.gateways.hubspot.client import HubSpotClient

TOKEN_PATH = "/oauth/2026-03/token"  # /oauth/v1/token is retired on 2027-02-16
JOURNAL_SCOPE = "developer.webhooks_journal.read"


@dataclass(frozen=True)
class AppCredentials:
    """The HubSpot app's client id and secret, and the portal it reads the journal of."""

    client_id: str
    client_secret: str = field(repr=False)
    portal_id: int


@dataclass
class _Held:
    token: str
    renew_at: datetime


class AppToken:
    """A client-credentials token for the journal, asked for again before it expires."""

    def __init__(
        self,
        client: HubSpotClient,
        credentials: AppCredentials,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._client = client
        self._credentials = credentials
        self._clock = clock
        self._held: _Held | None = None

    @property
    def portal_id(self) -> int:
        return self._credentials.portal_id

    async def bearer(self) -> str:
        """A token that has not expired, asking HubSpot for a new one when needed."""
        if self._held is None or self._clock() >= self._held.renew_at:
            self._held = await self._ask()
        return self._held.token

    def forget(self) -> None:
        """HubSpot refused the token: the next :meth:`bearer` asks for a new one."""
        self._held = None

    async def _ask(self) -> _Held:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._credentials.client_id,
            "client_secret": self._credentials.client_secret,
            "scope": JOURNAL_SCOPE,
        }
        try:
            reply = await self._client.post_form(TOKEN_PATH, form)
        except (PermanentError, AuthError) as error:
            raise AuthError(
                f"HubSpot gave the app no journal token: {error}; check the journal's "
                f"client_id and client_secret_env, and that the app has the "
                f"{JOURNAL_SCOPE} scope"
            ) from None
        token, lifetime = _token_in(reply.body)
        return _Held(token, self._clock() + usable_for(lifetime))


def _token_in(body: Any) -> tuple[str, timedelta]:
    token = body.get("access_token") if isinstance(body, dict) else None
    seconds = body.get("expires_in") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise TransientError("HubSpot's token endpoint answered without an access_token")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds <= 0:
        raise TransientError("HubSpot's token endpoint answered without expires_in")
    return token, timedelta(seconds=seconds)
