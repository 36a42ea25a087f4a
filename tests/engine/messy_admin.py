"""A messy, realistic pair of administrations with known truth, for measuring matching.

About 300 companies a side, about 200 of them the same company on both sides, written
the way real CRMs and ERPs drift apart. Every true pair and every trap is labelled with
its variation kind, so a test can report precision and recall per kind:

- ``exact``: the same record on both sides.
- ``legal_form``: legal form and capitalisation written differently, and no KvK, VAT or
  IBAN on the AFAS side: only the name and postcode tie them.
- ``typo``, ``abbreviation`` ("Techn.", "Install."), ``moved`` (another address),
  ``trade_name`` (the CRM knows the shop's name, AFAS the statutory one): no strong key
  on the AFAS side; the e-mail domain is the same (a person has to decide).
- ``moved_with_kvk``: moved, both sides know the KvK number.
- ``kvk_7_digits``: a KvK number starting with 0, typed into the CRM as 7 digits (as a
  spreadsheet leaves it), the name written otherwise: only the KvK number ties them.
- ``missing_kvk``: no KvK number on one side, the VAT number or IBAN ties them.
- ``unrecognisable``: a trade name at a new address with another e-mail address, no
  numbers in AFAS: nothing ties them, no key can find them (a duplicate, by design).
- ``holding``: "X Holding B.V." and "X B.V." at one address, both on both sides, the
  holding without any number on the AFAS side.
- ``branch``: branches of one chain sharing one KvK number (and VAT number), each on
  both sides, told apart by their postcode.

Traps, on one side only (a link to them is always wrong):

- ``holding_trap``: "X Holding B.V." in the CRM, "X B.V." in AFAS, at one address.
- ``similar_name``: another company with nearly the same name (a typo away, or the same
  name in another city), another KvK number.
- ``same_name_unnumbered``: another company of the same name in the same city, without
  any number on one side (only a person can tell them apart: held, not created).
- ``only_here``: a company the other side does not know.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from syncd.records import Side, Value
from syncd.sim.companies import companies, dutch_vat, iban

Fields = dict[str, Value]

PAIR_KINDS = {  # true pairs per variation kind (branches and holdings: per group)
    "exact": 46,
    "legal_form": 30,
    "typo": 12,
    "abbreviation": 12,
    "moved": 10,
    "moved_with_kvk": 8,
    "trade_name": 10,
    "kvk_7_digits": 15,
    "missing_kvk": 15,
    "unrecognisable": 4,
}
HOLDING_GROUPS = 8  # two true pairs each
BRANCH_CHAINS = 7  # three branches each, three true pairs
TRAPS = {"holding_trap": 6, "similar_name": 14, "same_name_unnumbered": 4}
ONLY_HERE = 80  # per side

_ABBREVIATIONS = {
    "Installatiebedrijf": "Install.",
    "Elektrotechniek": "Elektrotechn.",
    "Metaalbewerking": "Metaalbew.",
    "Architectenbureau": "Arch. bureau",
    "Adviesbureau": "Adviesbur.",
    "Hoveniersbedrijf": "Hoveniersbedr.",
    "Schildersbedrijf": "Schildersbedr.",
    "Loodgietersbedrijf": "Loodgietersbedr.",
    "Groothandel": "Groothand.",
    "Transport": "Transp.",
    "Drukkerij": "Drukk.",
    "Timmerfabriek": "Timmerfabr.",
}
_TRADE_NAMES = ("Het Broodhuys", "De Snelle Bus", "Groen & Zo", "PrintPunt", "Kleurrijk")


@dataclass
class Administrations:
    """What each side holds (canonical fields), and which records are one company."""

    crm: list[Fields] = field(default_factory=list)
    afas: list[Fields] = field(default_factory=list)
    # (crm index, afas index, kind) of the records that are one company
    pairs: list[tuple[int, int, str]] = field(default_factory=list)
    # (side, index, kind) of records the other side does not have
    alone: list[tuple[Side, int, str]] = field(default_factory=list)

    def both(self, crm: Fields, afas: Fields, kind: str) -> None:
        self.crm.append(crm)
        self.afas.append(afas)
        self.pairs.append((len(self.crm) - 1, len(self.afas) - 1, kind))

    def only(self, side: Side, fields: Fields, kind: str) -> None:
        records = self.crm if side is Side.CRM else self.afas
        records.append(fields)
        self.alone.append((side, len(records) - 1, kind))


def generate(seed: int = 20) -> Administrations:
    rng = random.Random(seed)
    pool = _distinct_names(companies(2000, seed=seed))
    admin = Administrations()
    for kind, count in PAIR_KINDS.items():
        for _ in range(count):
            crm, afas = _VARIATIONS[kind](next(pool), rng)
            admin.both(crm, afas, kind)
    for _ in range(HOLDING_GROUPS):
        _holding_group(admin, next(pool), next(pool), rng)
    for _ in range(BRANCH_CHAINS):
        _branch_chain(admin, [next(pool) for _ in range(3)], rng)
    for _ in range(TRAPS["holding_trap"]):
        holding, operating = _holding_and_operating(next(pool), next(pool), rng)
        admin.only(Side.CRM, holding, "holding_trap")
        admin.only(Side.AFAS, operating, "holding_trap")
    for n in range(TRAPS["similar_name"]):
        original, other = next(pool), next(pool)
        side = Side.CRM if n % 2 else Side.AFAS
        admin.only(side, original, "similar_name")
        admin.only(side.other, _similar(original, other, rng), "similar_name")
    for _ in range(TRAPS["same_name_unnumbered"]):
        original, other = next(pool), next(pool)
        namesake = {
            **_without(other, *_NUMBERS),
            "name": original["name"],
            "city": original["city"],
        }
        admin.only(Side.CRM, original, "same_name_unnumbered")
        admin.only(Side.AFAS, namesake, "same_name_unnumbered")
    for side in Side:
        for _ in range(ONLY_HERE):
            admin.only(side, next(pool), "only_here")
    return admin


def _distinct_names(source: Iterator[object]) -> Iterator[Fields]:
    """Companies whose names all differ: two generated companies of one name (same trade
    and family name) would be look-alikes the variations did not make."""
    seen: set[str] = set()
    for company in source:
        fields: Fields = dict(company.fields)  # type: ignore[attr-defined]
        name = str(fields["name"]).lower()
        stem = name.replace(" holding b.v.", "").replace(" b.v.", "").replace(" n.v.", "")
        stem = stem.replace(" v.o.f.", "")
        if stem not in seen:
            seen.add(stem)
            yield fields


def _without(fields: Fields, *names: str) -> Fields:
    return {k: (None if k in names else v) for k, v in fields.items()}


_NUMBERS = ("kvk", "vat", "iban")


def _exact(c: Fields, rng: random.Random) -> tuple[Fields, Fields]:
    return c, dict(c)


def _legal_form(c: Fields, rng: random.Random) -> tuple[Fields, Fields]:
    name = str(c["name"])
    for before, after in ((" B.V.", " bv"), (" N.V.", " NV"), (" V.O.F.", " vof")):
        if name.endswith(before):
            drifted = name.removesuffix(before) + after
            break
    else:
        drifted = name + " B.V."
    drifted = drifted.upper() if rng.random() < 0.5 else drifted.lower()
    return c, {**_without(c, *_NUMBERS), "name": drifted}


def _typo(c: Fields, rng: random.Random) -> tuple[Fields, Fields]:
    name = str(c["name"])
    at = rng.randrange(1, len(name.split()[0]))  # in the trade: the legal form stays
    return c, {**_without(c, *_NUMBERS), "name": name[:at] + name[at + 1 :]}


def _abbreviation(c: Fields, rng: random.Random) -> tuple[Fields, Fields]:
    name = str(c["name"])
    trade = name.split()[0]
    short = _ABBREVIATIONS.get(trade, trade[:4] + ".")
    return c, {**_without(c, *_NUMBERS), "name": name.replace(trade, short, 1)}


def _moved(c: Fields, rng: random.Random, *, numbers: bool = False) -> tuple[Fields, Fields]:
    address = {
        "street": "Nieuwe Industrieweg",
        "house_number": str(rng.randrange(1, 250)),
        "postcode": f"{rng.randrange(10, 99)}{rng.randrange(10, 99)} XK",
    }
    afas = c if numbers else _without(c, *_NUMBERS)
    return c, {**afas, **address}


def _moved_with_kvk(c: Fields, rng: random.Random) -> tuple[Fields, Fields]:
    return _moved(c, rng, numbers=True)


def _trade_name(c: Fields, rng: random.Random) -> tuple[Fields, Fields]:
    shop = f"{rng.choice(_TRADE_NAMES)} {c['city']!s}"
    return {**c, "name": shop}, _without(c, *_NUMBERS)


def _unrecognisable(c: Fields, rng: random.Random) -> tuple[Fields, Fields]:
    crm, afas = _trade_name(c, rng)
    return {**crm, "email": "sales@elders.example"}, _moved(afas, rng)[1]


def _kvk_7_digits(c: Fields, rng: random.Random) -> tuple[Fields, Fields]:
    kvk = f"0{rng.randrange(1_000_000, 9_999_999)}"
    crm = {**_without(c, "vat", "iban"), "kvk": kvk[1:], "name": f"{c['name']} (hoofdkantoor)"}
    return crm, {**_without(c, "vat", "iban"), "kvk": kvk}


def _missing_kvk(c: Fields, rng: random.Random) -> tuple[Fields, Fields]:
    kept = "vat" if rng.random() < 0.5 else "iban"
    return c, _without(c, *(n for n in _NUMBERS if n != kept))


_VARIATIONS = {
    "exact": _exact,
    "legal_form": _legal_form,
    "typo": _typo,
    "abbreviation": _abbreviation,
    "moved": _moved,
    "moved_with_kvk": _moved_with_kvk,
    "trade_name": _trade_name,
    "kvk_7_digits": _kvk_7_digits,
    "missing_kvk": _missing_kvk,
    "unrecognisable": _unrecognisable,
}


def _holding_and_operating(c: Fields, other: Fields, rng: random.Random) -> tuple[Fields, Fields]:
    """Two companies at one address: "X Holding B.V." and "X B.V.", numbers of their own."""
    stem = str(c["name"]).removesuffix(" B.V.").removesuffix(" Holding")
    stem = stem.removesuffix(" N.V.").removesuffix(" V.O.F.")
    numbers = {"kvk": other["kvk"], "vat": other["vat"], "iban": other["iban"]}
    holding = {**c, "name": f"{stem} Holding B.V."}
    return holding, {**c, **numbers, "name": f"{stem} B.V."}


def _holding_group(admin: Administrations, c: Fields, other: Fields, rng: random.Random) -> None:
    holding, operating = _holding_and_operating(c, other, rng)
    admin.both(holding, _without(holding, *_NUMBERS), "holding")
    admin.both(operating, dict(operating), "holding")


def _branch_chain(admin: Administrations, places: list[Fields], rng: random.Random) -> None:
    """Branches of one chain: one name, KvK and VAT number and bank account, each its
    own address."""
    head = places[0]
    shared = ("name", "kvk", "vat", "iban", "email")
    same = {name: head[name] for name in shared}
    for place in places:
        branch = {**place, **same}
        admin.both(branch, dict(branch), "branch")


def _similar(original: Fields, other: Fields, rng: random.Random) -> Fields:
    """Another company, a letter or a city away from ``original``'s name."""
    name = str(original["name"])
    if rng.random() < 0.5:
        at = rng.randrange(1, len(name.split()[0]))
        return {**other, "name": name[:at] + name[at:].replace(name[at], name[at] * 2, 1)}
    return {**other, "name": name, "city": other["city"]}


def spare_numbers(rng: random.Random) -> tuple[str, str]:
    """A VAT number and IBAN no generated company has (for ad hoc cases)."""
    return dutch_vat(rng), iban("ABNA", rng.randrange(10**9, 10**10))
