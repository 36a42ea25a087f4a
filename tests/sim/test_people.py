"""The generated contact persons: names that read the same on both sides, unique work
e-mails at the company's domain, Dutch phone numbers, and the same people for a seed."""

from __future__ import annotations

from collections import Counter

from syncd.sim.people import People, Person
from syncd.transforms.by_name import NORMALISERS
from syncd.transforms.person_names import split_last_name


def many(seed: int = 1, companies: int = 300) -> list[Person]:
    people = People(seed)
    return [p for n in range(companies) for p in people.at(f"bedrijf-{n % 40}.nl", "030")]


def test_a_prefix_is_split_off_the_last_name_line_as_syncd_splits_it() -> None:
    prefixed = [p for p in many() if p.prefix]
    assert {p.prefix for p in prefixed} >= {"van der", "de", "in 't", "ter"}
    for person in prefixed:
        assert person.last_name_line == f"{person.prefix} {person.last_name}"
        assert split_last_name(person.last_name_line) == (person.prefix, person.last_name)


def test_flemish_last_names_stay_whole_with_their_capital_particle() -> None:
    flemish = [p for p in many() if p.last_name in ("De Smet", "Van Damme", "De Backer")]
    assert flemish
    for person in flemish:
        assert person.prefix == ""
        assert person.last_name_line == person.last_name


def test_work_e_mails_are_at_the_domain_and_never_repeat_even_when_domains_do() -> None:
    people = People(2)
    emails = [p.email for _ in range(200) for p in people.at("korenaar.nl", "020")]
    assert len(emails) > 300, "enough to make the short styles collide"
    assert len(set(emails)) == len(emails)
    for email in emails:
        assert email.endswith("@korenaar.nl")
        assert NORMALISERS["email"](email) == email


def test_phone_numbers_are_dutch_and_a_direct_line_is_in_the_company_area() -> None:
    phones = [p.phone for p in many() if p.phone]
    mobiles = [p.mobile for p in many() if p.mobile]
    assert phones
    assert mobiles
    for phone in phones:
        normal = NORMALISERS["phone"](phone)
        assert isinstance(normal, str)
        assert normal.startswith("+3130")
        assert len(normal) == 12
    for mobile in mobiles:
        normal = NORMALISERS["phone"](mobile)
        assert isinstance(normal, str)
        assert normal.startswith("+316")
        assert len(normal) == 12


def test_a_new_mobile_number_differs_from_the_old_one() -> None:
    people = People(4)
    for person in [p for _ in range(50) for p in people.at("x.nl", "020")]:
        assert people.with_new_mobile(person).mobile not in (None, person.mobile)


def test_a_company_has_zero_to_four_people() -> None:
    people = People(5)
    headcounts = Counter(len(people.at(f"b{n}.nl", "020")) for n in range(500))
    assert set(headcounts) == {0, 1, 2, 3, 4}


def test_the_same_seed_gives_the_same_people_and_another_seed_others() -> None:
    assert many(seed=7) == many(seed=7)
    assert many(seed=7) != many(seed=8)
