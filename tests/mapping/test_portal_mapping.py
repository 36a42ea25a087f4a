"""Mapping keys for an existing portal: a role from a single select, several inactive
flags, an address kept in one CRM line and three AFAS fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.errors import ConfigError
from syncd.mapping import load_mapping, load_mappings
from syncd.records import RejectedRecord, Side

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "mappings" / "examples" / "existing-portal"
CUSTOMER = (EXAMPLE / "customer.toml").read_text(encoding="utf-8")
ROLE_OPTIONS = (
    'role_options = { customer = ["customer"], supplier = ["supplier"], '
    'both = ["customer", "supplier"] }'
)
ADDRESS_AFAS = 'afas = ["Street", "HouseNumber", "HouseNumberAddition"]'


def problems(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    path = tmp_path / "customer.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    assert {p.source for p in caught.value.problems} == {str(path)}
    return [(p.key, p.message) for p in caught.value.problems]


def edited(old: str, new: str) -> str:
    assert old in CUSTOMER
    return CUSTOMER.replace(old, new)


def test_the_example_mappings_load_with_the_portals_own_properties() -> None:
    mappings = load_mappings(EXAMPLE, ["customer", "supplier"])
    customer = mappings["customer"]
    assert customer.crm.role is not None
    assert customer.crm.role.values == ("customer", "both")
    assert customer.afas.inactive == ("Blocked", "BlockedForDelivery")
    assert customer.afas.options["deactivate_update"] == "BlTl"
    assert mappings["supplier"].afas.inactive == ("Blocked", "TempBlocked")
    address = customer.field("address")
    assert address.native_names(Side.AFAS) == ("Street", "HouseNumber", "HouseNumberAddition")
    row = {"Street": "Laan van Meerdervoort", "HouseNumber": 1001, "HouseNumberAddition": "B"}
    assert customer.to_canonical(Side.AFAS, row)["address"] == "Laan van Meerdervoort 1001 B"
    assert customer.to_native(Side.AFAS, {"address": "Kerkstraat 12-A"}) == {
        "Street": "Kerkstraat",
        "HouseNumber": 12,
        "HouseNumberAddition": "A",
    }
    assert address.updates(None) == {
        "KnOrganisation.KnBasicAddressAdr.Ad": None,
        "KnOrganisation.KnBasicAddressAdr.HmNr": None,
        "KnOrganisation.KnBasicAddressAdr.HmAd": None,
    }


def test_an_unsplittable_address_quarantines_the_record_with_the_reason() -> None:
    customer = load_mapping(EXAMPLE / "customer.toml")
    rejected = customer.record(Side.CRM, "1", {"name": "Acme", "address": "Kerkstraat"}, None)
    assert isinstance(rejected, RejectedRecord)
    assert rejected.field == "address"
    assert "has no house number after the street" in rejected.message
    assert rejected.fields["name"] == "Acme"  # the rest is kept


def test_role_value_and_role_options_exclude_each_other(tmp_path: Path) -> None:
    text = edited(ROLE_OPTIONS, ROLE_OPTIONS + '\nrole_value = "customer"')
    [(key, message)] = problems(tmp_path, text)
    assert key == "crm.role_options"
    assert "role_value for a multiple-checkbox property" in message


def test_role_options_must_mean_the_entity_and_name_known_roles(tmp_path: Path) -> None:
    text = edited(ROLE_OPTIONS, 'role_options = { VENDOR = ["supplier"], klant = ["klant"] }')
    [(key, message)] = problems(tmp_path, text)
    assert key == "crm.role_options.klant"
    assert "expected an array of roles (customer, supplier)" in message
    text = edited(ROLE_OPTIONS, 'role_options = { VENDOR = ["supplier"] }')
    [(key, message)] = problems(tmp_path, text)
    assert (key, message[:22]) == ("crm.role_options", "no option means 'custo")


def test_an_inactive_list_names_getconnector_fields(tmp_path: Path) -> None:
    text = edited('inactive = ["Blocked", "BlockedForDelivery"]', "inactive = []")
    [(key, message)] = problems(tmp_path, text)
    assert key == "afas.inactive"
    assert "a non-empty array of field ids" in message


def test_an_end_date_is_read_from_one_getconnector_field_or_several(tmp_path: Path) -> None:
    assert load_mapping(EXAMPLE / "customer.toml").afas.inactive_from == ("EndDate",)
    assert load_mapping(EXAMPLE / "supplier.toml").afas.inactive_from == ()
    text = edited('inactive_from = "EndDate"', 'inactive_from = ["EndDate", "EndDate"]')
    [(key, message)] = problems(tmp_path, text)
    assert key == "afas.inactive_from"
    assert "list each field once" in message


def test_several_afas_fields_need_a_splitting_codec_and_its_normaliser(tmp_path: Path) -> None:
    text = edited('afas_codec = "dutch_address"', "")
    assert ("fields[6].afas", "several AFAS fields need a codec") in [
        (k, m[:32]) for k, m in problems(tmp_path, text)
    ]
    text = edited('normalize = ["dutch_address"]', 'normalize = ["collapse_spaces"]')
    [(key, message)] = problems(tmp_path, text)
    assert key == "fields[6].normalize"
    assert 'add "dutch_address"' in message
    text = edited(ADDRESS_AFAS, 'afas = "Street"')
    [(key, message)] = problems(tmp_path, text)
    assert key == "fields[6].afas"
    assert "got one" in message


def test_a_composite_part_another_field_maps_too_is_reported(tmp_path: Path) -> None:
    text = edited('afas = "ZipCode"', 'afas = "HouseNumber"')
    assert ("fields[7].afas", "'HouseNumber' is also the AFAS field of fields[6]") in [
        (k, m[:49]) for k, m in problems(tmp_path, text)
    ]


def test_a_broken_list_of_afas_fields_is_one_problem(tmp_path: Path) -> None:
    text = edited(ADDRESS_AFAS, 'afas = ["Street", 12]')
    [(key, message)] = problems(tmp_path, text)
    assert key == "fields[6].afas"
    assert "expected an array of field ids without spaces" in message
