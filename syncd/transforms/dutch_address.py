"""Dutch street addresses: one line ("Kerkstraat 12-A") against street, number, addition.

HubSpot keeps a company's street address in one property (``address``); AFAS Profit keeps
the street (``Ad``), the house number (``HmNr``, a whole number) and its addition
(``HmAd``) apart. A mapping joins the three into one canonical line and splits that line
again when it writes to AFAS. The canonical line is::

    <street> <number>[ <addition>]      the addition after a space ("Straat 3 bis"),
                                        or after "-" when it starts with a digit ("12-3")

so that splitting a joined line gives back exactly its parts. A line is read as its last
house number after a space: "1e Helmersstraat 5" is street "1e Helmersstraat", number 5.
A line syncd cannot split without guessing is refused with the reason (the record is
quarantined): no house number ("Kerkstraat"), a number first ("12 Kerkstraat"), a street
that itself ends in a number ("Kerkstraat 12 3": is 3 the addition or the number?), an
addition with spaces in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from syncd.errors import RecordError
from syncd.records import Value

__all__ = ["DutchAddressCodec", "dutch_address", "join_address", "split_address"]

PARTS = ("street", "house number", "house-number addition")
"""What each of a Dutch address codec's native fields holds, in order."""

STREET_MAX = 60  # AFAS KnBasicAddressAdr.Ad
ADDITION_MAX = 30  # AFAS KnBasicAddressAdr.HmAd

_SPACES = re.compile(r"\s+")
_LINE = re.compile(r"(?P<street>.*\S)\s+(?P<number>[0-9]+)(?P<rest>.*)")
_NUMBER = re.compile(r"[1-9][0-9]{0,8}")
_REST = re.compile(r"[\s\-/]*(?P<addition>[^\s\-/][^\s]*)?")
_ENDS_IN_NUMBER = re.compile(r"(^|\s)[0-9][^\s]*$")

Parts = tuple[str, int, str | None]


def split_address(line: str) -> Parts:
    """(street, number, addition or None) of an address line; RecordError if it cannot
    be split without guessing."""
    text = _SPACES.sub(" ", line).strip()
    found = _LINE.fullmatch(text)
    if found is None:
        raise RecordError(
            f"{line!r} has no house number after the street; write it like "
            "'Kerkstraat 12' (a P.O. box as 'Postbus 123')"
        )
    street, number, rest = found["street"], found["number"], found["rest"]
    if _ENDS_IN_NUMBER.search(street):
        raise RecordError(
            f"{line!r}: cannot tell the house number from the street or the addition; "
            "write the addition after a hyphen ('Kerkstraat 12-3')"
        )
    if not _NUMBER.fullmatch(number):
        raise RecordError(f"{line!r}: {number!r} is not a house number (1 or more, no leading 0)")
    addition = _REST.fullmatch(rest)
    if addition is None:
        raise RecordError(
            f"{line!r}: the addition {rest.strip()!r} has spaces in it; write it as one "
            "word ('12-A', '3 bis') and keep other details out of the street line"
        )
    return street, int(number), addition["addition"]


def join_address(street: str, number: int, addition: str | None) -> str:
    """The canonical line of an address's parts."""
    line = f"{street} {number}"
    if not addition:
        return line
    return f"{line}-{addition}" if addition[0].isdigit() else f"{line} {addition}"


def dutch_address(text: str) -> Value:
    """Normaliser: an address line in its canonical form ("Kerkstraat 12-a" stays so;
    "Kerkstraat  12 - A" becomes "Kerkstraat 12 A")."""
    if not text.strip():
        return None
    return join_address(*split_address(text))


@dataclass(frozen=True)
class DutchAddressCodec:
    """AFAS's (street, house number, addition) <-> the canonical line."""

    name: str = "dutch_address"

    def to_canonical(self, native: object) -> str:
        if not isinstance(native, tuple) or len(native) != len(PARTS):
            raise RecordError(f"{native!r} is not a street, house number and addition")
        street, number, addition = native
        return join_address(
            _text(street, "street"), _house_number(number), _text(addition, "addition") or None
        )

    def to_native(self, canonical: str) -> object:
        street, number, addition = split_address(canonical)
        if len(street) > STREET_MAX:
            raise RecordError(f"street {street!r} is longer than AFAS holds ({STREET_MAX})")
        if addition is not None and len(addition) > ADDITION_MAX:
            raise RecordError(f"addition {addition!r} is longer than AFAS holds ({ADDITION_MAX})")
        return street, number, addition

    def domain(self) -> tuple[str, ...] | None:
        return None


def _text(value: object, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError(f"the {what} {value!r} is not text")
    return value.strip()


def _house_number(value: object) -> int:
    if isinstance(value, bool) or value in (None, ""):
        raise RecordError("the street has no house number; fill in the house number")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise RecordError(f"the house number {value!r} is not a whole number") from None
    if number < 1:
        raise RecordError(f"the house number {value!r} is not 1 or more")
    return number
