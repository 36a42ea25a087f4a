"""Normalisers and codecs: how a native value becomes a canonical one and back.

A field's value travels like this::

    native (CRM)  --crm codec-->  raw text  --normalisers-->  canonical
    native (AFAS) --afas codec--> raw text  --normalisers-->  canonical

and, when writing, ``canonical --codec--> native``.

normaliser
    A function ``str -> str | None`` applied on read to values from *both* sides, so that
    equal meanings compare equal ("020-123 4567" and "+31 20 1234567" are one number).
    Every normaliser is idempotent, ``f(f(x)) == f(x)``: the canonical form is the normal
    form, and a value read back after our own write is unchanged. A value that cannot be
    normalised (an e-mail address without ``@``) raises :class:`RecordError`.
codec
    Translates between the canonical text and one side's native value: AFAS country codes
    ("D") for ISO codes ("DE"), JSON booleans for "true"/"false", a value map from the
    mapping file. A codec round-trips: ``to_canonical(to_native(c)) == c`` for every
    canonical ``c`` it accepts; a value outside its domain raises :class:`RecordError`
    listing the allowed values.

Blank values never reach a normaliser or codec: ``None`` and ``""`` are blank on both
sides, and blank maps to blank.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

from syncd.address import PARTS as ADDRESS_PARTS
from syncd.address import DutchAddressCodec, dutch_address
from syncd.errors import RecordError
from syncd.records import Value

__all__ = [
    "CODECS",
    "COMPOSITE_CODECS",
    "COUNTRIES",
    "NORMALISERS",
    "Codec",
    "Country",
    "Normaliser",
    "ValueMap",
    "apply_normalisers",
]

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


# --- addresses and registrations ------------------------------------------------------

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


# --- numbers --------------------------------------------------------------------------

_DECIMAL = re.compile(r"[+-]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)")


def _format_decimal(number: Decimal) -> str:
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
    return _format_decimal(Decimal(value.replace(",", ".")))


NORMALISERS: Mapping[str, Normaliser] = {
    "trim": trim,
    "collapse_spaces": collapse_spaces,
    "lower": lower,
    "upper": upper,
    "digits": digits,
    "email": email,
    "phone": phone,
    "postcode": postcode,
    "kvk": kvk,
    "vat": vat,
    "iban": iban,
    "decimal": decimal,
    "dutch_address": dutch_address,
}
"""The normalisers a mapping file may name in ``normalize = [...]``."""


def apply_normalisers(normalisers: Iterable[Normaliser], value: Value) -> Value:
    """Run ``normalisers`` in order; blank stays blank and stops the chain."""
    for normalise in normalisers:
        if value is None or value == "":
            return None
        value = normalise(value)
    return value or None


# --- codecs ---------------------------------------------------------------------------


class Codec(Protocol):
    """Translates between canonical text and one side's native value (never blank)."""

    @property
    def name(self) -> str: ...

    def to_canonical(self, native: object) -> str:
        """The canonical text of a non-blank native value; RecordError if unknown."""
        ...

    def to_native(self, canonical: str) -> object:
        """The native value of a non-blank canonical text; RecordError if it has none."""
        ...

    def domain(self) -> tuple[str, ...] | None:
        """Every canonical value the codec accepts, when that set is finite."""
        ...


def _allowed(values: Iterable[object], limit: int = 60) -> str:
    shown = [repr(v) for v in values]
    more = len(shown) - limit
    text = ", ".join(shown[:limit])
    return f"{text}, ... ({more} more)" if more > 0 else text


def _scalar_text(native: object) -> str:
    """The text of a native scalar as either API sends it."""
    if isinstance(native, str):
        _check_unicode(native)
        return native
    if isinstance(native, bool):
        return "true" if native else "false"
    if isinstance(native, int):
        return str(native)
    if isinstance(native, float):
        return _format_decimal(Decimal(repr(native)))
    raise RecordError(f"{native!r} is a {type(native).__name__}, not a single value")


def _check_unicode(text: str) -> None:
    """A JSON string may carry lone surrogates (``\\udce9``): no side can store those."""
    if text.isascii():  # most values, and the quick test
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RecordError(
            f"{text[:60]!r} is not valid Unicode text (a lone surrogate at position "
            f"{exc.start}, likely bytes read in the wrong encoding); retype the value"
        ) from None


@dataclass(frozen=True)
class TextCodec:
    """The default: native text is canonical text (numbers and booleans as text)."""

    name: str = "text"

    def to_canonical(self, native: object) -> str:
        if type(native) is str and native.isascii():  # most values: nothing to check
            return native
        return _scalar_text(native)

    def to_native(self, canonical: str) -> object:
        _check_unicode(canonical)  # what could not be read is not written either
        return canonical

    def domain(self) -> tuple[str, ...] | None:
        return None


@dataclass(frozen=True)
class BoolCodec:
    """Canonical "true"/"false" <-> native True/False; reads "1"/"0" too."""

    name: str = "bool"

    def to_canonical(self, native: object) -> str:
        if isinstance(native, bool):
            return "true" if native else "false"
        text = _scalar_text(native).strip().lower()
        if text in ("true", "1"):
            return "true"
        if text in ("false", "0"):
            return "false"
        raise RecordError(f"{native!r} is not a yes/no value; allowed: true, false, 1, 0")

    def to_native(self, canonical: str) -> object:
        if canonical == "true":
            return True
        if canonical == "false":
            return False
        raise RecordError(f"{canonical!r} is not a yes/no value; allowed: 'true', 'false'")

    def domain(self) -> tuple[str, ...] | None:
        return ("true", "false")


_INTEGER = re.compile(r"0|-?[1-9][0-9]*")  # "-0" would read back as "0"


@dataclass(frozen=True)
class IntegerCodec:
    """Canonical whole-number text ("105") <-> native int (AFAS ``HmNr``)."""

    name: str = "integer"

    def to_canonical(self, native: object) -> str:
        if isinstance(native, bool):
            raise RecordError(f"{native!r} is a yes/no value, not a whole number")
        text = _scalar_text(native).strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite() or number != number.to_integral_value():
            raise RecordError(f"{native!r} is not a whole number")
        return str(int(number))

    def to_native(self, canonical: str) -> object:
        if not _INTEGER.fullmatch(canonical):
            raise RecordError(
                f"{canonical!r} is not a whole number written plainly (like 105); "
                "this side stores whole numbers only"
            )
        return int(canonical)

    def domain(self) -> tuple[str, ...] | None:
        return None


@dataclass(frozen=True)
class DecimalCodec:
    """Canonical decimal text ("5000", "12.5") <-> native JSON number (AFAS ``Krli``)."""

    name: str = "decimal"

    def to_canonical(self, native: object) -> str:
        if isinstance(native, bool):
            raise RecordError(f"{native!r} is a yes/no value, not a number")
        if isinstance(native, int):
            return str(native)
        value = decimal(_scalar_text(native))
        if value is None:
            raise RecordError(f"{native!r} is not a number")
        return value

    def to_native(self, canonical: str) -> object:
        if _INTEGER.fullmatch(canonical):
            return int(canonical)
        try:
            number = float(canonical)
        except ValueError:
            raise RecordError(f"{canonical!r} is not a number") from None
        if self.to_canonical(number) != canonical:
            raise RecordError(
                f"{canonical!r} has more digits than this side can store exactly; "
                "round it, or write it without trailing zeros"
            )
        return number

    def domain(self) -> tuple[str, ...] | None:
        return None


@dataclass(frozen=True)
class Country:
    """One country: ISO 3166 alpha-2 code, AFAS code, English name, other names read."""

    iso: str
    afas: str
    english: str
    aliases: tuple[str, ...] = ()


# AFAS Profit uses its own country codes (GetConnector ``ProfitCountries``), equal to ISO
# for most of Europe but not all. This table keeps to countries whose AFAS code is known
# (AFAS's code list as quoted by the PracticalAfas client); extend it with care: an AFAS
# code can equal the ISO code of a *different* country (AFAS "CL" is Sri Lanka).
# Aliases are matched ignoring case and accents; Dutch names are listed for CRM free text.
COUNTRIES: tuple[Country, ...] = (
    Country("NL", "NL", "Netherlands", ("The Netherlands", "Holland", "Nederland")),
    Country("BE", "B", "Belgium", ("België", "Belgique")),
    Country("DE", "D", "Germany", ("Duitsland", "Deutschland")),
    Country("FR", "F", "France", ("Frankrijk",)),
    Country("LU", "L", "Luxembourg", ("Luxemburg",)),
    Country("GB", "GB", "United Kingdom", ("UK", "Great Britain", "Verenigd Koninkrijk")),
    Country("IE", "IRL", "Ireland", ("Ierland",)),
    Country("ES", "E", "Spain", ("Spanje", "España")),
    Country("PT", "P", "Portugal", ()),
    Country("IT", "I", "Italy", ("Italië", "Italia")),
    Country("AT", "A", "Austria", ("Oostenrijk", "Österreich")),
    Country("CH", "CH", "Switzerland", ("Zwitserland", "Schweiz", "Suisse")),
    Country("LI", "FL", "Liechtenstein", ()),
    Country("DK", "DK", "Denmark", ("Denemarken", "Danmark")),
    Country("NO", "N", "Norway", ("Noorwegen", "Norge")),
    Country("SE", "S", "Sweden", ("Zweden", "Sverige")),
    Country("FI", "FIN", "Finland", ("Suomi",)),
    Country("IS", "IS", "Iceland", ("IJsland",)),
    Country("PL", "PL", "Poland", ("Polen", "Polska")),
    Country("CZ", "CZ", "Czechia", ("Czech Republic", "Tsjechië")),
    Country("SK", "SK", "Slovakia", ("Slowakije",)),
    Country("HU", "H", "Hungary", ("Hongarije",)),
    Country("SI", "SLO", "Slovenia", ("Slovenië",)),
    Country("HR", "HR", "Croatia", ("Kroatië",)),
    Country("RO", "RO", "Romania", ("Roemenië",)),
    Country("BG", "BG", "Bulgaria", ("Bulgarije",)),
    Country("GR", "GR", "Greece", ("Griekenland",)),
    Country("CY", "CY", "Cyprus", ()),
    Country("MT", "M", "Malta", ()),
    Country("EE", "EE", "Estonia", ("Estland",)),
    Country("LV", "LV", "Latvia", ("Letland",)),
    Country("LT", "LT", "Lithuania", ("Litouwen",)),
    Country("TR", "TR", "Turkey", ("Türkiye", "Turkije")),
    Country("UA", "UA", "Ukraine", ("Oekraïne",)),
    Country("US", "USA", "United States", ("United States of America", "USA", "Verenigde Staten")),
    Country("CA", "CDN", "Canada", ()),
    Country("AU", "AUS", "Australia", ("Australië",)),
    Country("JP", "J", "Japan", ()),
    Country("CN", "CN", "China", ()),
    Country("IN", "IND", "India", ()),
    Country("BR", "BR", "Brazil", ("Brazilië", "Brasil")),
    Country("ZA", "ZA", "South Africa", ("Zuid-Afrika",)),
    Country("SR", "SME", "Suriname", ()),
)


def _fold(text: str) -> str:
    """Case- and accent-insensitive key for names: "België" -> "belgie"."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped).casefold()


def _index(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for key, iso in pairs:
        if index.setdefault(key, iso) != iso:  # pragma: no cover - guarded by a test
            raise ValueError(f"country key {key!r} names both {index[key]} and {iso}")
    return index


_ISO_CODES = tuple(c.iso for c in COUNTRIES)
_BY_AFAS = _index((c.afas, c.iso) for c in COUNTRIES)
_AFAS_BY_ISO = {c.iso: c.afas for c in COUNTRIES}
_NAME_BY_ISO = {c.iso: c.english for c in COUNTRIES}
_BY_NAME = _index(
    [(_fold(c.iso), c.iso) for c in COUNTRIES]
    + [(_fold(name), c.iso) for c in COUNTRIES for name in (c.english, *c.aliases)]
)


def _unknown_country(canonical: str) -> RecordError:
    return RecordError(
        f"{canonical!r} is not a country syncd knows; allowed ISO codes: {_allowed(_ISO_CODES)}"
    )


@dataclass(frozen=True)
class AfasCountryCodec:
    """Canonical ISO 3166 alpha-2 <-> AFAS's own country code (BE <-> B, DE <-> D)."""

    name: str = "country_afas"

    def to_canonical(self, native: object) -> str:
        code = _scalar_text(native).strip().upper()
        try:
            return _BY_AFAS[code]
        except KeyError:
            raise RecordError(
                f"{native!r} is not an AFAS country code syncd knows; allowed: {_allowed(_BY_AFAS)}"
            ) from None

    def to_native(self, canonical: str) -> object:
        try:
            return _AFAS_BY_ISO[canonical]
        except KeyError:
            raise _unknown_country(canonical) from None

    def domain(self) -> tuple[str, ...] | None:
        return _ISO_CODES


@dataclass(frozen=True)
class CountryNameCodec:
    """Canonical ISO code <-> English country name (a CRM's free-text country).

    Reading also accepts ISO codes and the aliases in :data:`COUNTRIES` (Dutch names
    such as "Nederland", "België", "Duitsland"), ignoring case and accents.
    """

    name: str = "country_name"

    def to_canonical(self, native: object) -> str:
        try:
            return _BY_NAME[_fold(_scalar_text(native))]
        except KeyError:
            raise RecordError(
                f"{native!r} is not a country name syncd knows; allowed: "
                f"{_allowed(_NAME_BY_ISO.values())} (or an ISO code)"
            ) from None

    def to_native(self, canonical: str) -> object:
        try:
            return _NAME_BY_ISO[canonical]
        except KeyError:
            raise _unknown_country(canonical) from None

    def domain(self) -> tuple[str, ...] | None:
        return _ISO_CODES


NativeScalar = str | int | bool


@dataclass(frozen=True)
class ValueMap:
    """A mapping file's inline table: canonical value -> native value, one to one.

    Native values are matched by their text ("14" matches 14), so the table must stay
    one to one by text as well; :meth:`build` checks that.
    """

    pairs: tuple[tuple[str, NativeScalar], ...]
    name: str = "value map"

    @staticmethod
    def build(table: Mapping[str, NativeScalar]) -> ValueMap:
        """A value map from ``table``; ValueError naming every clash if not one to one."""
        seen: dict[str, str] = {}
        clashes: list[str] = []
        for canonical, native in table.items():
            key = _scalar_text(native)
            if key in seen:
                clashes.append(f"{seen[key]!r} and {canonical!r} both map to {native!r}")
            else:
                seen[key] = canonical
        if clashes:
            raise ValueError("; ".join(clashes))
        return ValueMap(tuple(table.items()))

    def to_canonical(self, native: object) -> str:
        key = _scalar_text(native)
        for canonical, mapped in self.pairs:
            if _scalar_text(mapped) == key:
                return canonical
        raise RecordError(
            f"{native!r} is not one of the mapped values; allowed: "
            f"{_allowed(n for _, n in self.pairs)}"
        )

    def to_native(self, canonical: str) -> object:
        for key, native in self.pairs:
            if key == canonical:
                return native
        raise RecordError(
            f"{canonical!r} has no value on this side; allowed: "
            f"{_allowed(k for k, _ in self.pairs)}"
        )

    def domain(self) -> tuple[str, ...] | None:
        return tuple(k for k, _ in self.pairs)


CODECS: Mapping[str, Codec] = {
    codec.name: codec
    for codec in (
        TextCodec(),
        BoolCodec(),
        IntegerCodec(),
        DecimalCodec(),
        AfasCountryCodec(),
        CountryNameCodec(),
        DutchAddressCodec(),
    )
}
"""The built-in codecs a mapping file may name in ``crm_codec`` / ``afas_codec``."""

COMPOSITE_CODECS: Mapping[str, tuple[str, ...]] = {"dutch_address": ADDRESS_PARTS}
"""The codecs whose AFAS value is several fields, and what each field holds, in order."""
