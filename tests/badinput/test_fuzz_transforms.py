"""Fuzzing the mapping transforms: normal forms are stable, and values round-trip.

Any text a side holds is either refused with a RecordError or normalised to a value that
normalising again leaves alone; every value in normal form that a field accepts is
written to either side and read back unchanged (or values would flip-flop between the
sides); the codecs round-trip every value of their domain.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from syncd.errors import RecordError
from syncd.mapping import KNOWN_ENTITIES, FieldMap, load_mappings
from syncd.records import Side, Value
from syncd.transforms.by_name import CODECS, NORMALISERS
from tests.badinput.strategies import FUZZ, FUZZ_SLOW, attempt
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS

MAPPINGS = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
FIELDS = [(entity, f.name) for entity, m in MAPPINGS.items() for f in m.fields]

# Text as people and APIs hold it: digits, letters, separators, odd characters.
typed = st.text(
    alphabet=st.sampled_from("0123456789 abcABCnlNLBde+-.()/@_,;:éü\t") | st.characters(),
    max_size=40,
)


@FUZZ
@given(name=st.sampled_from(sorted(NORMALISERS)), text=typed)
@example("postcode", "0123 ab")
@example("email", "Info@Korenaar.NL ")
@example("phone", "+31 (0)20-123 4567")
def test_a_normaliser_refuses_or_reaches_a_stable_normal_form(name: str, text: str) -> None:
    normalise = NORMALISERS[name]
    value, error = attempt(lambda: normalise(text))
    assert error is None or isinstance(error, RecordError)
    if value is not None:
        assert normalise(value) == value


@FUZZ
@given(field=st.sampled_from(FIELDS), side=st.sampled_from(list(Side)), text=typed)
def test_a_value_in_normal_form_round_trips_through_either_side(
    field: tuple[str, str], side: Side, text: str
) -> None:
    fieldmap = MAPPINGS[field[0]].field(field[1])
    canonical, refused = attempt(lambda: fieldmap.normal(text))
    assume(refused is None and canonical is not None)
    assert canonical is not None
    native, unwritable = attempt(lambda: fieldmap.write(side, canonical))
    assume(unwritable is None)  # too long, or outside the codec's domain: refused
    assert fieldmap.read(side, native) == canonical


@FUZZ_SLOW
@given(entity=st.sampled_from(sorted(MAPPINGS)), data=st.data())
def test_a_record_round_trips_through_either_side(entity: str, data: st.DataObject) -> None:
    mapping = MAPPINGS[entity]
    record: dict[str, Value] = {}
    for fieldmap in mapping.fields:
        domain = fieldmap.codec(Side.AFAS).domain() or fieldmap.codec(Side.CRM).domain()
        text = data.draw(st.sampled_from(domain) if domain else typed)
        record[fieldmap.name] = normal_or_blank(fieldmap, text)
    for side in Side:
        try:
            native = mapping.to_native(side, record)
        except RecordError:
            continue  # a value this side cannot hold is refused, never written
        assert mapping.to_canonical(side, native) == record


def normal_or_blank(fieldmap: FieldMap, text: str) -> Value:
    try:
        return fieldmap.normal(text)
    except RecordError:
        return None


@pytest.mark.parametrize("name", sorted(CODECS))
def test_a_codec_round_trips_its_whole_domain(name: str) -> None:
    codec = CODECS[name]
    for canonical in codec.domain() or ():
        assert codec.to_canonical(codec.to_native(canonical)) == canonical


@FUZZ
@given(number=st.integers(min_value=-(10**15), max_value=10**15))
def test_whole_numbers_round_trip(number: int) -> None:
    for name in ("integer", "decimal"):
        codec = CODECS[name]
        assert codec.to_canonical(codec.to_native(str(number))) == str(number)


@FUZZ
@given(number=st.decimals(allow_nan=False, allow_infinity=False, places=2))
def test_decimal_amounts_round_trip_or_are_refused(number: Decimal) -> None:
    canonical = NORMALISERS["decimal"](str(number))
    assert canonical is not None
    codec = CODECS["decimal"]
    native, refused = attempt(lambda: codec.to_native(canonical))
    if refused is None:
        assert codec.to_canonical(native) == canonical
