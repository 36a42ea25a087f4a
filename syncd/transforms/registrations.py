"""Registration numbers in their normal form: KvK (Dutch Chamber of Commerce), VAT, IBAN."""

from __future__ import annotations

import re
import string

from syncd.errors import RecordError
from syncd.records import Value

_SEPARATORS = re.compile(r"[\s.\-]+")


def kvk(text: str) -> Value:
    """A Dutch Chamber of Commerce (KvK) number: exactly 8 digits.

    Seven digits are one that lost its leading zero (a spreadsheet or a number
    property drops it): the zero is put back.
    """
    value = _SEPARATORS.sub("", text)
    if not value:
        return None
    if len(value) == 7 and value.isascii() and value.isdigit():
        value = "0" + value
    if not (len(value) == 8 and value.isascii() and value.isdigit()):
        raise RecordError(f"{text!r} is not a KvK number: expected exactly 8 digits")
    return value


_VAT_NL = re.compile(r"NL[0-9]{9}B[0-9]{2}")
_VAT_NL_BARE = re.compile(r"[0-9]{9}B[0-9]{2}")
_VAT_ANY = re.compile(r"[A-Z]{2}[0-9A-Z+*]{2,13}")


def vat(text: str) -> Value:
    """A VAT number, upper-case without spaces or dots; Dutch ones as NL999999999B99."""
    value = _SEPARATORS.sub("", text).upper()
    if not value:
        return None
    if _VAT_NL_BARE.fullmatch(value):
        value = "NL" + value
    if value.startswith("NL"):
        if not _VAT_NL.fullmatch(value):
            raise RecordError(
                f"{text!r} is not a Dutch VAT number: expected NL, 9 digits, B, 2 digits "
                "(NL999999999B99)"
            )
        if not _dutch_vat_checks(value):
            raise RecordError(f"{text!r} is not a valid Dutch VAT number: its check digit fails")
    elif not _VAT_ANY.fullmatch(value):
        raise RecordError(
            f"{text!r} is not a VAT number: expected a two-letter country prefix "
            "and 2 to 13 letters or digits"
        )
    return value


def _dutch_vat_checks(value: str) -> bool:
    """Either check the Belastingdienst uses: the 11-test of the RSIN-based numbers, or
    (btw-ids since 2020) mod 97 of the whole number read as in an IBAN."""
    digits = value[2:11]
    eleven = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) % 11
    if eleven != 10 and eleven == int(digits[8]):
        return True
    return mod97(value) == 1


_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
# ISO 7064's mod 97 reads a letter as two digits (A = 10 ... Z = 35).
_AS_DIGITS = str.maketrans({letter: str(10 + n) for n, letter in enumerate(string.ascii_uppercase)})


def mod97(text: str) -> int:
    """``text`` (digits and capitals) read as a number as IBANs are, modulo 97 (ISO 7064)."""
    return int(text.translate(_AS_DIGITS)) % 97


def iban(text: str) -> Value:
    """An IBAN, upper-case without spaces, with a valid mod-97 check."""
    value = _SEPARATORS.sub("", text).upper()
    if not value:
        return None
    if not (value.isascii() and _IBAN.fullmatch(value)):
        raise RecordError(
            f"{text!r} is not an IBAN: expected a country code, 2 check digits "
            "and 11 to 30 letters or digits"
        )
    rearranged = value[4:] + value[:4]
    if mod97(rearranged) != 1:
        raise RecordError(f"{text!r} is not a valid IBAN: its check digits do not match")
    return value
