"""HubSpot's HTTP API as syncd needs it: auth, paths, rate limits, retries, and errors.

This module is the only place of the HubSpot gateway that sees aiohttp. :meth:`HubSpotClient.call`
sends one request and translates everything that can go wrong into :mod:`syncd.errors`:

====================================  ==============================================
what happened                         raised
====================================  ==============================================
could not connect                     TransientError (nothing was sent)
timeout / connection lost, read       TransientError
timeout / connection lost, write      OutcomeUnknownError (it may have been applied)
401, 403                              AuthError (bad token, missing scopes)
404                                   NotFound, a RecordError
400, 409, 422 on a write              RecordError naming the property HubSpot names
409 "... Existing ID: N" on a write   TakenError(existing_id=N) (a contact's e-mail)
400 on a read or search               PermanentError (our request is wrong)
429, 423, 477, 503                    TransientError(retry_after), retried first
500, 502, 504, 524                    TransientError for reads (retried first);
                                      OutcomeUnknownError for writes (not retried)
2xx body not JSON (HTML, cut off,     TransientError saying what arrived, retried first
  not UTF-8), read
2xx body not JSON, write              OutcomeUnknownError
anything else                         PermanentError
====================================  ==============================================

Every request waits for room in HubSpot's rate windows and spends syncd's daily budget
(:mod:`syncd.gateways.hubspot.limits`). A 429 is retried with backoff (tenacity) as its
``policyName`` asks: ``SECONDLY`` after a second, ``TEN_SECONDLY_ROLLING`` after ten,
``DAILY`` not at all (a TransientError whose ``retry_after`` is the time to midnight
UTC). ``Retry-After`` wins when HubSpot sends it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from syncd.errors import (
    AuthError,
    GatewayError,
    OutcomeUnknownError,
    PermanentError,
    RecordError,
    TakenError,
    TransientError,
)
from syncd.gateways.http.json_body import UnreadableBody, json_body
from syncd.gateways.http.tls import tls_connector
from syncd.gateways.http.transport_errors import why_no_answer
from syncd.gateways.http.user_agent import user_agent
from syncd.gateways.hubspot.limits import RequestLimits, seconds_to_midnight

__all__ = ["ClientSettings", "HubSpotClient", "NotFound", "Reply", "RetryableError"]

DEFAULT_BASE_URL = "https://api.hubapi.com"

_RETRY_LATER = {423, 429, 477, 503}
_SERVER_ERRORS = {500, 502, 504, 524}
_RECORD_STATUSES = {400, 409, 422}
_POLICY_WAIT = {"SECONDLY": 1.0, "TEN_SECONDLY_ROLLING": 10.0}
_NAMED_IN_MESSAGE = re.compile(r'"name"\s*:\s*"([^"]+)"')
# HubSpot names the contact holding a taken e-mail only inside its 409's message
_EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")


class NotFound(RecordError):
    """HubSpot has no such (active) object: 404."""


class RetryableError(TransientError):
    """A 429, a "come back later" or a lost read: retried before it reaches the caller."""

    def __init__(
        self, message: str, retry_after: float | None = None, policy: str | None = None
    ) -> None:
        super().__init__(message, retry_after)
        self.policy = policy


@dataclass(frozen=True)
class ClientSettings:
    """How to reach a portal and how hard to use it (the ``hubspot`` gateway options)."""

    base_url: str = DEFAULT_BASE_URL
    api_version: str = "v3"  # "v3", or a dated version like "2026-03"
    search_per_second: float = 4.0  # of the portal's 5, one left to its other apps
    requests_per_ten_seconds: float = 100.0
    daily_budget: int = 200_000
    timeout_seconds: float = 30.0
    max_attempts: int = 5
    backoff_scale: float = 1.0  # multiplies every wait; tests make it small
    ca_bundle: str | None = None  # extra CAs to trust (PEM); verification is always on

    def objects_path(self, object_type: str) -> str:
        if self.api_version == "v3":
            return f"/crm/v3/objects/{object_type}"
        return f"/crm/objects/{self.api_version}/{object_type}"

    def properties_path(self, object_type: str) -> str:
        if self.api_version == "v3":
            return f"/crm/v3/properties/{object_type}"
        return f"/crm/properties/{self.api_version}/{object_type}"

    def associations_path(self, from_type: str, to_type: str) -> str:
        """The batch associations path between two object types (v4, or dated)."""
        if self.api_version == "v3":  # associations have no v3 worth using: v4 beside it
            return f"/crm/v4/associations/{from_type}/{to_type}/batch"
        return f"/crm/associations/{self.api_version}/{from_type}/{to_type}/batch"


@dataclass(frozen=True)
class Reply:
    """A 2xx answer: its status and JSON body (None for 204)."""

    status: int
    body: Any


class HubSpotClient:
    """One portal's API, behind a token; every request goes through :meth:`call`."""

    def __init__(self, token: str, settings: ClientSettings | None = None) -> None:
        self._token = token
        self.settings = settings or ClientSettings()
        self._limits = RequestLimits(
            search_per_second=self.settings.search_per_second,
            requests_per_ten_seconds=self.settings.requests_per_ten_seconds,
            daily_budget=self.settings.daily_budget,
        )
        self._session: aiohttp.ClientSession | None = None
        self._tokenless: aiohttp.ClientSession | None = None  # files, the app's token
        self.requests_sent = 0  # every request since start, retries included

    def status(self) -> dict[str, object]:
        """Today's request count against the daily budget, for the status surface."""
        return self._limits.status()

    async def aclose(self) -> None:
        for session in (self._session, self._tokenless):
            if session is not None:
                await session.close()
        self._session = self._tokenless = None

    async def download(self, url: str) -> Any:
        """The JSON file at a pre-signed ``url`` HubSpot handed out (a journal entry's).

        The token is not sent: the URL carries its own permission, and its host is not
        HubSpot's API. Nor does it spend the API's budget. Any failure is a TransientError
        (the entry is read again at the next poll).
        """
        what = "HubSpot journal file"
        try:
            session = self._open_tokenless()
            async with session.get(url, headers={"User-Agent": user_agent()}) as response:
                data, status = await response.read(), response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TransientError(f"{what}: no answer ({why_no_answer(exc)})") from exc
        if not 200 <= status < 300:
            raise TransientError(f"{what}: answered {status} (its link may have expired)")
        try:
            return json_body(data)
        except UnreadableBody as exc:
            raise TransientError(f"{what}: a body that {exc}") from None

    async def post_form(self, path: str, form: Mapping[str, str]) -> Reply:
        """POST a form to HubSpot without the portal's token (OAuth's token endpoint, whose
        form carries the app's own credentials). Not retried; errors as :meth:`call`'s."""
        self.requests_sent += 1
        what = f"HubSpot POST {path}"
        try:
            session = self._open_tokenless()
            async with session.post(
                self.settings.base_url + path,
                data=dict(form),
                headers={"User-Agent": user_agent(), "Accept": "application/json"},
            ) as response:
                data, status, headers = await response.read(), response.status, response.headers
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TransientError(f"{what}: no answer ({why_no_answer(exc)})") from exc
        return self._read_reply(what, status, data, headers, write=False)

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        search: bool = False,
        write: bool = False,
        token: str | None = None,
    ) -> Reply:
        """Send a request (retrying what is safe to retry); a 2xx :class:`Reply` or a raise.

        ``write`` marks a request that changes data: a write whose answer is lost raises
        OutcomeUnknownError and is never retried, and its 400s are RecordErrors. ``token``
        replaces the portal's token for this request (the journal takes the app's).
        """
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            retry=retry_if_exception(_worth_retrying),
            wait=self._wait,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._call_once(
                    method, path, body, params, search=search, write=write, token=token
                )
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _wait(self, state: Any) -> float:
        """Seconds before the next attempt: the server's hint, growing with each try."""
        error = state.outcome.exception() if state.outcome else None
        hint = error.retry_after if isinstance(error, TransientError) else None
        attempt = int(state.attempt_number)
        return float(hint or 0.2) * attempt * self.settings.backoff_scale

    # -- one request: the only place aiohttp's exceptions are caught ---------------------

    async def _call_once(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        params: Mapping[str, str] | None,
        *,
        search: bool,
        write: bool,
        token: str | None,
    ) -> Reply:
        self._limits.spend()
        self.requests_sent += 1
        what = f"HubSpot {method} {path}"
        try:
            session = self._open_session()
            async with (
                self._limits.window(search=search),
                session.request(
                    method,
                    self.settings.base_url + path,
                    json=body,
                    params=params,
                    headers=_headers(token),
                ) as response,
            ):
                data = await response.read()
                status, headers = response.status, response.headers
        except aiohttp.ClientConnectorError as exc:
            raise RetryableError(f"{what}: cannot connect ({exc.os_error})", 0.5) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            why = why_no_answer(exc)
            if write:
                raise OutcomeUnknownError(f"{what}: no answer ({why}); it may apply") from exc
            raise RetryableError(f"{what}: no answer ({why})", 0.5) from exc
        self._limits.note_headers(headers)
        return self._read_reply(what, status, data, headers, write=write)

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=tls_connector(self.settings.ca_bundle),
                headers={
                    "Authorization": f"Bearer {self._token}",
                    "Accept": "application/json",
                },
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds),
            )
        return self._session

    def _open_tokenless(self) -> aiohttp.ClientSession:
        if self._tokenless is None or self._tokenless.closed:
            self._tokenless = aiohttp.ClientSession(
                connector=tls_connector(self.settings.ca_bundle),
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds),
            )
        return self._tokenless

    def _read_reply(
        self, what: str, status: int, data: bytes, headers: Mapping[str, str], *, write: bool
    ) -> Reply:
        try:
            parsed: Any = json_body(data)
        except UnreadableBody as exc:
            parsed = None
            if 200 <= status < 300:
                raise _unreadable_body_error(what, status, exc, write) from None
        if 200 <= status < 300:
            return Reply(status, parsed)
        raise self._error_for(
            what, status, parsed if isinstance(parsed, dict) else {}, headers, write
        )

    def _error_for(
        self,
        what: str,
        status: int,
        body: Mapping[str, Any],
        headers: Mapping[str, str],
        write: bool,
    ) -> GatewayError | RecordError:
        message = str(body.get("message") or "(no message)")
        said = f"{what}: {status} {body.get('category') or body.get('errorType') or ''} {message}"
        if status in (401, 403):
            return AuthError(f"{what}: HubSpot refused the token ({status}): {message}")
        if status == 404:
            return NotFound(said)
        if status == 409 and write and (taken := _EXISTING_ID.search(message)):
            return TakenError(said, existing_id=taken[1])
        if status in _RECORD_STATUSES and write:
            return RecordError(said, field=property_named(body))
        if status in _RETRY_LATER:
            policy = body.get("policyName")
            if status == 429:
                self._limits.note_throttled()
            if policy == "DAILY":
                return TransientError(said, retry_after=seconds_to_midnight())
            wait = _retry_after(headers) or _POLICY_WAIT.get(str(policy), 2.0)
            return RetryableError(said, wait, str(policy) if policy else None)
        if status in _SERVER_ERRORS:
            if write:
                return OutcomeUnknownError(f"{said} (the write may have been applied)")
            return RetryableError(said, 0.2, None)
        return PermanentError(said)


def _unreadable_body_error(
    what: str, status: int, exc: UnreadableBody, write: bool
) -> GatewayError:
    said = f"{what}: answered {status} with a body that {exc}"
    if write:
        return OutcomeUnknownError(f"{said}; the write may have happened: look it up first")
    return RetryableError(  # like a lost read: worth asking again at once
        f"{said}; a proxy may have answered in HubSpot's place, or the connection dropped: "
        "nothing was read, the cycle is tried again later",
        0.5,
    )


def _headers(token: str | None) -> dict[str, str]:
    """A request's own headers: a token given for it replaces the session's."""
    if token is None:
        return {"User-Agent": user_agent()}
    return {"User-Agent": user_agent(), "Authorization": f"Bearer {token}"}


def _worth_retrying(error: BaseException) -> bool:
    return isinstance(error, RetryableError)


def property_named(body: Mapping[str, Any]) -> str | None:
    """The property a HubSpot validation error is about, wherever the body names it."""
    for detail in body.get("errors") or ():
        if isinstance(detail, dict) and detail.get("in"):
            return str(detail["in"])
    context = body.get("context") or {}
    for key in ("propertyName", "invalidPropertyName"):
        names = context.get(key) if isinstance(context, dict) else None
        if names:
            return str(names[0])
    found = _NAMED_IN_MESSAGE.search(str(body.get("message", "")))
    return found[1] if found else None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
