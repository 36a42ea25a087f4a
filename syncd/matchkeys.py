"""Match key values: how a field is compared when pairing unlinked records.

A match key element is a canonical field name, compared as it is (``"kvk"``), or a
field with a comparison function (``"name:business"``, ``"email:domain"``). Pure.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence

from syncd.records import Value

# Legal forms and articles, as words once punctuation is gone: "B.V." -> "b v" -> "bv".
# Not "holding": "X Holding B.V." and "X B.V." are two companies (often at one address).
_NOISE_WORDS = frozenset(
    {
        "bv",
        "nv",
        "vof",
        "cv",
        "stichting",
        "vereniging",
        "coöperatie",
        "cooperatie",
        "ua",
        "ba",
        "wa",
        "eenmanszaak",
        "maatschap",
        "the",
        "de",
        "het",
    }
)
_FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "hotmail.nl",
        "outlook.com",
        "outlook.nl",
        "live.nl",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.nl",
        "icloud.com",
        "me.com",
        "ziggo.nl",
        "kpnmail.nl",
        "kpnplanet.nl",
        "planet.nl",
        "hetnet.nl",
        "home.nl",
        "xs4all.nl",
        "casema.nl",
        "chello.nl",
        "upcmail.nl",
        "online.nl",
        "telfort.nl",
        "tele2.nl",
        "quicknet.nl",
        "zeelandnet.nl",
        "gmx.com",
        "gmx.net",
        "proton.me",
        "protonmail.com",
    }
)
_WORDS = re.compile(r"[^\w]+")


@functools.lru_cache(maxsize=1 << 18)  # each name is compared under several keys
def business_name(name: str) -> str | None:
    """A company name without case, accents, punctuation or legal form.

    "Bakkerij De Korenaar B.V." and "bakkerij korenaar bv" give the same key.
    """
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = _WORDS.sub(" ", plain).split()
    joined = _join_initials(words)
    kept = [w for w in joined if w not in _NOISE_WORDS]
    return " ".join(kept) or None


def _join_initials(words: Sequence[str]) -> list[str]:
    """ "b v" -> "bv", "v o f" -> "vof": legal forms written with dots come apart."""
    out: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1:
            run.append(word)
            continue
        if run:
            out.append("".join(run))
            run = []
        if word:
            out.append(word)
    return out


def email_domain(email: str) -> str | None:
    """The domain of a company address; None for free-mail, which says nothing."""
    _, _, domain = email.strip().lower().rpartition("@")
    return None if not domain or domain in _FREE_MAIL else domain


KEY_FUNCTIONS: Mapping[str, Callable[[str], str | None]] = {
    "business": business_name,
    "domain": email_domain,
}


@functools.cache  # a mapping has a handful of elements, parsed for every record
def parse_element(element: str) -> tuple[str, str | None]:
    """ "name:business" -> ("name", "business"); "kvk" -> ("kvk", None)."""
    field, _, function = element.partition(":")
    return field, function or None


def element_value(fields: Mapping[str, Value], element: str) -> str | None:
    field, function = parse_element(element)
    value = fields.get(field)
    if value is None or value == "":
        return None
    return KEY_FUNCTIONS[function](value) if function else value


def key_value(fields: Mapping[str, Value], key: Sequence[str]) -> tuple[str, ...] | None:
    """The value of a (composite) key, or None when any part is blank."""
    values = []
    for element in key:
        value = element_value(fields, element)
        if value is None:
            return None
        values.append(value)
    return tuple(values)
