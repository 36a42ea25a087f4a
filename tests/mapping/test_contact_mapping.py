"""The contact mapping: its company reference, and match keys that stay within a company."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.errors import ConfigError
from syncd.mapping import load_mapping
from syncd.records import Side

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "mappings" / "contact.toml"
CONTACT = SHIPPED.read_text(encoding="utf-8")
REFERS = 'refers_to = ["customer", "supplier"]'


def problems(tmp_path: Path, text: str, name: str = "contact.toml") -> list[tuple[str, str]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    return [(p.key, p.message) for p in caught.value.problems]


def edited(old: str, new: str, text: str = CONTACT) -> str:
    assert old in text
    return text.replace(old, new)


def test_the_shipped_contact_mapping_names_its_company_and_reads_dutch_last_names() -> None:
    mapping = load_mapping(SHIPPED)
    assert mapping.reference is not None
    assert mapping.reference.name == "company"
    assert mapping.reference.refers_to == ("customer", "supplier")
    row = {"ContactId": "1", "OrganisationId": "10001", "Prefix": "van der", "LastName": "Berg"}
    assert mapping.to_canonical(Side.AFAS, row)["last_name"] == "van der Berg"
    assert mapping.to_native(Side.AFAS, {"last_name": "in 't Veld"}) == {
        "Prefix": "in 't",
        "LastName": "Veld",
    }


@pytest.mark.parametrize(
    ("refers_to", "message"),
    [
        ('refers_to = ["project"]', "'project' is not an entity of companies"),
        ("refers_to = []", "expected a non-empty array of entity names"),
        ('refers_to = ["customer", "customer"]', "names an entity more than once"),
    ],
)
def test_a_bad_company_reference_is_named_with_its_fix(
    tmp_path: Path, refers_to: str, message: str
) -> None:
    [(key, said)] = problems(tmp_path, edited(REFERS, refers_to))
    assert key == "fields[0].refers_to"
    assert message in said


def test_a_company_does_not_refer_to_a_company(tmp_path: Path) -> None:
    customer = (ROOT / "mappings" / "customer.toml").read_text(encoding="utf-8")
    text = edited('afas = "DebtorName"', f'afas = "DebtorName"\n{REFERS}', customer)
    [(key, said)] = problems(tmp_path, text, "customer.toml")
    assert key == "fields[0].refers_to"
    assert "a customer is a company itself" in said


def test_a_match_key_of_contacts_must_stay_within_the_company(tmp_path: Path) -> None:
    text = edited('keys = [["email", "company"], ', 'keys = [["email"], ')
    [(key, said)] = problems(tmp_path, text)
    assert key == "match.keys[0]"
    assert "matches across companies; add 'company' to the key" in said


def test_one_company_a_contact(tmp_path: Path) -> None:
    text = edited(
        'first_link = "afas"\nnormalize = ["collapse_spaces"]\nmax_length = 50',
        f'first_link = "afas"\nnormalize = ["collapse_spaces"]\nmax_length = 50\n{REFERS}',
    )
    found = problems(tmp_path, text)
    assert any("a record belongs to one company" in message for _, message in found), found


def test_hubspots_additional_emails_are_read_as_the_emails_other_values() -> None:
    mapping = load_mapping(SHIPPED)
    row = {
        "email": "Anna@Bakker.nl",
        "hs_additional_emails": "a.bakker@gmail.com; ANNA@bakker.nl;x@",
    }
    fields = mapping.to_canonical(Side.CRM, row)
    assert fields["email"] == "anna@bakker.nl"
    # each in the field's normal form, once; one that cannot be read is left out
    assert fields["email+others"] == "a.bakker@gmail.com;anna@bakker.nl"
    assert "email+others" not in mapping.to_canonical(Side.AFAS, {"Email": "anna@bakker.nl"})
    # never written: HubSpot keeps them read-only, changed through its own endpoints
    assert mapping.to_native(Side.CRM, {"email": "b@c.nl", "email+others": "d@c.nl"}) == {
        "email": "b@c.nl"
    }


def test_a_key_on_every_value_needs_a_field_that_keeps_others(tmp_path: Path) -> None:
    text = edited('crm_others = "hs_additional_emails"\n', "")
    [(key, said)] = problems(tmp_path, text)
    assert key == "match.keys[1]"
    assert "'email:any' compares every value of 'email', but it keeps one" in said
    assert 'crm_others = "<property>"' in said


def test_the_other_values_property_is_no_other_fields_property(tmp_path: Path) -> None:
    text = edited('crm_others = "hs_additional_emails"', 'crm_others = "phone"')
    [(key, said)] = problems(tmp_path, text)
    assert key == "fields[4].crm"
    assert "'phone' is also the CRM property of fields[" in said
