"""Match key values: how a field is compared when pairing unlinked records.

A match key element is a canonical field name, compared as it is (``"kvk"``), or a
field with a comparison function (``"name:business"``, ``"email:domain"``), or a field
with all the values a side keeps of it (``"email:any"``: a HubSpot contact's e-mail and
its additional e-mails), any of which matches any of the other record's. Pure.
"""

from __future__ import annotations

import functools
import itertools
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


ANY = "any"
"""The comparison of every value a record keeps of a field (its own and its others)."""

OTHERS_APART = ";"  # HubSpot's separator in a property of several values


def others_of(field: str) -> str:
    """The name under which a record keeps a field's other values (``"email+others"``,
    ";" apart): not a field name, so never mapped, compared field by field or written."""
    return f"{field}+others"


@functools.cache  # a mapping has a handful of elements, parsed for every record
def parse_element(element: str) -> tuple[str, str | None]:
    """ "name:business" -> ("name", "business"); "kvk" -> ("kvk", None)."""
    field, _, function = element.partition(":")
    return field, function or None


def element_value(fields: Mapping[str, Value], element: str) -> str | None:
    """The element's value (of ``"email:any"``, the field's own value)."""
    field, function = parse_element(element)
    value = fields.get(field)
    if value is None or value == "":
        return None
    return KEY_FUNCTIONS[function](value) if function and function != ANY else value


def element_values(fields: Mapping[str, Value], element: str) -> tuple[str, ...]:
    """Every value of an element: none, one, or of ``"email:any"`` each one kept."""
    field, function = parse_element(element)
    if function != ANY:
        value = element_value(fields, element)
        return () if value is None else (value,)
    others = fields.get(others_of(field)) or ""
    values = [fields.get(field), *others.split(OTHERS_APART)]
    return tuple(dict.fromkeys(v for v in values if v))


def key_value(fields: Mapping[str, Value], key: Sequence[str]) -> tuple[str, ...] | None:
    """The value of a (composite) key, or None when any part is blank."""
    values = []
    for element in key:
        value = element_value(fields, element)
        if value is None:
            return None
        values.append(value)
    return tuple(values)


def key_values(fields: Mapping[str, Value], key: Sequence[str]) -> list[tuple[str, ...]]:
    """Every value of a (composite) key: one, or several when an element has several
    (``"email:any"``); none when any part is blank."""
    if not any(parse_element(element)[1] == ANY for element in key):
        value = key_value(fields, key)  # the common case, without the product
        return [] if value is None else [value]
    return list(itertools.product(*(element_values(fields, element) for element in key)))
