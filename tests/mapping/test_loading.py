"""Mapping files: the shipped ones load and round-trip; broken ones report every problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.errors import ConfigError, RecordError
from syncd.mapping import EntityMapping, FieldMap, load_mapping, load_mappings
from syncd.policy import Direction
from syncd.records import Side

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "mappings"
BROKEN = Path(__file__).resolve().parents[1] / "data" / "mappings"


@pytest.fixture(scope="module")
def shipped() -> dict[str, EntityMapping]:
    return load_mappings(SHIPPED, ["customer", "supplier"])


def problems_of(path: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    return [(p.source, p.key, p.message) for p in caught.value.problems]


def assert_problems(path: Path, expected: list[tuple[str, str]]) -> None:
    """Exactly ``expected`` (key, message fragment) problems, in order, naming ``path``."""
    found = problems_of(path)
    assert [source for source, _, _ in found] == [str(path)] * len(found)
    assert [key for _, key, _ in found] == [key for key, _ in expected], found
    for (_, key, message), (_, fragment) in zip(found, expected, strict=True):
        assert fragment in message, (key, message)


# --- the shipped mappings -------------------------------------------------------------


def test_shipped_mappings_load(shipped: dict[str, EntityMapping]) -> None:
    customer, supplier = shipped["customer"], shipped["supplier"]
    assert customer.entity == "customer"
    assert customer.source == SHIPPED / "customer.toml"
    assert supplier.entity == "supplier"
    for mapping in (customer, supplier):
        names = [f.name for f in mapping.fields]
        for required in (
            "name",
            "kvk",
            "vat",
            "email",
            "phone",
            "website",
            "street",
            "house_number",
            "postcode",
            "city",
            "country",
            "iban",
        ):
            assert required in names
        assert mapping.match_keys[0] == ("kvk",)
        assert mapping.field("kvk").afas_update == "KnOrganisation.CcNr"
        assert mapping.field("vat").afas_update == "VaId"
        assert mapping.field("payment_terms").direction is Direction.ON_CREATE
    assert customer.field("credit_limit").direction is Direction.TO_CRM
    assert supplier.field("automatic_payment").direction is Direction.TO_CRM


def test_shipped_side_specs(shipped: dict[str, EntityMapping]) -> None:
    customer = shipped["customer"]
    assert customer.side(Side.CRM) is customer.crm
    assert customer.crm.id == "hs_object_id"
    assert customer.crm.modified == "hs_lastmodifieddate"
    assert customer.crm.correlation == "afas_debtor_number"
    assert dict(customer.crm.options) == {
        "object": "companies",
        "role_property": "afas_roles",
        "role_value": "customer",
    }
    assert customer.side(Side.AFAS) is customer.afas
    assert customer.afas.id == "DebtorId"
    assert customer.afas.options["get_connector"] == "syncd_debtors"
    assert customer.afas.options["update_connector"] == "KnSalesRelationOrg"
    assert customer.afas.options["correlation_update"] == "KnOrganisation.XpRe"
    supplier = shipped["supplier"]
    assert supplier.afas.options["update_connector"] == "KnPurchaseRelationOrg"
    assert supplier.afas.options["get_connector"] == "syncd_creditors"
    assert supplier.afas.options["update_key"] == "CrId"
    assert supplier.crm.correlation == "afas_creditor_number"


def test_native_names(shipped: dict[str, EntityMapping]) -> None:
    customer = shipped["customer"]
    assert customer.native_name(Side.CRM, "postcode") == "zip"
    assert customer.native_name(Side.AFAS, "postcode") == "ZipCode"
    with pytest.raises(KeyError, match="customer has no field 'zipcode'"):
        customer.field("zipcode")


def test_to_canonical_normalises_both_sides_to_one_form(
    shipped: dict[str, EntityMapping],
) -> None:
    customer = shipped["customer"]
    crm = customer.to_canonical(
        Side.CRM,
        {
            "name": "  Bakkerij  De Korenaar B.V. ",
            "kvk_number": "1234 5678",
            "vat_number": "nl123456782b01",
            "company_email": "Info@Korenaar.NL",
            "phone": "020-123 4567",
            "zip": "1234ab",
            "country": "Nederland",
            "house_number": "12",
            "payment_terms": "net_30",
            "afas_credit_limit": "5000.00",
            "iban": "",
        },
    )
    afas = customer.to_canonical(
        Side.AFAS,
        {
            "DebtorName": "Bakkerij De Korenaar B.V.",
            "CocNumber": "12345678",
            "VatNumber": "NL123456782B01",
            "Email": "info@korenaar.nl",
            "Phone": "+31 (0)20 1234567",
            "ZipCode": "1234 AB",
            "CountryId": "NL",
            "HouseNumber": 12,
            "PaymentCondition": "30",
            "CreditLimit": 5000.0,
            "Iban": None,
        },
    )
    assert crm == afas
    assert crm["phone"] == "+31201234567"
    assert crm["country"] == "NL"
    assert crm["payment_terms"] == "30"
    assert crm["credit_limit"] == "5000"
    assert crm["iban"] is None  # "" is blank
    assert crm["city"] is None  # a missing key is blank
    assert set(crm) == {f.name for f in customer.fields}


def test_to_native_writes_only_the_given_fields(shipped: dict[str, EntityMapping]) -> None:
    customer = shipped["customer"]
    assert customer.to_native(Side.AFAS, {"country": "BE", "house_number": "7"}) == {
        "CountryId": "B",
        "HouseNumber": 7,
    }
    assert customer.to_native(Side.CRM, {"country": "BE", "payment_terms": "14"}) == {
        "country": "Belgium",
        "payment_terms": "net_14",
    }
    assert customer.to_native(Side.CRM, {"city": None}) == {"city": None}
    with pytest.raises(KeyError):
        customer.to_native(Side.CRM, {"colour": "blue"})


def test_unreadable_value_names_field_and_value(shipped: dict[str, EntityMapping]) -> None:
    customer = shipped["customer"]
    with pytest.raises(RecordError) as caught:
        customer.to_canonical(Side.CRM, {"phone": "call me maybe"})
    assert caught.value.field == "phone"
    assert "field 'phone' (crm 'phone')" in str(caught.value)
    assert "'call me maybe' is not a phone number" in str(caught.value)

    with pytest.raises(RecordError) as caught:
        customer.to_canonical(Side.AFAS, {"CountryId": "XX"})
    assert caught.value.field == "country"
    assert "'XX' is not an AFAS country code" in str(caught.value)
    assert "allowed: 'NL', 'B', 'D'" in str(caught.value)

    with pytest.raises(RecordError) as caught:
        customer.to_canonical(Side.CRM, {"payment_terms": "net_90"})
    assert caught.value.field == "payment_terms"
    assert "'net_90' is not one of the mapped values; allowed: 'net_14', 'net_30', 'net_60'" in (
        str(caught.value)
    )


def test_unwritable_value_is_a_record_error(shipped: dict[str, EntityMapping]) -> None:
    customer = shipped["customer"]
    with pytest.raises(RecordError) as caught:
        customer.to_native(Side.AFAS, {"name": "x" * 256})
    assert caught.value.field == "name"
    assert "256 characters long; the longest value this field can hold is 255" in str(caught.value)
    with pytest.raises(RecordError) as caught:
        customer.to_native(Side.AFAS, {"house_number": "12a"})
    assert caught.value.field == "house_number"
    with pytest.raises(RecordError) as caught:
        customer.to_native(Side.CRM, {"payment_terms": "7"})
    assert "'7' has no value on this side; allowed: '14', '30', '60'" in str(caught.value)


# --- round trip over the shipped mappings ---------------------------------------------

_SAMPLES: dict[str, st.SearchStrategy[str]] = {
    "kvk": st.from_regex(r"[0-9]{8}", fullmatch=True),
    "vat": st.from_regex(r"(NL)?[0-9]{9}B[0-9]{2}|DE[0-9]{9}", fullmatch=True),
    "email": st.from_regex(r"[a-zA-Z0-9.]{1,10}@[a-z]{1,8}\.(nl|com)", fullmatch=True),
    "phone": st.from_regex(r"(0[1-9][0-9]{8}|\+4930[0-9]{7}|00316[0-9]{8})", fullmatch=True),
    "postcode": st.from_regex(r"[1-9][0-9]{3} ?[a-zA-Z]{2}|[0-9]{4,5}", fullmatch=True),
    "house_number": st.integers(1, 99999).map(str),
    "country": st.sampled_from(["Nederland", "Belgium", "DE", "france", "Zwitserland"]),
    "iban": st.sampled_from(["NL91ABNA0417164300", "DE89 3704 0044 0532 0130 00"]),
    "payment_terms": st.sampled_from(["net_14", "net_30", "net_60"]),
    "credit_limit": st.decimals(0, 10**9, places=2).map(str),
    "automatic_payment": st.sampled_from(["true", "false"]),
}


def _native_sample(fieldmap: FieldMap) -> st.SearchStrategy[str]:
    return _SAMPLES.get(fieldmap.name, st.text(max_size=80))


def _fields_of(entity: str) -> list[tuple[str, str]]:
    mapping = load_mapping(SHIPPED / f"{entity}.toml")
    return [(entity, f.name) for f in mapping.fields]


@pytest.mark.parametrize(("entity", "name"), _fields_of("customer") + _fields_of("supplier"))
@settings(max_examples=60)
@given(data=st.data())
def test_shipped_fields_round_trip(
    shipped: dict[str, EntityMapping], entity: str, name: str, data: st.DataObject
) -> None:
    """For every canonical value c a field can hold: to_canonical(to_native(c)) == c."""
    mapping = shipped[entity]
    fieldmap = mapping.field(name)
    native = data.draw(_native_sample(fieldmap))
    try:
        canonical = mapping.to_canonical(Side.CRM, {fieldmap.crm: native})[name]
    except RecordError:
        return
    for side in Side:
        try:
            written = mapping.to_native(side, {name: canonical})
        except RecordError:
            continue  # this side cannot hold the value (too long, not a number)
        assert mapping.to_canonical(side, written)[name] == canonical


# --- loading broken files -------------------------------------------------------------


def test_broken_fields_are_all_reported() -> None:
    assert_problems(
        BROKEN / "bad_fields.toml",
        [
            ("colour", "unknown key; allowed keys: entity, crm, afas, match, record_name, fields"),
            ("fields[1].normalise", "unknown key; did you mean 'normalize'?"),
            ("fields[1].direction", "'sideways' is not a direction; use one of: both, to_afas"),
            ("fields[1].conflict", "'crm_win' is not a conflict rule; use one of: crm_wins"),
            ("fields[2].afas_update", "missing; this key is required"),
            ("fields[2].blank_overwrites", "expected true or false, got a string ('yes')"),
            ("fields[2].max_length", "expected a positive integer, got a string ('60')"),
            ("fields[3].normalize", "unknown normaliser 'phonee'; use any of: trim"),
            ("fields[3].afas_codec", "unknown codec 'country_iso'; use one of: text, bool"),
            ("fields[5].crm_codec", "not one to one: '14' and '30' both map to 'net_14'"),
            ("fields[4].name", "'name' is also the canonical name of fields[0]"),
            ("fields[4].crm", "'name' is also the CRM property of fields[0]"),
            ("match.keys[1]", "'zipcode' is not a field of this mapping; use one of: kvk, name"),
        ],
    )


def test_invalid_toml_reports_the_line() -> None:
    assert_problems(
        BROKEN / "bad_syntax.toml",
        [("line 5", "invalid TOML: Invalid value (column 10); fix the syntax there")],
    )


def test_broken_side_tables_are_all_reported() -> None:
    assert_problems(
        BROKEN / "bad_sides.toml",
        [
            ("entity", "'customers' is not an entity; use one of: customer, supplier"),
            ("crm.objekt", "unknown key; did you mean 'object'?"),
            ("crm.correlation", "missing; this key is required"),
            ("crm.role_value", "missing; role_property and role_value go together"),
            ("afas.get_connector", "'syncd debtors' is not valid: names contain no spaces"),
            ("afas.correlation_update", "'KnOrganisation/XpRe' is not an UpdateConnector path"),
            ("fields[1].crm", "'afas_roles' is already the [crm] role_property"),
            ("fields[0].afas", "'DebtorId' is already the [afas] id"),
            ("fields[0].afas_update", "'DbId' is already the [afas] update_key"),
        ],
    )


def test_codecs_that_cannot_round_trip_are_reported() -> None:
    assert_problems(
        BROKEN / "bad_codecs.toml",
        [
            ("fields[0].afas_codec", "43 of the codec's 43 canonical values would never"),
            ("fields[1].crm_codec", "normalize turns 'n14' into 'N14'"),
            ("fields[2].afas_update", "'.CcNr' is not an UpdateConnector path"),
            ("fields[2].afas_codec.A", "expected a non-empty string, an integer or a boolean"),
            ("fields[2].afas_codec", 'the canonical value "" is blank'),
            ("fields[2].max_length", "expected a positive integer, got an integer (0)"),
            ("match.keys[0]", 'write a single-field key as ["kvk"]'),
            ("match.keys[1]", "names a field more than once"),
        ],
    )


def test_missing_file() -> None:
    path = BROKEN / "no_such_file.toml"
    assert problems_of(path) == [
        (str(path), "", "file not found; check the path or create the file")
    ]


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("", "entity", "missing; this key is required"),
        ("", "crm", "missing; add a [crm] table"),
        ("", "fields", "missing; add at least one [[fields]] entry"),
        ("crm = 3", "crm", "expected a table, got an integer (3); write it as [crm]"),
        ("fields = []", "fields", "empty; add at least one [[fields]] entry"),
        ("fields = 'name'", "fields", "expected an array of tables ([[fields]])"),
        ("fields = [1]", "fields[0]", "expected a table, got an integer (1)"),
        ("match = 1", "match", "expected a table, got an integer (1)"),
        ("[match]\nkeys = 'kvk'", "match.keys", "expected an array of arrays of field names"),
        ("[match]\nkey = [['kvk']]", "match.key", "did you mean 'keys'?"),
        ("record_name = []", "record_name", "expected a field name or an array of them"),
        ("record_name = 3", "record_name", "expected a field name or an array of them"),
    ],
)
def test_shape_problems(tmp_path: Path, text: str, key: str, fragment: str) -> None:
    path = tmp_path / "customer.toml"
    path.write_text(text, encoding="utf-8")
    found = {k: m for _, k, m in problems_of(path)}
    assert key in found
    assert fragment in found[key]


_MINIMAL = """
entity = "customer"
[crm]
correlation = "afas_debtor_number"
[afas]
id = "DebtorId"
correlation = "ExternalKey"
get_connector = "syncd_debtors"
update_connector = "KnSalesRelationOrg"
update_key = "DbId"
[[fields]]
name = "name"
crm = "name"
afas = "DebtorName"
afas_update = "KnOrganisation.Nm"
"""


def test_minimal_mapping_gets_defaults(tmp_path: Path) -> None:
    path = tmp_path / "customer.toml"
    path.write_text(_MINIMAL, encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping.match_keys == ()
    assert mapping.crm.id == "hs_object_id"
    assert mapping.crm.options == {"object": "companies"}
    assert mapping.afas.modified == "ModifiedDate"
    assert mapping.afas.inactive == ("Blocked",)
    assert mapping.afas.options["deactivate_update"] == "BlTl"
    name = mapping.field("name")
    assert name.direction is Direction.BOTH
    assert name.conflict is None
    assert name.blank_overwrites is None
    assert name.first_link is None
    assert name.max_length is None
    assert name.normalize == ()


def test_records_are_named_by_the_field_name_unless_told(tmp_path: Path) -> None:
    path = tmp_path / "customer.toml"
    path.write_text(_MINIMAL, encoding="utf-8")
    assert load_mapping(path).record_name == ("name",)
    assert load_mapping(path).display_name({"name": "Acme BV", "kvk": "1"}) == "Acme BV"
    assert load_mapping(path).display_name({"name": None}) is None
    path.write_text(
        _MINIMAL.replace('entity = "customer"', 'entity = "customer"\nrecord_name = ["kvk"]')
    )
    found = {k: m for _, k, m in problems_of(path)}
    assert found == {"record_name": "'kvk' is not a field of this mapping; use one of: name"}


def test_a_contact_is_named_by_first_and_last_name() -> None:
    contact = load_mapping(SHIPPED / "contact.toml")
    assert contact.record_name == ("first_name", "last_name")
    fields = {"first_name": "Jan", "last_name": "van der Berg", "email": "jan@example.nl"}
    assert contact.display_name(fields) == "Jan van der Berg"
    assert contact.display_name({**fields, "first_name": None}) == "van der Berg"


def test_inline_value_maps_may_hold_numbers_and_booleans(tmp_path: Path) -> None:
    path = tmp_path / "customer.toml"
    path.write_text(
        _MINIMAL
        + """
[[fields]]
name = "tier"
crm = "tier"
afas = "Tier"
afas_update = "VaTp"
afas_codec = { bronze = "001", silver = "002", gold = "003" }
crm_codec = { bronze = 1, silver = 2, gold = 3 }
conflict = "afas_wins"
blank_overwrites = true
first_link = "newest"
""",
        encoding="utf-8",
    )
    tier = load_mapping(path).field("tier")
    assert tier.read(Side.AFAS, "002") == "silver"
    assert tier.read(Side.CRM, "2") == "silver"
    assert tier.write(Side.CRM, "gold") == 3
    assert tier.conflict == "afas_wins"
    assert tier.blank_overwrites is True
    assert tier.first_link == "newest"


# --- loading several files ------------------------------------------------------------


def test_load_mappings_reports_all_files_at_once(tmp_path: Path) -> None:
    shutil.copy(BROKEN / "bad_syntax.toml", tmp_path / "customer.toml")
    with pytest.raises(ConfigError) as caught:
        load_mappings(tmp_path, ["customer", "supplier"])
    assert [(p.source, p.key) for p in caught.value.problems] == [
        (str(tmp_path / "customer.toml"), "line 5"),
        (str(tmp_path / "supplier.toml"), ""),
    ]
    assert "no mapping file for entity 'supplier'" in caught.value.problems[1].message


def test_load_mappings_checks_the_entity_matches_the_file(tmp_path: Path) -> None:
    shutil.copy(SHIPPED / "customer.toml", tmp_path / "supplier.toml")
    with pytest.raises(ConfigError) as caught:
        load_mappings(tmp_path, ["supplier"])
    (problem,) = caught.value.problems
    assert problem.key == "entity"
    assert "is for entity 'supplier' but says 'customer'" in problem.message


def test_entities_need_their_own_correlation_property(tmp_path: Path) -> None:
    shutil.copy(SHIPPED / "customer.toml", tmp_path / "customer.toml")
    text = (SHIPPED / "supplier.toml").read_text(encoding="utf-8")
    text = text.replace('"afas_creditor_number"', '"afas_debtor_number"')
    (tmp_path / "supplier.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_mappings(tmp_path, ["customer", "supplier"])
    (problem,) = caught.value.problems
    assert (problem.source, problem.key) == (str(tmp_path / "supplier.toml"), "crm.correlation")
    assert "also the correlation property of 'customer'" in problem.message
