"""HubSpot's v3 signature: HMAC-SHA256 under the client secret of method, URI, body and
timestamp, base64-encoded; calls older than five minutes are refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from syncd.webhooks.signature import refusal, sign

SECRET = "app-client-secret"
URL = "https://sync.example.com/hubspot/webhooks/main"
BODY = b'[{"objectId":1,"subscriptionType":"company.propertyChange"}]'
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def millis(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def test_the_signature_is_the_documented_hmac() -> None:
    stamp = millis(NOW)
    source = ("POST" + URL).encode() + BODY + stamp.encode()
    expected = base64.b64encode(hmac.new(SECRET.encode(), source, hashlib.sha256).digest())

    assert sign(SECRET, "POST", URL, BODY, stamp) == expected.decode()


def test_escapes_in_the_uri_are_decoded_before_signing() -> None:
    stamp = millis(NOW)
    escaped = URL + "?from=a%3Ab"

    assert sign(SECRET, "POST", escaped, BODY, stamp) == sign(
        SECRET, "POST", URL + "?from=a:b", BODY, stamp
    )


def check(*, body: bytes = BODY, secret: str = SECRET, signed_at: datetime = NOW) -> str | None:
    stamp = millis(signed_at)
    signature = sign(SECRET, "POST", URL, BODY, stamp)
    return refusal(secret, "POST", URL, body, stamp, signature, NOW + timedelta(seconds=3))


def test_a_call_hubspot_signed_just_now_is_taken() -> None:
    assert check() is None


def test_a_tampered_body_is_refused() -> None:
    assert check(body=BODY.replace(b"1", b"2")) == "the signature does not match"


def test_another_secret_is_refused() -> None:
    assert check(secret="another-secret") == "the signature does not match"


def test_a_call_signed_over_five_minutes_ago_is_refused() -> None:
    assert check(signed_at=NOW - timedelta(minutes=5, seconds=1)) == (
        "signed more than five minutes ago"
    )


def test_a_call_without_signature_headers_is_refused() -> None:
    reason = refusal(SECRET, "POST", URL, BODY, None, None, NOW)
    assert reason is not None
    assert "X-HubSpot-Signature-v3" in reason


def test_other_escapes_stay_as_they_are() -> None:
    stamp = millis(NOW)
    assert sign(SECRET, "POST", URL + "?a=b%20c", BODY, stamp) != sign(
        SECRET, "POST", URL + "?a=b c", BODY, stamp
    )
