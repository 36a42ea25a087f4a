"""The countries syncd knows: ISO codes against AFAS's own codes and English names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from syncd.errors import RecordError
from syncd.transforms.codecs import allowed_values, scalar_text

_SPACES = re.compile(r"\s+")


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
        f"{canonical!r} is not a country syncd knows; "
        f"allowed ISO codes: {allowed_values(_ISO_CODES)}"
    )


@dataclass(frozen=True)
class AfasCountryCodec:
    """Canonical ISO 3166 alpha-2 <-> AFAS's own country code (BE <-> B, DE <-> D)."""

    name: str = "country_afas"

    def to_canonical(self, native: object) -> str:
        code = scalar_text(native).strip().upper()
        try:
            return _BY_AFAS[code]
        except KeyError:
            raise RecordError(
                f"{native!r} is not an AFAS country code syncd knows; "
                f"allowed: {allowed_values(_BY_AFAS)}"
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
            return _BY_NAME[_fold(scalar_text(native))]
        except KeyError:
            raise RecordError(
                f"{native!r} is not a country name syncd knows; allowed: "
                f"{allowed_values(_NAME_BY_ISO.values())} (or an ISO code)"
            ) from None

    def to_native(self, canonical: str) -> object:
        try:
            return _NAME_BY_ISO[canonical]
        except KeyError:
            raise _unknown_country(canonical) from None

    def domain(self) -> tuple[str, ...] | None:
        return _ISO_CODES
