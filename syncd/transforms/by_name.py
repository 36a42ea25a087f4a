"""The normalisers and codecs a mapping file may name, by the names it uses."""

from __future__ import annotations

from collections.abc import Mapping

from syncd.transforms.codecs import BoolCodec, Codec, DecimalCodec, IntegerCodec, TextCodec
from syncd.transforms.countries import AfasCountryCodec, CountryNameCodec
from syncd.transforms.dutch_address import PARTS as ADDRESS_PARTS
from syncd.transforms.dutch_address import DutchAddressCodec, dutch_address
from syncd.transforms.normalisers import (
    Normaliser,
    collapse_spaces,
    decimal,
    digits,
    email,
    lower,
    phone,
    postcode,
    trim,
    upper,
)
from syncd.transforms.person_names import PARTS as LAST_NAME_PARTS
from syncd.transforms.person_names import DutchLastNameCodec, dutch_last_name
from syncd.transforms.registrations import iban, kvk, vat

NORMALISERS: Mapping[str, Normaliser] = {
    "trim": trim,
    "collapse_spaces": collapse_spaces,
    "lower": lower,
    "upper": upper,
    "digits": digits,
    "email": email,
    "phone": phone,
    "postcode": postcode,
    "kvk": kvk,
    "vat": vat,
    "iban": iban,
    "decimal": decimal,
    "dutch_address": dutch_address,
    "dutch_last_name": dutch_last_name,
}
"""The normalisers a mapping file may name in ``normalize = [...]``."""


CODECS: Mapping[str, Codec] = {
    codec.name: codec
    for codec in (
        TextCodec(),
        BoolCodec(),
        IntegerCodec(),
        DecimalCodec(),
        AfasCountryCodec(),
        CountryNameCodec(),
        DutchAddressCodec(),
        DutchLastNameCodec(),
    )
}
"""The built-in codecs a mapping file may name in ``crm_codec`` / ``afas_codec``."""

COMPOSITE_CODECS: Mapping[str, tuple[str, ...]] = {
    "dutch_address": ADDRESS_PARTS,
    "dutch_last_name": LAST_NAME_PARTS,
}
"""The codecs whose AFAS value is several fields, and what each field holds, in order."""
