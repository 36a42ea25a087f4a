"""Dutch last names against AFAS's prefix (Is) and last name (LaNm), both ways."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from syncd.errors import RecordError
from syncd.mapping.field_map import FieldMap
from syncd.mapping.tables import FieldTable
from syncd.records import Side
from syncd.transforms.by_name import CODECS, COMPOSITE_CODECS, NORMALISERS
from syncd.transforms.person_names import (
    PARTS,
    PREFIXES,
    DutchLastNameCodec,
    dutch_last_name,
    join_last_name,
    split_last_name,
)

CODEC = DutchLastNameCodec()

# (HubSpot lastname, AFAS (Is, LaNm)); each line is already canonical.
REAL_NAMES = [
    ("van der Berg", ("van der", "Berg")),
    ("Van den Heuvel", ("Van den", "Heuvel")),
    ("de Vries", ("de", "Vries")),
    ("in 't Veld", ("in 't", "Veld")),
    ("ter Horst", ("ter", "Horst")),
    ("van 't Hof", ("van 't", "Hof")),
    ("van Gogh", ("van", "Gogh")),
    ("ten Hag", ("ten", "Hag")),
    ("'t Hart", ("'t", "Hart")),
    ("d'Ancona", ("d'", "Ancona")),
    ("uit den Bogaard", ("uit den", "Bogaard")),
    ("op de Beek", ("op de", "Beek")),
    ("van der Ven-van Dijk", ("van der", "Ven-van Dijk")),
    ("de la Court", ("de la", "Court")),
    ("Van Avermaet", ("Van", "Avermaet")),
    ("da Silva", ("da", "Silva")),
    ("el Hamdaoui", ("el", "Hamdaoui")),
    ("Vandermeer", (None, "Vandermeer")),
    ("Devries", (None, "Devries")),
    ("Jansen", (None, "Jansen")),
    ("D'hondt", (None, "D'hondt")),
    ("Van", (None, "Van")),
]


@pytest.mark.parametrize(("line", "parts"), REAL_NAMES)
def test_real_names_split_into_prefix_and_last_name_and_join_back(
    line: str, parts: tuple[str | None, str]
) -> None:
    assert split_last_name(line) == parts
    assert join_last_name(*parts) == line
    assert dutch_last_name(line) == line
    assert CODEC.to_native(line) == parts
    assert CODEC.to_canonical(parts) == line


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("  van   der  Berg ", "van der Berg"),
        ("in \u2019t Veld", "in 't Veld"),
        ("van \u2018t Hof", "van 't Hof"),
        ("d' Ancona", "d'Ancona"),
        ("VAN DER BERG", "VAN DER BERG"),
        ("van\u00a0Dijk", "van Dijk"),
    ],
)
def test_only_the_shape_of_a_line_is_normalised_never_its_capitals(
    written: str, canonical: str
) -> None:
    assert dutch_last_name(written) == canonical


def test_a_prefix_held_apart_or_in_the_last_name_reads_as_the_same_line() -> None:
    # A Flemish "De Smet" kept whole in LaNm is not rewritten: both layouts read alike.
    assert CODEC.to_canonical(("", "De Smet")) == CODEC.to_canonical(("De", "Smet"))
    assert CODEC.to_canonical((None, "van der Berg")) == "van der Berg"
    assert CODEC.to_canonical(("van", "der Berg")) == "van der Berg"


def test_capitals_are_part_of_the_value() -> None:
    assert dutch_last_name("Van der Berg") != dutch_last_name("van der Berg")


def test_a_prefix_without_a_last_name_is_refused_not_guessed() -> None:
    with pytest.raises(RecordError, match="no last name"):
        CODEC.to_canonical(("van der", ""))
    with pytest.raises(RecordError, match="not a prefix and a last name"):
        CODEC.to_canonical("van der Berg")
    with pytest.raises(RecordError, match="is not text"):
        CODEC.to_canonical(("van", 12))


def test_a_last_name_longer_than_afas_holds_is_refused_before_writing() -> None:
    CODEC.to_native("van " + "B" * 80)
    with pytest.raises(RecordError, match=r"longer than AFAS holds \(80\)"):
        CODEC.to_native("van " + "B" * 81)


def test_every_known_prefix_fits_afas_prefix_field() -> None:
    assert max(len(p) for p in PREFIXES) <= 15  # KnPerson.Is
    assert all(p == p.lower() and p == p.strip() for p in PREFIXES)


_PREFIX_WORDS = frozenset(word for prefix in PREFIXES for word in prefix.split())
_CAPITAL = r"[A-Z\u00c0-\u00d6\u00d8-\u00de]"  # Latin-1 letters, without the signs between
_SMALL = r"[a-z\u00e0-\u00f6\u00f8-\u00ff]"
_WORD = st.from_regex(f"{_CAPITAL}{_SMALL}{{1,10}}", fullmatch=True)
_LAST_NAME = st.builds(
    " ".join,
    st.lists(st.one_of(_WORD, st.builds("-".join, st.tuples(_WORD, _WORD))), min_size=1,
             max_size=3),
)  # fmt: skip


def _in_any_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if flip else c for c, flip in zip(text, flips, strict=True))


@st.composite
def _afas_names(draw: st.DrawFn) -> tuple[str | None, str]:
    prefix = draw(st.one_of(st.none(), st.sampled_from(sorted(PREFIXES))))
    last_name = draw(_LAST_NAME)
    assume(last_name.split(" ")[0].lower() not in _PREFIX_WORDS)
    return (None if prefix is None else _in_any_case(draw, prefix)), last_name


@given(_afas_names())
@example((None, "Vandermeer"))
@example(("Van Der", "Berg"))
@example(("voor in 't", "Veld"))
def test_what_afas_holds_written_to_hubspot_and_read_back_is_what_afas_held(
    held: tuple[str | None, str],
) -> None:
    line = dutch_last_name(CODEC.to_canonical(held))
    assert line is not None
    assert dutch_last_name(line) == line  # HubSpot's value, read back, is unchanged
    assert CODEC.to_native(line) == held


_LINE = st.lists(
    st.one_of(
        st.sampled_from(sorted(_PREFIX_WORDS)).flatmap(lambda w: st.just(w.capitalize())),
        st.sampled_from(sorted(_PREFIX_WORDS)),
        _WORD,
        st.sampled_from(["d'Ancona", "D'hondt", "l'Estrange", "\u2019t", "-", "  ", "Ven-van"]),
    ),
    min_size=1,
    max_size=6,
).map(" ".join)


@given(st.one_of(_LINE, st.text(alphabet="vanderDVT'\u2019 -lt", max_size=20)))
@example("d' hondt")
@example("van der")
def test_what_hubspot_holds_normalised_is_stable(written: str) -> None:
    line = dutch_last_name(written)
    if line is None:
        assert not written.strip()
        return
    assert dutch_last_name(line) == line
    assert CODEC.to_canonical(CODEC.to_native(line)) == line
    # Only spaces and apostrophes change: syncd never re-capitalises a name.
    assert line.replace(" ", "") == written.replace("\u2019", "'").replace(" ", "")


# --- through the mapping machinery ----------------------------------------------------

LAST_NAME_FIELD: dict[str, Any] = {
    "name": "last_name",
    "crm": "lastname",
    "afas": ["Prefix", "LastName"],
    "afas_update": ["KnPerson.Is", "KnPerson.LaNm"],
    "normalize": ["dutch_last_name"],
    "afas_codec": "dutch_last_name",
}


def _field(**changes: Any) -> FieldMap:
    table = FieldTable.model_validate({**LAST_NAME_FIELD, **changes}, context={})
    return table.field_map()


def test_a_mapping_can_name_the_codec_and_its_normaliser() -> None:
    assert COMPOSITE_CODECS["dutch_last_name"] == PARTS
    assert CODECS["dutch_last_name"] == CODEC
    assert NORMALISERS["dutch_last_name"] is dutch_last_name


@pytest.mark.parametrize(("line", "parts"), REAL_NAMES)
def test_a_mapped_field_round_trips_between_afas_fields_and_hubspot_lastname(
    line: str, parts: tuple[str | None, str]
) -> None:
    field = _field()
    row = {"Prefix": parts[0] or "", "LastName": parts[1], "FirstName": "Jan"}
    canonical = field.read(Side.AFAS, field.native_of(Side.AFAS, row))
    assert canonical == line
    hubspot = field.natives(Side.CRM, canonical)
    assert hubspot == {"lastname": line}
    read_back = field.read(Side.CRM, field.native_of(Side.CRM, hubspot))
    assert read_back == canonical
    assert field.updates(read_back) == {"KnPerson.Is": parts[0], "KnPerson.LaNm": parts[1]}


def test_a_mapped_field_clears_both_afas_fields_for_a_blank_last_name() -> None:
    field = _field()
    assert field.native_of(Side.AFAS, {"Prefix": "", "LastName": None}) is None
    assert field.updates(None) == {"KnPerson.Is": None, "KnPerson.LaNm": None}


def test_a_mapped_field_names_the_person_when_afas_holds_a_prefix_alone() -> None:
    field = _field()
    with pytest.raises(RecordError, match=r"field 'last_name' \(afas 'Prefix'\).*no last name"):
        field.read(Side.AFAS, field.native_of(Side.AFAS, {"Prefix": "van", "LastName": ""}))


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"afas": ["LastName"]}, r"needs 2 AFAS fields \(prefix, last name\)"),
        ({"normalize": ["collapse_spaces"]}, 'add "dutch_last_name"'),
    ],
)
def test_a_mapping_that_names_the_codec_wrongly_is_told_how_to_fix_it(
    changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        _field(**changes)
