"""How Profit answers: unformatted JSON, and its errors (in Dutch for a Dutch client)."""

from __future__ import annotations

import base64
import functools
import json
import re

from aiohttp import web

from syncd.sim.afas.options import SimOptions
from syncd.sim.afas.store import ProfitError

_ONE_LINE = functools.partial(json.dumps, separators=(",", ":"))  # Profit 7+: unformatted

_DUTCH = (
    (re.compile(r"An unexpected error has occurred\."), "Er is een onverwachte fout opgetreden."),
    (re.compile(r"Connector field '(.*)' not found"), r"Connector-veld '\1' niet gevonden"),
    (
        re.compile(r"This GetConnector \(definition\) is blocked"),
        "Deze GetConnector (definitie) is geblokkeerd",
    ),
    (
        re.compile(r"GetConnector not supported for this app or the user is not authorized"),
        "GetConnector niet ondersteund voor deze app of de gebruiker is niet geautoriseerd",
    ),
)


def json_response(body: object, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=_ONE_LINE)


def error_response(error: ProfitError, request: web.Request) -> web.Response:
    """Profit's 500 for ``error``, worded in the client's language."""
    if request.headers.get("Accept-Language", "").lower().startswith("nl"):
        error.message = _dutch(error.message)
    response = json_response(error.body(), status=500)
    # obsolete since Profit 6, still sent: the message again, base64-encoded
    response.headers["X-PROFIT-ERROR"] = base64.b64encode(error.message.encode()).decode()
    return response


def not_supported(options: SimOptions, message: str) -> web.StreamResponse:
    """A connector the app connector does not hold: 401, or (raised) Profit's 500."""
    if options.unauthorized_connector_status == 401:
        return web.Response(status=401)
    raise ProfitError(message)


def _dutch(message: str) -> str:
    """The message as a Dutch environment (``Accept-Language: nl-nl``) words it."""
    for pattern, dutch in _DUTCH:
        if pattern.fullmatch(message):
            return pattern.sub(dutch, message)
    return message
