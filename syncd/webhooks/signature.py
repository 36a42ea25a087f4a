"""HubSpot's v3 request signature (``X-HubSpot-Signature-v3``).

HubSpot signs method + URI + body + timestamp (``X-HubSpot-Request-Timestamp``,
milliseconds since the epoch) with HMAC-SHA256 under the app's client secret, and
base64-encodes the digest. A request older than five minutes is refused, so a call that
was recorded cannot be played again later. The URI is the one HubSpot called (the public
URL, not the address a reverse proxy forwards to), with the percent-escapes HubSpot
lists decoded (the reserved characters below; ``%20`` and the like stay as they are).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime, timedelta

SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
MAX_AGE = timedelta(minutes=5)
_DECODED = {f"%{ord(c):02X}": c for c in ":/?@!$'()*,;"}
_ESCAPE = re.compile("|".join(_DECODED), re.IGNORECASE)


def _decoded(uri: str) -> str:
    return _ESCAPE.sub(lambda found: _DECODED[found.group().upper()], uri)


def sign(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """The v3 signature of a request."""
    signed = f"{method.upper()}{_decoded(uri)}".encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def refusal(
    secret: str,
    method: str,
    uri: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: datetime,
) -> str | None:
    """Why the request is refused, or None when HubSpot signed it within five minutes."""
    if not signature or not timestamp:
        return f"no {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header"
    if not timestamp.isdigit():
        return f"{TIMESTAMP_HEADER} is not a time in milliseconds"
    age = now - datetime.fromtimestamp(int(timestamp) / 1000, now.tzinfo)
    if age > MAX_AGE:
        return "signed more than five minutes ago"
    expected = sign(secret, method, uri, body, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return "the signature does not match"
    return None
