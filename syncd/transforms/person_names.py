"""Dutch last names: one line ("van der Berg") against AFAS's prefix and last name.

AFAS Profit keeps a person's prefix (``Is``, the *tussenvoegsel*: "van der", "in 't") and
last name (``LaNm``) apart, beside first name (``FiNm``) and initials (``In``); HubSpot has
``firstname`` and ``lastname``, and the prefix sits in ``lastname``. A mapping joins the
two AFAS fields into one canonical line and splits that line again when it writes to AFAS::

    <prefix> <last name>        "van der Berg", "in 't Veld", "Van den Heuvel"
    <prefix><last name>         after a prefix ending in an apostrophe: "d'Ancona"
    <last name>                 no prefix: "Jansen", "Vandermeer"

Splitting takes the longest known prefix (:data:`PREFIXES`, Dutch, Flemish and the
foreign ones Dutch registers hold) made of whole leading words, recognised in any case,
with something left after it; so "Vandermeer" and "Devries" stay whole, and a line that
is only a prefix ("Van") is a last name. An attached "d'"/"l'" is split off only before a
capital: "d'Ancona" splits, the Flemish one-word "D'hondt" does not.

Capitals are kept as each side holds them; syncd never re-capitalises. In the
Netherlands a prefix is registered in lower case and capitalised only when the surname
stands alone ("Jan van der Berg", "mevrouw Van der Berg"); in Belgium the name is written
as registered, usually capitalised even after a first name ("Tom De Coninck"). syncd
cannot tell the two apart from the letters, so the case is part of the value: a
HubSpot "Van der Berg" against AFAS "van der" + "Berg" is a difference like any other,
settled by the field's ``first_link`` / conflict rule (``"afas"`` keeps the registered
spelling), and whatever is written carries the winning side's letters exactly. Only the
shape of the line is normalised: runs of spaces, and the apostrophes word processors
type (U+2019 and its kin) as "'".

Round trips: a canonical line split and joined is the same line; AFAS's fields joined
and split are the same fields when ``Is`` is a known prefix (or blank) and ``LaNm`` does
not itself start with one. Fields laid out otherwise (a Flemish "De Smet" whole in
``LaNm``, "van" + "der Berg") read as the line HubSpot holds for them, so no change is
seen and they are not rewritten; only a change of the name writes them, split as above.

Initials are not derived. HubSpot's ``firstname`` is the name a person goes by ("Hans"),
AFAS's ``In`` abbreviates the registered given names ("J." for Johannes); computing one
from the other would write wrong initials into AFAS, so ``In`` stays AFAS's own. So do
the partner's name fields (``IsPa``, ``NmPa``): a double name ("van der Ven-van Dijk")
is one last name after its first prefix.

Sources: field names and lengths from AFAS's OpenAPI "Organisaties en personen" 6.6.9
(KnPerson ``Is`` 15, ``LaNm`` 80); the capitals from the Taalunie's taaladvies.net and
Onze Taal on Dutch and Belgian surnames.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from syncd.errors import RecordError
from syncd.records import Value

__all__ = [
    "PARTS",
    "PREFIXES",
    "DutchLastNameCodec",
    "dutch_last_name",
    "join_last_name",
    "split_last_name",
]

PARTS = ("prefix", "last name")
"""What each of the codec's native fields holds, in order (AFAS ``Is``, ``LaNm``)."""

LAST_NAME_MAX = 80  # AFAS KnPerson.LaNm

_DUTCH = (
    "van", "van de", "van den", "van der", "van het", "van 't", "van ter", "van ten",
    "van van", "van in 't", "de", "den", "der", "het", "'t", "'s", "te", "ten", "ter",
    "in de", "in den", "in der", "in het", "in 't", "op de", "op den", "op der",
    "op het", "op 't", "op ten", "uit de", "uit den", "uit het", "uit 't",
    "aan de", "aan den", "aan der", "aan het", "aan 't", "bij de", "bij den", "bij het",
    "bij 't", "onder de", "onder den", "onder het", "onder 't", "over de", "over den",
    "over het", "over 't", "voor de", "voor den", "voor het", "voor 't", "voor in 't",
    "tot de", "tot den",
)  # fmt: skip
_FOREIGN = (
    "von", "von der", "von dem", "von den", "vom", "zu", "zum", "zur", "d'", "l'",
    "de la", "de las", "de los", "du", "des", "le", "la", "les", "da", "das", "do",
    "dos", "di", "del", "della", "dei", "degli", "el",
)  # fmt: skip
PREFIXES: frozenset[str] = frozenset(_DUTCH + _FOREIGN)
"""The prefixes syncd splits off, in lower case, with "'" for any apostrophe."""

_LONGEST = max(len(p.split()) for p in PREFIXES)
_SPACES = re.compile(r"\s+")
_APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u2018\u0060\u00b4", "'"))
_ATTACHED = re.compile(r"(?P<prefix>[dDlL]')(?P<rest>.+)")

Parts = tuple[str | None, str]


def tidy(text: str) -> str:
    """``text`` with single spaces, no spaces at the ends and "'" for every apostrophe."""
    return _SPACES.sub(" ", text.translate(_APOSTROPHES)).strip()


def split_last_name(line: str) -> Parts:
    """(prefix or None, last name) of a last name line, its letters as written."""
    words = tidy(line).split(" ")
    attached = _ATTACHED.fullmatch(words[0])
    if attached is not None and attached["rest"][0].isupper():
        return attached["prefix"], " ".join([attached["rest"], *words[1:]])
    for size in range(min(_LONGEST, len(words) - 1), 0, -1):
        if " ".join(words[:size]).lower() in PREFIXES:
            return " ".join(words[:size]), " ".join(words[size:])
    return None, " ".join(words)


def join_last_name(prefix: str | None, last_name: str) -> str:
    """The canonical line of a prefix and a last name."""
    if not prefix:
        return last_name
    return f"{prefix}{last_name}" if prefix.endswith("'") else f"{prefix} {last_name}"


def dutch_last_name(text: str) -> Value:
    """Normaliser: a last name line in its canonical shape ("van  der Berg" becomes
    "van der Berg", "d' Ancona" becomes "d'Ancona"); capitals are left as written."""
    if not text.strip():
        return None
    return join_last_name(*split_last_name(text))


@dataclass(frozen=True)
class DutchLastNameCodec:
    """AFAS's (prefix, last name) <-> the canonical last name line."""

    name: str = "dutch_last_name"

    def to_canonical(self, native: object) -> str:
        if not isinstance(native, tuple) or len(native) != len(PARTS):
            raise RecordError(f"{native!r} is not a prefix and a last name")
        prefix, last_name = _text(native[0], "prefix"), _text(native[1], "last name")
        if not last_name:
            raise RecordError(
                f"the person has the prefix {prefix!r} but no last name; fill in the last name"
            )
        return join_last_name(prefix, last_name)

    def to_native(self, canonical: str) -> object:
        prefix, last_name = split_last_name(canonical)  # a known prefix fits AFAS's Is
        if len(last_name) > LAST_NAME_MAX:
            raise RecordError(
                f"last name {last_name!r} is longer than AFAS holds ({LAST_NAME_MAX})"
            )
        return prefix, last_name

    def domain(self) -> tuple[str, ...] | None:
        return None


def _text(value: object, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError(f"the {what} {value!r} is not text")
    return tidy(value)
