"""Cross-site request forgery protection for the page's buttons (pure, no I/O).

A double-submit token bound to the status token: the browser keeps a random nonce in a
``SameSite=Strict`` cookie, and each form carries HMAC(status token, nonce). Another
site can make a browser send the cookie but can neither read it nor compute the HMAC
without the status token. A POST must also come from the page's own origin (``Origin``,
else ``Referer``, names the host it was sent to).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

NONCE_COOKIE = "syncd_csrf"
FORM_FIELD = "csrf"
SESSION_COOKIE = "syncd_session"  # proof of the token: the token itself is never stored


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def _mac(key: str, purpose: str, message: str) -> str:
    return hmac.new(key.encode(), f"{purpose}:{message}".encode(), hashlib.sha256).hexdigest()


def form_token(status_token: str, nonce: str) -> str:
    """What a form sends back to prove it was served to this browser by this server."""
    return _mac(status_token, "syncd csrf", nonce)


def session_value(status_token: str) -> str:
    """The cookie a browser keeps after it gave the token once: not the token itself."""
    return _mac(status_token, "syncd session", "status page")


def form_token_is_valid(status_token: str, nonce: str | None, given: str | None) -> bool:
    if not nonce or not given:
        return False
    return hmac.compare_digest(form_token(status_token, nonce), given)


def same_origin(host: str | None, origin: str | None, referer: str | None) -> bool:
    """True when the request names the host it was sent to as where it came from."""
    if not host:
        return False
    source = origin if origin and origin != "null" else referer
    if not source:
        return False
    return urlsplit(source).netloc.lower() == host.lower()
