"""The HTTP client for ProfitRestServices: auth, fair use, retries, error translation.

This module is the only place in syncd that sees aiohttp's exceptions and AFAS's status
codes; :meth:`AfasClient._send` turns them into :mod:`syncd.errors`:

=====================================  =============================================
what happened                          raised
=====================================  =============================================
connect failed (nothing was sent)      TransientError (retried)
503 (``retry_after`` in the body)      TransientError(retry_after) (retried if short)
500 naming a lock                      TransientError (retried)
500 "Command timeout expired."         TransientError
500 "Out of memory / String space"     PermanentError (lower ``page_size``)
timeout / connection lost, GET         TransientError (retried)
timeout / connection lost, POST/PUT    OutcomeUnknownError (never re-sent: look it up)
401, 403                               AuthError
500 "not supported … not authorized"   AuthError
500 "GetConnector … blocked"           PermanentError (an administrator must unblock it)
404                                    PermanentError (unknown connector, or query too long)
500 without AFAS's JSON error (HTML)   TransientError (read); OutcomeUnknownError (write)
other 500 on a write                   RecordError(externalMessage, reference=profitLogReference)
other 500 on a read                    PermanentError with the message and reference
2xx body not JSON (HTML, cut off,      TransientError saying what arrived (read);
  not UTF-8)                           taken as done (write: a create is then looked up)
=====================================  =============================================

Fair use: at most ``concurrency`` requests at once (AFAS allows 8; 5 by default), at
most ``rate`` per second (aiolimiter) when set, and long read timeouts (AFAS itself gives
up after 15 minutes).
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from tenacity.wait import wait_base
from yarl import URL

from syncd.errors import (
    AuthError,
    GatewayError,
    OutcomeUnknownError,
    PermanentError,
    RecordError,
    TransientError,
)
from syncd.gateways.http.json_body import UnreadableBody, describe_body, json_body, lenient_text
from syncd.gateways.http.reads_first import READ, WRITE, ReadsFirstConcurrency
from syncd.gateways.http.tls import tls_connector
from syncd.gateways.http.token_lifetime import usable_for
from syncd.gateways.http.transport_errors import why_no_answer
from syncd.gateways.http.user_agent import user_agent

ENVIRONMENT_HOSTS = {"production": "rest", "test": "resttest", "accept": "restaccept"}
QUERY_LIMIT = 2049
"""Longest query string (from the ``?`` on) AFAS answers; longer gets a 404."""

_LOCK = re.compile(r"\b(lock|locked|row lock|vergrendeld)\b|door een andere gebruiker")
_TRANSIENT_WORDS = ("command timeout", "maximale tijdsduur", "maximum duration")
_TOO_BIG_WORDS = ("out of memory", "out of string space")
_AUTH_WORDS = ("not authorized", "niet geautoriseerd", "not supported", "niet ondersteund")


def base_url(environment: str | int, environment_type: str = "production") -> str:
    """The ProfitRestServices URL of an environment number and type."""
    host = ENVIRONMENT_HOSTS.get(environment_type)
    if host is None:
        raise ValueError(f"environment type must be one of: {', '.join(ENVIRONMENT_HOSTS)}")
    return f"https://{environment}.{host}.afas.online/ProfitRestServices"


def token_header(token: str) -> str:
    """``AfasToken <base64 of the whole XML token>``; a bare data string is wrapped first."""
    text = token.strip()
    if not text.startswith("<token>"):
        text = f"<token><version>1</version><data>{text}</data></token>"
    return "AfasToken " + base64.b64encode(text.encode()).decode()


@dataclass(frozen=True)
class OAuthClient:
    """OAuth client credentials (the successor of the classic token)."""

    client_id: str
    client_secret: str


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry what is safe to retry."""

    attempts: int = 4
    initial: float = 0.5
    maximum: float = 20.0
    max_retry_after: float = 60.0  # a longer retry_after is left to the engine


@dataclass(frozen=True)
class Limits:
    concurrency: int = 5
    rate: float | None = None  # requests per second; None = unlimited
    read_timeout: float = 900.0
    write_timeout: float = 300.0
    # Profit's own limit: it stops a request it has worked on this long ("Command timeout
    # expired") and saves nothing of it. A simulator's may be shorter.
    server_timeout: float = 900.0
    connect_timeout: float = 30.0
    ca_bundle: str | None = None  # extra CAs to trust (PEM); verification is always on


def encode_query(params: Sequence[tuple[str, str]]) -> str:
    """A query string as AFAS wants it: every separator percent-encoded."""
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in params)


class _WaitRetryAfter(wait_base):
    """Wait what the server asked for, else exponential backoff with jitter."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._backoff = wait_exponential(
            multiplier=policy.initial, max=policy.maximum
        ) + wait_random(0, policy.initial)

    def __call__(self, retry_state: Any) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            return float(exc.retry_after)
        return float(self._backoff(retry_state))


class AfasClient:
    """Requests to one Profit environment; a session is opened on first use."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        oauth: OAuthClient | None = None,
        limits: Limits | None = None,
        retry: RetryPolicy | None = None,
        language: str | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if (token is None) == (oauth is None):
            raise ValueError("give either a token or OAuth client credentials")
        self.url = URL(url.rstrip("/"))
        self._token = token
        self._oauth = oauth
        self.limits = limits or Limits()
        self.retry = retry or RetryPolicy()
        self._language = language
        self._session = session
        self._own_session = session is None
        self._concurrency = ReadsFirstConcurrency(self.limits.concurrency)  # fair use
        self.requests_sent = 0  # every HTTP request, retries included (fair use)
        self._limiter = (
            AsyncLimiter(self.limits.rate, 1.0) if self.limits.rate is not None else None
        )
        self._bearer: tuple[str, float] | None = None

    # -- public ---------------------------------------------------------------------------

    async def get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        """GET ``path`` with ``params``; retried on transient errors."""
        query = encode_query(params)
        if len(query) + 1 > QUERY_LIMIT:
            raise ValueError(f"query of {len(query) + 1} characters exceeds {QUERY_LIMIT}")
        return await self._retrying("GET", path, query=query)

    async def post(self, path: str, body: Mapping[str, object]) -> Any:
        return await self._retrying("POST", path, body=body)

    async def put(self, path: str, body: Mapping[str, object]) -> Any:
        return await self._retrying("PUT", path, body=body)

    async def aclose(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    # -- retries --------------------------------------------------------------------------

    async def _retrying(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        body: Mapping[str, object] | None = None,
    ) -> Any:
        policy = self.retry

        def retryable(exc: BaseException) -> bool:
            if not isinstance(exc, TransientError):
                return False
            return exc.retry_after is None or exc.retry_after <= policy.max_retry_after

        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(policy.attempts),
            wait=_WaitRetryAfter(policy),
            retry=retry_if_exception(retryable),
            reraise=True,
        ):
            with attempt:
                return await self._attempt(method, path, query, body)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self, method: str, path: str, query: str, body: Mapping[str, object] | None
    ) -> Any:
        """One attempt; with OAuth, a refused bearer token is renewed once."""
        try:
            return await self._send(method, path, query, body)
        except AuthError:
            if self._oauth is None or self._bearer is None:
                raise
            self._bearer = None
            return await self._send(method, path, query, body)

    # -- the one place aiohttp's errors are caught ----------------------------------------

    async def _send(
        self, method: str, path: str, query: str, body: Mapping[str, object] | None
    ) -> Any:
        url = self.url.with_path(f"{self.url.path}/{path.lstrip('/')}", encoded=False)
        if query:
            url = URL(f"{url}?{query}", encoded=True)
        write = method != "GET"
        limits = self.limits
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=limits.connect_timeout,
            sock_read=limits.write_timeout if write else limits.read_timeout,
        )
        what = f"AFAS {method} {path}"
        async with self._concurrency(WRITE if write else READ):
            if self._limiter is not None:
                await self._limiter.acquire()
            self.requests_sent += 1
            try:
                session = self._session_for_use()
                headers = await self._headers(session)
                data = None if body is None else json.dumps(body).encode()
                async with session.request(
                    method, url, data=data, headers=headers, timeout=timeout
                ) as response:
                    data = await response.read()
                    return _read_answer(what, response.status, response.headers, data, write)
            except (aiohttp.ClientConnectorError, aiohttp.ClientSSLError) as exc:
                raise TransientError(f"{what}: cannot connect ({exc})") from exc
            except (TimeoutError, aiohttp.ClientError) as exc:
                reason = why_no_answer(exc)
                if write:
                    raise OutcomeUnknownError(
                        f"{what}: {reason} after it was sent; AFAS may still have done it: "
                        "look the record up before writing again"
                    ) from exc
                raise TransientError(f"{what}: {reason}") from exc

    def _session_for_use(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=tls_connector(self.limits.ca_bundle))
            # aiohttp re-sends a PUT once when a kept-alive connection drops (RFC 9112
            # lets clients retry idempotent methods). An AFAS PUT may already have been
            # done when that happens, so it must surface as OutcomeUnknownError instead.
            if hasattr(self._session, "_retry_connection"):
                setattr(self._session, "_retry_connection", False)  # noqa: B010
        return self._session

    async def _headers(self, session: aiohttp.ClientSession) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json;charset=utf-8",
            "User-Agent": user_agent(),
        }
        if self._language:
            headers["Accept-Language"] = self._language
        if self._token is not None:
            headers["Authorization"] = token_header(self._token)
        else:
            headers["Authorization"] = f"Bearer {await self._access_token(session)}"
        return headers

    async def _access_token(self, session: aiohttp.ClientSession) -> str:
        """An OAuth access token, fetched again a minute before it expires."""
        if self._bearer is not None and self._bearer[1] > time.monotonic():
            return self._bearer[0]
        assert self._oauth is not None
        form = {
            "grant_type": "client_credentials",
            "client_id": self._oauth.client_id,
            "client_secret": self._oauth.client_secret,
        }
        url = self.url.with_path(f"{self.url.path}/oauth/token")
        async with session.post(url, data=form) as response:
            data = await response.read()
            if response.status in (400, 401, 403):
                raise AuthError(
                    f"AFAS refused the OAuth client credentials ({response.status}); "
                    "check the client id and secret of the app connector"
                )
            doc = _read_answer(
                "AFAS POST oauth/token", response.status, response.headers, data, False
            )
        token = str(doc["access_token"])
        lifetime = float(doc.get("expires_in", 3600))
        usable = usable_for(timedelta(seconds=lifetime)).total_seconds()
        self._bearer = (token, time.monotonic() + usable)
        return token


def _read_answer(
    what: str, status: int, headers: Mapping[str, str], raw: bytes | str, write: bool
) -> Any:
    """The JSON of a 2xx answer, or the error that ``status`` and the body stand for."""
    data = raw.encode() if isinstance(raw, str) else raw
    if 200 <= status < 300:
        try:
            return json_body(data)
        except UnreadableBody as exc:
            if write:  # it was done; what it answered is unreadable
                return None
            raise TransientError(
                f"{what}: AFAS answered {status} with an unreadable body: it {exc}. A proxy "
                "or load balancer may have answered in AFAS's place, or the connection "
                "dropped; nothing was read, the cycle is tried again later"
            ) from None
    text = lenient_text(data)
    if status in (401, 403):
        why = "the token is not valid" if status == 401 else "the IP address is not allowed"
        raise AuthError(
            f"{what}: AFAS answered {status} ({why}); check the token of the app connector "
            "and its IP restrictions"
        )
    if status == 404:
        raise PermanentError(
            f"{what}: AFAS answered 404; check the connector id (and that the query is "
            f"at most {QUERY_LIMIT} characters)"
        )
    body = _parse_json(text)
    if status == 503:
        retry_after = body.get("retry_after") or headers.get("Retry-After")
        raise TransientError(f"{what}: AFAS is unavailable (503)", _as_seconds(retry_after))
    if status == 500 and not (body.get("externalMessage") or body.get("message")):
        raise _error_from_foreign_500(what, data, write)
    if status == 500:
        raise _error_from_500(what, body, write)
    if status >= 500:
        if write:
            raise OutcomeUnknownError(
                f"{what}: AFAS answered {status}; the write may have happened"
            )
        raise TransientError(f"{what}: AFAS answered {status}")
    message = body.get("message") or body.get("externalMessage") or text[:200]
    raise PermanentError(f"{what}: AFAS answered {status}: {message}")


def _error_from_500(what: str, body: Mapping[str, Any], write: bool) -> GatewayError | RecordError:
    message = str(body.get("externalMessage") or body.get("message") or "no message")
    reference = body.get("profitLogReference")
    shown = f"{message} (AFAS log reference {reference})" if reference else message
    lower = message.lower()
    if "(definition) is blocked" in lower or "(definitie) is geblokkeerd" in lower:
        return PermanentError(
            f"{what}: {shown}. AFAS blocked this GetConnector under its fair-use policy; "
            "an administrator must unblock it in Profit"
        )
    if _LOCK.search(lower):
        return TransientError(f"{what}: {shown}")
    if any(word in lower for word in _AUTH_WORDS):
        return AuthError(f"{what}: {shown}; add the connector to the app connector's user")
    if any(word in lower for word in _TOO_BIG_WORDS):
        return PermanentError(f"{what}: {shown}; the pages are too big: lower page_size")
    if any(word in lower for word in _TRANSIENT_WORDS):
        return TransientError(f"{what}: {shown}")
    if write:
        return RecordError(f"AFAS refused the record: {message}", reference=reference)
    return PermanentError(f"{what}: {shown}")


def _error_from_foreign_500(what: str, data: bytes, write: bool) -> GatewayError:
    """A 500 without AFAS's error JSON: something between syncd and AFAS failed."""
    shown = describe_body(data)
    said = f"{what}: answered 500 with a body that {shown}, not AFAS's error message"
    if write:
        return OutcomeUnknownError(f"{said}; the write may have happened: look it up first")
    return TransientError(f"{said}; a proxy or load balancer may have failed: tried again later")


def _parse_json(text: str) -> dict[str, Any]:
    try:
        doc = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _as_seconds(value: object) -> float | None:
    try:
        return float(value) if value is not None else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
