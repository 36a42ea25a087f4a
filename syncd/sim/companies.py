"""Realistic Dutch companies, generated from a seed, for the demo, tests and benchmarks.

Every value passes the shipped mappings' normalisers (8-digit KvK numbers, NL VAT
numbers, IBANs with valid check digits, Dutch postcodes and phone numbers), and the
same seed always gives the same companies.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from syncd.records import Value
from syncd.transforms.registrations import mod97

_TRADES = (
    "Bakkerij",
    "Installatiebedrijf",
    "Hoveniersbedrijf",
    "Transport",
    "Drukkerij",
    "Schildersbedrijf",
    "Metaalbewerking",
    "Architectenbureau",
    "Adviesbureau",
    "Houthandel",
    "Groothandel",
    "Loodgietersbedrijf",
    "Autobedrijf",
    "Zeilmakerij",
    "Brouwerij",
    "Kaasmakerij",
    "Timmerfabriek",
    "Elektrotechniek",
    "Verhuur",
    "Catering",
)
_NAMES = (
    "De Vries",
    "Jansen",
    "Van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "De Boer",
    "Mulder",
    "De Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "Van Leeuwen",
    "Dekker",
    "Brouwer",
    "De Wit",
    "Dijkstra",
    "Smits",
    "De Graaf",
    "Van der Meer",
    "Kok",
    "Jacobs",
    "Korenaar",
    "Noorderzon",
    "Rijnmond",
    "Zuiderlicht",
    "De Eendracht",
    "Het Anker",
)
_FORMS = ("B.V.", "B.V.", "B.V.", "V.O.F.", "", "Holding B.V.", "N.V.")
_STREETS = (
    "Hoofdstraat",
    "Kerkstraat",
    "Stationsweg",
    "Dorpsstraat",
    "Industrieweg",
    "Molenweg",
    "Nieuwstraat",
    "Marktplein",
    "Havenkade",
    "Oudegracht",
    "Parallelweg",
    "Ambachtsweg",
)
_CITIES = (
    ("Amsterdam", "10", "020"),
    ("Rotterdam", "30", "010"),
    ("Utrecht", "35", "030"),
    ("Den Haag", "25", "070"),
    ("Eindhoven", "56", "040"),
    ("Groningen", "97", "050"),
    ("Zwolle", "80", "038"),
    ("Leeuwarden", "89", "058"),
    ("Arnhem", "68", "026"),
    ("Maastricht", "62", "043"),
    ("Haarlem", "20", "023"),
    ("Amersfoort", "38", "033"),
)
_BANKS = ("ABNA", "INGB", "RABO", "SNSB", "TRIO", "ASNB")


@dataclass(frozen=True)
class Company:
    """One company in canonical field values (as the shipped mappings name them)."""

    fields: dict[str, Value]

    @property
    def kvk(self) -> str:
        return str(self.fields["kvk"])


def companies(count: int, seed: int = 1) -> Iterator[Company]:
    """``count`` distinct companies (distinct KvK numbers), the same for the same seed."""
    rng = random.Random(seed)
    kvks = rng.sample(range(10_000_000, 99_999_999), count)
    for kvk in kvks:
        yield _company(rng, kvk)


def _company(rng: random.Random, kvk: int) -> Company:
    trade, name, form = rng.choice(_TRADES), rng.choice(_NAMES), rng.choice(_FORMS)
    city, postcode_prefix, area = rng.choice(_CITIES)
    full_name = " ".join(part for part in (trade, name, form) if part)
    domain = name.lower().replace(" ", "").replace(".", "") + f"-{kvk % 1000}.nl"
    return Company(
        {
            "name": full_name,
            "kvk": str(kvk),
            "vat": dutch_vat(rng),
            "email": f"info@{domain}",
            "phone": f"+31{area[1:]}{rng.randrange(2_000_000, 9_999_999)}",  # 9 digits
            "website": f"https://www.{domain}",
            "street": rng.choice(_STREETS),
            "house_number": str(rng.randrange(1, 250)),
            "postcode": f"{postcode_prefix}{rng.randrange(10, 99)} {_letters(rng)}",
            "city": city,
            "country": "NL",
            "iban": iban(rng.choice(_BANKS), rng.randrange(10**9, 10**10)),
        }
    )


def dutch_vat(rng: random.Random) -> str:
    """A Dutch VAT number that passes the 11-test (RSIN-based, as for a B.V.)."""
    while True:
        digits = [rng.randrange(10) for _ in range(8)]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        if check != 10:
            return "NL" + "".join(map(str, digits)) + f"{check}B{rng.randrange(1, 99):02d}"


def _letters(rng: random.Random) -> str:
    while True:
        pair = "".join(rng.choice("ABCDEGHJKLMNPRSTVWXZ") for _ in range(2))
        if pair not in ("SA", "SD", "SS"):  # not used in Dutch postcodes
            return pair


def iban(bank: str, account: int) -> str:
    """A Dutch IBAN with correct check digits (ISO 13616 mod 97)."""
    bban = f"{bank}{account:010d}"
    check = 98 - mod97(bban + "NL00")
    return f"NL{check:02d}{bban}"
