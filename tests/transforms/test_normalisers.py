"""Normalisers: tables of examples, and properties (idempotence, output shapes)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from syncd.errors import RecordError
from syncd.records import Value
from syncd.transforms.by_name import NORMALISERS
from syncd.transforms.normalisers import apply_normalisers

# --- normalisers: examples ------------------------------------------------------------

NORMAL_CASES: list[tuple[str, str, Value]] = [
    ("trim", "  Acme BV \t", "Acme BV"),
    ("trim", "   ", None),
    ("collapse_spaces", "  Acme \t  Holding\nBV ", "Acme Holding BV"),
    ("collapse_spaces", " \n ", None),
    ("lower", "Info@ACME.nl", "info@acme.nl"),
    ("upper", "nl-abc", "NL-ABC"),
    ("digits", "KvK: 1234-5678", "12345678"),
    ("digits", "n/a", None),
    ("email", "  Info@Acme.NL ", "info@acme.nl"),
    ("email", "jan.de.vries+crm@sub.example.co.uk", "jan.de.vries+crm@sub.example.co.uk"),
    ("phone", "020-123 4567", "+31201234567"),
    ("phone", "0031 6 12345678", "+31612345678"),
    ("phone", "06-12345678", "+31612345678"),
    ("phone", "+31 (0)20 123 45 67", "+31201234567"),
    ("phone", "+31 020 1234567", "+31201234567"),
    ("phone", "(020) 123.45.67", "+31201234567"),
    ("phone", "334341800", "+31334341800"),
    ("phone", "+32 2 123 45 67", "+3221234567"),
    ("phone", "0032 (0)2 123 45 67", "+3221234567"),
    ("phone", "+49 (0)30 1234567", "+49301234567"),
    ("phone", "+39 06 1234 5678", "+390612345678"),
    ("phone", "+1 (212) 555-0100", "+12125550100"),
    ("phone", "0800-1234", "+318001234"),
    ("postcode", "1234ab", "1234 AB"),
    ("postcode", " 1234  Ab ", "1234 AB"),
    ("postcode", "1234 AB", "1234 AB"),
    ("postcode", "sw1a  1aa", "SW1A 1AA"),
    ("postcode", "1000", "1000"),
    ("postcode", "D-10115", "D-10115"),
    ("kvk", "12345678", "12345678"),
    ("kvk", "1234 5678", "12345678"),
    ("kvk", "12.34.56.78", "12345678"),
    ("kvk", "1234567", "01234567"),  # the leading zero a spreadsheet dropped
    ("kvk", "123 4567", "01234567"),
    ("vat", "nl 1234.56.782 b01", "NL123456782B01"),
    ("vat", "123456782B01", "NL123456782B01"),
    ("vat", "NL000099998B57", "NL000099998B57"),  # a btw-id of 2020 on: mod 97
    ("vat", "DE 123 456 789", "DE123456789"),
    ("vat", "be0123.456.789", "BE0123456789"),
    ("iban", "nl91 abna 0417 1643 00", "NL91ABNA0417164300"),
    ("iban", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
    ("iban", "GB29NWBK60161331926819", "GB29NWBK60161331926819"),
    ("decimal", "5000.00", "5000"),
    ("decimal", "12,50", "12.5"),
    ("decimal", " -0.0 ", "0"),
    ("decimal", "+7", "7"),
    ("decimal", ".5", "0.5"),
    ("decimal", "1000000000000", "1000000000000"),
]


@pytest.mark.parametrize(("name", "text", "expected"), NORMAL_CASES)
def test_normaliser_examples(name: str, text: str, expected: Value) -> None:
    normalise = NORMALISERS[name]
    assert normalise(text) == expected
    if expected is not None:
        assert normalise(expected) == expected


BAD_CASES: list[tuple[str, str, str]] = [
    ("email", "info.acme.nl", "not an e-mail address"),
    ("email", "info@acme", "not an e-mail address"),
    ("email", "a@b@c.nl", "not an e-mail address"),
    ("email", "jan de vries@acme.nl", "not an e-mail address"),
    ("phone", "call me", "it contains"),
    ("phone", "020-1234567 ext 12", "it contains"),
    ("phone", "+31 20 +1234567", "'+' may only come first"),
    ("phone", "12345", "cannot tell which country"),
    ("phone", "+31 12", "digits with the country code"),
    ("phone", "+31 6 1234 5678 9012 3456", "digits with the country code"),
    ("phone", "+0 20 1234567", "no country code starts with 0"),
    ("kvk", "123456", "expected exactly 8 digits"),
    ("kvk", "123456789", "expected exactly 8 digits"),
    ("kvk", "KvK 12345678", "expected exactly 8 digits"),
    ("vat", "NL123456789", "not a Dutch VAT number"),
    ("vat", "NL12345678B01", "not a Dutch VAT number"),
    ("vat", "NL123456789B01", "check digit fails"),
    ("vat", "12345", "not a VAT number"),
    ("iban", "NL91ABNA0417164301", "check digits do not match"),
    ("iban", "NL91 ABNA", "not an IBAN"),
    ("iban", "91ABNA0417164300", "not an IBAN"),
    ("decimal", "1.234,56", "not a number"),
    ("decimal", "twelve", "not a number"),
    ("decimal", "1e5", "not a number"),
]


@pytest.mark.parametrize(("name", "text", "fragment"), BAD_CASES)
def test_normaliser_rejects(name: str, text: str, fragment: str) -> None:
    with pytest.raises(RecordError) as caught:
        NORMALISERS[name](text)
    assert fragment in str(caught.value)
    assert repr(text) in str(caught.value)  # the message names the bad value


def test_apply_normalisers_chains_and_blanks() -> None:
    chain = [NORMALISERS["collapse_spaces"], NORMALISERS["upper"]]
    assert apply_normalisers(chain, "  acme   bv ") == "ACME BV"
    assert apply_normalisers(chain, "   ") is None
    assert apply_normalisers(chain, "") is None
    assert apply_normalisers(chain, None) is None
    assert apply_normalisers([], "") is None
    assert apply_normalisers([], " x ") == " x "


# --- normalisers: properties ----------------------------------------------------------

_PHONEISH = st.text(alphabet="0123456789 +-()./", max_size=24)
_POSTCODEISH = st.from_regex(r"\s*[1-9][0-9]{3}\s*[A-Za-z]{2}\s*", fullmatch=True)
_IDISH = st.text(alphabet="0123456789 .-ABNLabnl", max_size=24)
_NUMBERISH = st.from_regex(r"\s*[+-]?[0-9]{0,12}([.,][0-9]{0,8})?\s*", fullmatch=True)


@pytest.mark.parametrize("name", sorted(NORMALISERS))
@given(
    text=st.one_of(st.text(), _PHONEISH, _POSTCODEISH, _IDISH, _NUMBERISH),
)
@example(text="NL91ABNA0417164300")
@example(text="0031 (0)6 12345678")
def test_normalisers_are_idempotent(name: str, text: str) -> None:
    normalise = NORMALISERS[name]
    try:
        once = normalise(text)
    except RecordError:
        return
    assert once != ""
    if once is not None:
        assert normalise(once) == once


@given(st.from_regex(r"\+?[1-9][0-9]{7,13}", fullmatch=True))
def test_phone_output_is_plus_and_digits(text: str) -> None:
    try:
        value = NORMALISERS["phone"](text)
    except RecordError:
        return
    assert value is not None
    assert value.startswith("+")
    assert value[1:].isdigit()


def _iban(country: str, bban: str) -> str:
    """A valid IBAN for ``bban`` (check digits computed the ISO 13616 way)."""
    digits = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    check = 98 - int(digits) % 97
    return f"{country}{check:02d}{bban}"


@given(
    st.sampled_from(["NL", "BE", "DE", "FR", "GB"]),
    st.from_regex(r"[A-Z0-9]{12,20}", fullmatch=True),
)
def test_iban_accepts_every_valid_check(country: str, bban: str) -> None:
    valid = _iban(country, bban)
    spaced = " ".join(valid[i : i + 4] for i in range(0, len(valid), 4)).lower()
    assert NORMALISERS["iban"](spaced) == valid
    wrong = valid[:2] + f"{(int(valid[2:4]) + 1) % 100:02d}" + valid[4:]
    with pytest.raises(RecordError):
        NORMALISERS["iban"](wrong)
