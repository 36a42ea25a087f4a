"""Normalisers: a non-blank text in its normal form, so that equal meanings compare equal.

Every normaliser is idempotent (``f(f(x)) == f(x)``) and raises :class:`RecordError` for
a value it cannot read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import Decimal

from syncd.errors import RecordError
from syncd.records import Value

Normaliser = Callable[[str], Value]
"""Turns a non-blank text into its normal form (``None`` when nothing is left)."""


def _blank_to_none(text: str) -> Value:
    return text or None


# --- general text ---------------------------------------------------------------------


def trim(text: str) -> Value:
    """Strip leading and trailing whitespace."""
    return _blank_to_none(text.strip())


_SPACES = re.compile(r"\s+")


def collapse_spaces(text: str) -> Value:
    """Turn every run of whitespace into one space and strip both ends."""
    return _blank_to_none(_SPACES.sub(" ", text).strip())


def lower(text: str) -> Value:
    """Lower-case (Unicode-aware); whitespace is left alone."""
    return _blank_to_none(text.lower())


def upper(text: str) -> Value:
    """Upper-case (Unicode-aware); whitespace is left alone."""
    return _blank_to_none(text.upper())


def digits(text: str) -> Value:
    """Keep only the ASCII digits 0-9."""
    return _blank_to_none("".join(ch for ch in text if "0" <= ch <= "9"))


# --- contact details ------------------------------------------------------------------

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def email(text: str) -> Value:
    """Trim and lower-case an e-mail address; it must look like ``local@domain.tld``."""
    value = text.strip().lower()
    if not value:
        return None
    if not _EMAIL.fullmatch(value):
        raise RecordError(
            f"{text!r} is not an e-mail address: expected one '@' and a domain with a dot, "
            "and no spaces"
        )
    return value


# Country calling codes whose numbers are written nationally with a leading 0 "trunk"
# prefix that is dropped after the country code: +31 (0)20 ... is +31 20 ....
# Not Italy (+39), whose numbers keep their 0.
_TRUNK_ZERO = ("31", "32", "33", "41", "43", "44", "49")
_PHONE_ALLOWED = re.compile(r"[0-9+\s\-./()]*")
_PHONE_MIN_DIGITS = 7  # after the "+": the shortest real numbers (small states, services)
_PHONE_MAX_DIGITS = 15  # E.164's maximum


def phone(text: str) -> Value:
    """A telephone number as ``+<country code><number>``, digits only.

    Dutch national numbers ("020-123 4567", or nine digits without the leading 0)
    get +31; "00" starts an international number; "(0)" after a country code is dropped.
    """
    value = text.strip()
    if not value:
        return None
    value = value.replace("(0)", "")
    if not _PHONE_ALLOWED.fullmatch(value):
        odd = sorted({ch for ch in value if not _PHONE_ALLOWED.fullmatch(ch)})
        raise RecordError(
            f"{text!r} is not a phone number: it contains {''.join(odd)!r}; "
            "only digits, spaces, + - . / ( ) are allowed"
        )
    if "+" in value[1:]:
        raise RecordError(f"{text!r} is not a phone number: '+' may only come first")
    numerals = "".join(ch for ch in value if ch.isdigit())
    if value.startswith("+"):
        international = numerals
    elif numerals.startswith("00"):
        international = numerals[2:]
    elif numerals.startswith("0"):
        international = "31" + numerals[1:]
    elif len(numerals) == 9:  # a Dutch number stored without its leading 0
        international = "31" + numerals
    else:
        raise RecordError(
            f"{text!r}: cannot tell which country this phone number is in; "
            "write it as +<country code> <number>"
        )
    if international.startswith("0"):
        raise RecordError(f"{text!r} is not a phone number: no country code starts with 0")
    for code in _TRUNK_ZERO:
        if international.startswith(code):
            international = code + international[len(code) :].lstrip("0")
            break
    if not _PHONE_MIN_DIGITS <= len(international) <= _PHONE_MAX_DIGITS:
        raise RecordError(
            f"{text!r} is not a phone number: {len(international)} digits with the country "
            f"code, expected {_PHONE_MIN_DIGITS} to {_PHONE_MAX_DIGITS}"
        )
    return "+" + international


# --- postcodes ------------------------------------------------------------------------

_DUTCH_POSTCODE = re.compile(r"([1-9][0-9]{3})\s*([A-Za-z]{2})")
_DUTCH_WITH_ZERO = re.compile(r"0[0-9]{3}\s*[A-Za-z]{2}")
_ANY_POSTCODE = re.compile(r"(?=.*[0-9])[A-Za-z0-9 \-]+")
_POSTCODE_MAX = 12  # the longest postcodes with a country prefix ("NL-1234 AB", "12345-6789")


def postcode(text: str) -> Value:
    """Dutch postcodes as "1234 AB"; any other postcode trimmed, upper-cased, spaces collapsed.

    A postcode is letters, digits, spaces and hyphens with at least one digit, at most
    12 characters; "0123 AB" has the Dutch shape but no Dutch postcode starts with 0.
    """
    value = _SPACES.sub(" ", text).strip()
    if not value:
        return None
    dutch = _DUTCH_POSTCODE.fullmatch(value)
    if dutch:
        return f"{dutch[1]} {dutch[2].upper()}"
    if _DUTCH_WITH_ZERO.fullmatch(value):
        raise RecordError(f"{text!r} is not a postcode: Dutch postcodes do not start with 0")
    if not (value.isascii() and _ANY_POSTCODE.fullmatch(value)) or len(value) > _POSTCODE_MAX:
        raise RecordError(
            f"{text!r} is not a postcode: expected letters, digits, spaces or hyphens with "
            f"at least one digit, at most {_POSTCODE_MAX} characters (like 1234 AB or D-10115)"
        )
    return value.upper()


# --- numbers --------------------------------------------------------------------------

_DECIMAL = re.compile(r"[+-]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)")


def format_decimal(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def decimal(text: str) -> Value:
    """A decimal number in plain notation without trailing zeros: "5000.00" -> "5000".

    A single comma is read as the decimal separator ("12,5"); thousands separators are
    not accepted, because "1.234" would be ambiguous.
    """
    value = text.strip().replace(" ", "")
    if not value:
        return None
    if not _DECIMAL.fullmatch(value):
        raise RecordError(
            f"{text!r} is not a number: expected digits with an optional sign and "
            "one decimal point or comma"
        )
    return format_decimal(Decimal(value.replace(",", ".")))


def apply_normalisers(normalisers: Iterable[Normaliser], value: Value) -> Value:
    """Run ``normalisers`` in order; blank stays blank and stops the chain."""
    for normalise in normalisers:
        if value is None or value == "":
            return None
        value = normalise(value)
    return value or None
