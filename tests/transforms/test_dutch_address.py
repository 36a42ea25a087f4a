"""Dutch address lines against AFAS's street, house number and addition."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from syncd.errors import RecordError
from syncd.transforms.dutch_address import (
    DutchAddressCodec,
    dutch_address,
    join_address,
    split_address,
)

CODEC = DutchAddressCodec()


@pytest.mark.parametrize(
    ("line", "parts", "canonical"),
    [
        ("Kerkstraat 12-A", ("Kerkstraat", 12, "A"), "Kerkstraat 12 A"),
        ("Kerkstraat 12A", ("Kerkstraat", 12, "A"), "Kerkstraat 12 A"),
        ("Postbus 123", ("Postbus", 123, None), "Postbus 123"),
        ("Laan van Meerdervoort 1001 B", ("Laan van Meerdervoort", 1001, "B"), None),
        ("Straat 3 bis", ("Straat", 3, "bis"), None),
        ("1e Helmersstraat 5", ("1e Helmersstraat", 5, None), None),
        ("Kerkstraat 12-3", ("Kerkstraat", 12, "3"), None),
        ("  Kerkstraat   12 - A ", ("Kerkstraat", 12, "A"), "Kerkstraat 12 A"),
    ],
)
def test_lines_split_into_street_number_and_addition(
    line: str, parts: tuple[str, int, str | None], canonical: str | None
) -> None:
    assert split_address(line) == parts
    assert dutch_address(line) == (canonical or line)
    assert CODEC.to_native(dutch_address(line) or "") == parts


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Kerkstraat", "has no house number after the street"),
        ("12 Kerkstraat", "has no house number after the street"),
        ("Kerkstraat 12 3", "cannot tell the house number from the street or the addition"),
        ("Plein 1944 12", "cannot tell the house number from the street or the addition"),
        ("Kerkstraat 12, 3e verdieping", "cannot tell the house number"),
        ("Kerkstraat 0", "is not a house number"),
        ("Kerkstraat 12 A B", "has spaces in it"),
    ],
)
def test_a_line_that_cannot_be_split_without_guessing_is_refused(line: str, reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        dutch_address(line)


_WORD = st.from_regex(r"[A-Z][a-z]{1,12}", fullmatch=True)
_STREET = st.builds(
    " ".join,
    st.tuples(
        st.sampled_from(["", "1e", "2e", "Van", "Laan van"]),
        _WORD,
        st.sampled_from(["", "straat", "weg"]),
    ),
).map(lambda s: " ".join(s.split()))
_ADDITION = st.one_of(
    st.none(),
    st.from_regex(r"[A-Za-z]{1,3}", fullmatch=True),
    st.from_regex(r"[1-9][0-9]?[A-Za-z]?", fullmatch=True),
    st.sampled_from(["bis", "hs", "III", "A-1", "rd"]),
)


@given(street=_STREET, number=st.integers(1, 99_999), addition=_ADDITION)
@example(street="1e Helmersstraat", number=5, addition=None)
@example(street="Kerkstraat", number=12, addition="3")
def test_joined_parts_split_back_into_the_same_parts(
    street: str, number: int, addition: str | None
) -> None:
    line = join_address(street, number, addition)
    assert split_address(line) == (street, number, addition)
    assert dutch_address(line) == line  # the joined line is canonical
    assert CODEC.to_canonical(CODEC.to_native(line)) == line
    assert CODEC.to_native(CODEC.to_canonical((street, number, addition))) == (
        street,
        number,
        addition,
    )


@given(st.text(alphabet="Kerkstr aLn0123456789-/.,", max_size=30))
def test_every_line_syncd_accepts_it_reads_the_same_way_twice(line: str) -> None:
    try:
        once = dutch_address(line)
    except RecordError:
        return
    assert once is None or dutch_address(once) == once


def test_afas_parts_without_a_house_number_are_refused_not_guessed() -> None:
    with pytest.raises(RecordError, match="no house number"):
        CODEC.to_canonical(("Kerkstraat", None, None))


def test_a_street_longer_than_afas_holds_is_refused_before_writing() -> None:
    with pytest.raises(RecordError, match="longer than AFAS holds"):
        CODEC.to_native("K" * 61 + " 1")
