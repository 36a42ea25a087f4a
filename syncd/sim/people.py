"""Realistic Dutch and Flemish contact persons, generated from a seed, for the demo and tests.

A person's last name is kept as AFAS Profit keeps it, the prefix (``Is``: "van der",
"in 't") apart from the rest (``LaNm``); :attr:`Person.last_name_line` is the one line
HubSpot's ``lastname`` holds ("van der Berg"). Flemish names are written as registered,
the capitalised particle part of the last name ("De Smet"), so their prefix is blank.

Work e-mail addresses are at the company's domain and never repeat within one
:class:`People` (HubSpot's contact e-mail is unique in a portal); phone numbers are Dutch,
written the ways people type them. The same seed always gives the same people.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace

from syncd.transforms.person_names import join_last_name

_DUTCH_FIRST_NAMES = (
    "Anouk", "Sanne", "Lotte", "Femke", "Sophie", "Emma", "Julia", "Lieke", "Marieke",
    "Hanneke", "Ingrid", "Daan", "Sem", "Lucas", "Thijs", "Bram", "Jeroen", "Pieter",
    "Joost", "Maarten", "Wouter", "Ruud", "Henk", "Kees", "Mohamed", "Yasmina",
)  # fmt: skip
_FLEMISH_FIRST_NAMES = (
    "Jens", "Wout", "Lien", "Elke", "Griet", "Nele", "Sofie", "Stijn", "Koen", "Bert",
    "Pieter-Jan", "Dries", "Lotte", "Wim", "An",
)  # fmt: skip
# (prefix, last name) as AFAS holds them; the prefix in lower case, as registered in NL
_DUTCH_LAST_NAMES = (
    ("van der", "Berg"), ("de", "Vries"), ("van", "Dijk"), ("in 't", "Veld"),
    ("ter", "Horst"), ("van den", "Heuvel"), ("van 't", "Hof"), ("te", "Velde"),
    ("van de", "Kamp"), ("de", "Jong"), ("van der", "Meer"), ("ten", "Cate"),
    ("van", "Leeuwen"), ("de", "Graaf"), ("van der", "Linden"), ("'t", "Hart"),
    ("", "Jansen"), ("", "Bakker"), ("", "Visser"), ("", "Smit"), ("", "Mulder"),
    ("", "Bos"), ("", "Hoekstra"), ("", "Dijkstra"), ("", "Kuipers"), ("", "Vermeulen"),
    ("", "Postma"), ("", "Brouwer"),
)  # fmt: skip
# Belgian last names stay whole, the particle capitalised (they sit whole in LaNm)
_FLEMISH_LAST_NAMES = (
    "De Smet", "Peeters", "Janssens", "Maes", "Van Damme", "Vandenbroucke", "De Backer",
    "Claes", "Wouters", "Goossens", "Van den Broeck", "De Clercq",
)  # fmt: skip
_FLEMISH_SHARE = 0.2
_JOB_TITLES = (
    "Directeur", "Eigenaar", "Inkoper", "Office manager", "Financieel administrateur",
    "Bedrijfsleider", "Projectleider", "Accountmanager", "Hoofd inkoop", "Controller",
    "Planner", "Werkvoorbereider", "Boekhouder", "Salesmanager", "Directiesecretaresse",
)  # fmt: skip
# How many people a company has: 0 to 4, mostly one or two
_HEADCOUNTS = (0, 1, 1, 1, 2, 2, 2, 3, 3, 4)


@dataclass(frozen=True)
class Person:
    """One contact person at a company, in the values both systems hold."""

    first_name: str
    prefix: str  # AFAS ``Is``; "" when there is none
    last_name: str  # AFAS ``LaNm``
    email: str  # work e-mail
    phone: str | None  # direct line
    mobile: str | None
    job_title: str
    # Addresses the person had before: HubSpot keeps a contact's former e-mail among its
    # additional ones (hs_additional_emails) when its e-mail changes.
    other_emails: tuple[str, ...] = ()

    @property
    def last_name_line(self) -> str:
        """The last name on one line, as HubSpot's ``lastname`` holds it."""
        return join_last_name(self.prefix or None, self.last_name)


class People:
    """Generates the people of one portal's companies, a company at a time.

    One instance hands out every e-mail address once: two companies may share a domain.
    """

    def __init__(self, seed: int = 1) -> None:
        self._rng = random.Random(seed)
        self._emails: set[str] = set()

    def at(self, domain: str, area_code: str, at_least: int = 0) -> list[Person]:
        """0-4 people (but ``at_least``) working at the company of ``domain``, whose phone
        numbers start with the Dutch ``area_code`` ("020")."""
        headcount = max(at_least, self._rng.choice(_HEADCOUNTS))
        return [self.one(domain, area_code) for _ in range(headcount)]

    def one(self, domain: str, area_code: str) -> Person:
        """One person working at the company of ``domain``."""
        rng = self._rng
        first, prefix, last = _name(rng)
        return Person(
            first_name=first,
            prefix=prefix,
            last_name=last,
            email=self._email(first, prefix, last, domain),
            phone=direct_line(rng, area_code) if rng.random() < 0.6 else None,
            mobile=mobile_number(rng) if rng.random() < 0.7 else None,
            job_title=rng.choice(_JOB_TITLES),
        )

    def with_new_mobile(self, person: Person) -> Person:
        """``person`` after changing to another mobile number."""
        while (mobile := mobile_number(self._rng)) == person.mobile:
            pass
        return replace(person, mobile=mobile)

    def with_new_email(self, person: Person) -> Person:
        """``person`` after changing to another work e-mail at the same domain, the former
        one kept as another."""
        first, last = person.first_name, person.last_name
        domain = person.email.partition("@")[2]
        email = self._email(first, person.prefix, last, domain)
        return replace(person, email=email, other_emails=(person.email,))

    def _email(self, first: str, prefix: str, last: str, domain: str) -> str:
        given = _letters(first)
        family = _letters(prefix + last)
        styles = (f"{given}.{family}", f"{given[0]}.{family}", given, f"{given}{family}")
        local = self._rng.choice(styles)
        numbered = (f"{local}{n}" for n in itertools.count(2))  # a second Jan Jansen
        candidates = (f"{c}@{domain}" for c in itertools.chain((local, *styles), numbered))
        email = next(c for c in candidates if c not in self._emails)
        self._emails.add(email)
        return email


def _name(rng: random.Random) -> tuple[str, str, str]:
    """First name, prefix and last name: Dutch, or now and then Flemish."""
    if rng.random() < _FLEMISH_SHARE:
        return rng.choice(_FLEMISH_FIRST_NAMES), "", rng.choice(_FLEMISH_LAST_NAMES)
    prefix, last = rng.choice(_DUTCH_LAST_NAMES)
    return rng.choice(_DUTCH_FIRST_NAMES), prefix, last


def _letters(name: str) -> str:
    """A name as an e-mail address writes it: lower case letters only ("in 't Veld"
    -> "intveld")."""
    return "".join(ch for ch in name.lower() if ch.isalpha())


def direct_line(rng: random.Random, area_code: str) -> str:
    """A Dutch landline in the area ("020"), written one of the national ways: ten digits
    with the area code, the subscriber's number never starting with 0 or 1."""
    rest = 10 - len(area_code) - 1
    digits = f"{rng.randrange(2, 10)}{rng.randrange(10**rest):0{rest}d}"
    return rng.choice(
        (
            f"{area_code}-{digits}",
            f"{area_code} {digits[:3]} {digits[3:]}",
            f"+31 {area_code[1:]} {digits}",
        )
    )


def mobile_number(rng: random.Random) -> str:
    """A Dutch mobile number (06 and eight digits, the first of them 1-6), written one of
    the usual ways."""
    digits = f"{rng.randrange(1, 7)}{rng.randrange(10**7):07d}"
    return rng.choice((f"06-{digits}", f"06 {digits[:4]} {digits[4:]}", f"+31 6 {digits}"))
