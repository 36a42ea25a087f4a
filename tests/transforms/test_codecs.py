"""Codecs (countries among them): tables of examples, and round trips."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncd.errors import RecordError
from syncd.transforms.by_name import CODECS, NORMALISERS
from syncd.transforms.codecs import ValueMap
from syncd.transforms.countries import COUNTRIES

# --- codecs: examples -----------------------------------------------------------------

AFAS_COUNTRIES = [
    ("NL", "NL"),
    ("BE", "B"),
    ("DE", "D"),
    ("FR", "F"),
    ("ES", "E"),
    ("IT", "I"),
    ("AT", "A"),
    ("NO", "N"),
    ("SE", "S"),
    ("FI", "FIN"),
    ("US", "USA"),
    ("LU", "L"),
    ("GB", "GB"),
    ("DK", "DK"),
    ("CH", "CH"),
    ("PL", "PL"),
    ("PT", "P"),
    ("IE", "IRL"),
]


@pytest.mark.parametrize(("iso", "afas"), AFAS_COUNTRIES)
def test_country_afas_codes(iso: str, afas: str) -> None:
    codec = CODECS["country_afas"]
    assert codec.to_native(iso) == afas
    assert codec.to_canonical(afas) == iso
    assert codec.to_canonical(f" {afas.lower()} ") == iso


def test_country_afas_rejects_unknown_codes() -> None:
    codec = CODECS["country_afas"]
    with pytest.raises(RecordError, match=r"'XX' is not an AFAS country code.*allowed: 'NL'"):
        codec.to_canonical("XX")
    with pytest.raises(RecordError, match=r"'BE' is not an AFAS country code"):
        codec.to_canonical("BE")  # an ISO code is not an AFAS code
    with pytest.raises(RecordError, match=r"'XX' is not a country syncd knows"):
        codec.to_native("XX")


@pytest.mark.parametrize(
    ("native", "iso"),
    [
        ("Netherlands", "NL"),
        ("the netherlands", "NL"),
        ("Nederland", "NL"),
        ("NL", "NL"),
        ("nl", "NL"),
        ("België", "BE"),
        ("Belgie", "BE"),
        ("Belgium", "BE"),
        ("Duitsland", "DE"),
        ("Germany", "DE"),
        ("  united   kingdom ", "GB"),
        ("UK", "GB"),
        ("Verenigde Staten", "US"),
        ("USA", "US"),
        ("Oostenrijk", "AT"),
    ],
)
def test_country_name_reads_names_aliases_and_codes(native: str, iso: str) -> None:
    assert CODECS["country_name"].to_canonical(native) == iso


def test_country_name_writes_english() -> None:
    codec = CODECS["country_name"]
    assert codec.to_native("NL") == "Netherlands"
    assert codec.to_native("BE") == "Belgium"
    assert codec.to_native("DE") == "Germany"
    with pytest.raises(RecordError, match="'Atlantis' is not a country name"):
        codec.to_canonical("Atlantis")


def test_country_table_is_one_to_one() -> None:
    isos = [c.iso for c in COUNTRIES]
    afas = [c.afas for c in COUNTRIES]
    names = [c.english for c in COUNTRIES]
    assert len(set(isos)) == len(isos)
    assert len(set(afas)) == len(afas)
    assert len(set(names)) == len(names)
    for country in COUNTRIES:
        for name in (country.iso, country.english, *country.aliases):
            assert CODECS["country_name"].to_canonical(name) == country.iso


@pytest.mark.parametrize(
    ("native", "canonical"),
    [
        (True, "true"),
        (False, "false"),
        ("1", "true"),
        ("0", "false"),
        (1, "true"),
        (0, "false"),
        ("TRUE", "true"),
        (" false ", "false"),
    ],
)
def test_bool_codec_reads(native: object, canonical: str) -> None:
    assert CODECS["bool"].to_canonical(native) == canonical


def test_bool_codec_writes_and_rejects() -> None:
    codec = CODECS["bool"]
    assert codec.to_native("true") is True
    assert codec.to_native("false") is False
    with pytest.raises(RecordError, match="'yes' is not a yes/no value; allowed: true, false"):
        codec.to_canonical("yes")
    with pytest.raises(RecordError, match="'1' is not a yes/no value"):
        codec.to_native("1")  # canonical values are "true"/"false" only


@pytest.mark.parametrize(
    ("native", "canonical"), [(105, "105"), ("105", "105"), (" 7 ", "7"), (12.0, "12")]
)
def test_integer_codec_reads(native: object, canonical: str) -> None:
    assert CODECS["integer"].to_canonical(native) == canonical


@pytest.mark.parametrize("native", ["12a", 12.5, True, "twelve"])
def test_integer_codec_rejects(native: object) -> None:
    with pytest.raises(RecordError):
        CODECS["integer"].to_canonical(native)


def test_integer_codec_writes_plain_whole_numbers_only() -> None:
    codec = CODECS["integer"]
    assert codec.to_native("105") == 105
    for bad in ("012", "12a", "1.5", "-0"):
        with pytest.raises(RecordError, match="not a whole number written plainly"):
            codec.to_native(bad)


@pytest.mark.parametrize(
    ("native", "canonical"),
    [(5000, "5000"), (5000.0, "5000"), (12.5, "12.5"), ("12,50", "12.5"), (0.1, "0.1")],
)
def test_decimal_codec_reads(native: object, canonical: str) -> None:
    assert CODECS["decimal"].to_canonical(native) == canonical


def test_decimal_codec_writes_numbers() -> None:
    codec = CODECS["decimal"]
    assert codec.to_native("5000") == 5000
    assert codec.to_native("12.5") == 12.5
    with pytest.raises(RecordError, match="more digits than this side can store"):
        codec.to_native("0.12345678901234567890")


def test_text_codec_reads_scalars() -> None:
    codec = CODECS["text"]
    assert codec.to_canonical("Acme") == "Acme"
    assert codec.to_canonical(105) == "105"
    assert codec.to_canonical(2.50) == "2.5"
    assert codec.to_canonical(True) == "true"
    assert codec.to_native("Acme") == "Acme"
    with pytest.raises(RecordError, match="not a single value"):
        codec.to_canonical(["a", "b"])


def test_value_map() -> None:
    codec = ValueMap.build({"14": "net_14", "30": "net_30"})
    assert codec.to_native("14") == "net_14"
    assert codec.to_canonical("net_30") == "30"
    with pytest.raises(RecordError) as caught:
        codec.to_canonical("net_90")
    assert "'net_90' is not one of the mapped values; allowed: 'net_14', 'net_30'" in str(
        caught.value
    )
    with pytest.raises(RecordError, match="'90' has no value on this side; allowed: '14', '30'"):
        codec.to_native("90")


def test_value_map_matches_native_values_by_text() -> None:
    codec = ValueMap.build({"gold": 3, "silver": "2", "yes": True})
    assert codec.to_canonical("3") == "gold"
    assert codec.to_canonical(2) == "silver"
    assert codec.to_canonical(True) == "yes"
    assert codec.to_native("gold") == 3


@pytest.mark.parametrize(
    "table",
    [{"a": "x", "b": "x"}, {"a": 1, "b": "1"}, {"a": True, "b": "true"}],
)
def test_value_map_must_be_one_to_one(table: dict[str, str | int | bool]) -> None:
    with pytest.raises(ValueError, match="both map to"):
        ValueMap.build(table)


# --- codecs: round trips --------------------------------------------------------------


@pytest.mark.parametrize("name", ["bool", "country_afas", "country_name"])
def test_finite_codecs_round_trip_their_whole_domain(name: str) -> None:
    codec = CODECS[name]
    domain = codec.domain()
    assert domain
    for canonical in domain:
        assert codec.to_canonical(codec.to_native(canonical)) == canonical


@given(st.integers())
def test_integer_codec_round_trips(number: int) -> None:
    codec = CODECS["integer"]
    canonical = codec.to_canonical(number)
    assert codec.to_canonical(codec.to_native(canonical)) == canonical
    assert codec.to_native(canonical) == number


@given(
    st.decimals(min_value=-(10**10), max_value=10**10, places=4)
)  # 15 digits: a float holds them
def test_decimal_codec_round_trips(number: Decimal) -> None:
    codec = CODECS["decimal"]
    canonical = NORMALISERS["decimal"](str(number))
    assert canonical is not None
    assert codec.to_canonical(codec.to_native(canonical)) == canonical


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_decimal_codec_reads_any_float_exactly(number: float) -> None:
    codec = CODECS["decimal"]
    canonical = codec.to_canonical(number)
    assert NORMALISERS["decimal"](canonical) == canonical
    assert codec.to_canonical(codec.to_native(canonical)) == canonical
    if abs(number) < 2**53:
        assert codec.to_native(canonical) == number


@given(st.text(min_size=1).filter(lambda t: t.strip() == t))
def test_text_codec_round_trips(text: str) -> None:
    codec = CODECS["text"]
    assert codec.to_canonical(codec.to_native(text)) == text


_NATIVE = st.one_of(st.text(min_size=1), st.integers(), st.booleans())


@given(st.dictionaries(st.text(min_size=1), _NATIVE, min_size=1))
def test_value_maps_round_trip_when_one_to_one(table: dict[str, str | int | bool]) -> None:
    try:
        codec = ValueMap.build(table)
    except ValueError:
        return
    domain = codec.domain()
    assert domain is not None
    for canonical in domain:
        assert codec.to_canonical(codec.to_native(canonical)) == canonical
