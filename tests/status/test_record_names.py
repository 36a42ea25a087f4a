"""A record as people know it: name, HubSpot id (with its page) and AFAS number."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.config import load_settings
from syncd.errors import ConfigError
from syncd.status.record_lookup import hubspot_pages
from syncd.status.record_names import (
    HubSpotPages,
    RecordRef,
    as_dict,
    as_text,
    ids_html,
    name_html,
)
from tests.config_file import write_config

OBJECTS = {"customer": "companies", "supplier": "companies", "contact": "contacts"}
PORTAL = HubSpotPages(4711, OBJECTS)
UNKNOWN_PORTAL = HubSpotPages(None, OBJECTS)
COMPANY = RecordRef("customer", "9000000102", "10002", "Van der Linden B.V.")


def test_a_pair_shows_its_name_and_both_ids() -> None:
    assert as_text(COMPANY, UNKNOWN_PORTAL) == (
        "Van der Linden B.V. (HubSpot 9000000102, AFAS debtor 10002)"
    )


def test_the_hubspot_id_links_to_the_record_page_of_a_known_portal() -> None:
    page = "https://app.hubspot.com/contacts/4711/record/0-2/9000000102"
    assert as_text(COMPANY, PORTAL) == (
        f"Van der Linden B.V. (HubSpot 9000000102 <{page}>, AFAS debtor 10002)"
    )
    person = RecordRef("contact", "501", "20001", "Anouk van der Berg")
    assert PORTAL.url("contact", "501") == "https://app.hubspot.com/contacts/4711/record/0-1/501"
    assert "AFAS contact 20001" in as_text(person, PORTAL)


def test_each_entity_names_its_afas_number() -> None:
    supplier = RecordRef("supplier", "1", "70001", "Houthandel")
    assert as_text(supplier, UNKNOWN_PORTAL) == "Houthandel (HubSpot 1, AFAS creditor 70001)"


def test_no_link_is_guessed() -> None:
    assert UNKNOWN_PORTAL.url("customer", "9000000102") is None
    assert HubSpotPages(4711, {}).url("customer", "9000000102") is None  # object not known
    assert PORTAL.url("customer", "../admin") is None  # not a HubSpot id


def test_a_record_known_on_one_side_or_without_a_name() -> None:
    assert as_text(RecordRef("customer", crm_id="9"), PORTAL).startswith("unnamed (HubSpot 9 <")
    assert as_text(RecordRef("customer", afas_id="10001", name="X"), PORTAL) == (
        "X (AFAS debtor 10001)"
    )


def test_in_html_the_id_links_to_its_page_and_names_are_escaped() -> None:
    ref = RecordRef("customer", "9", "10", "Smit & <Zn>")
    assert name_html(ref) == "Smit &amp; &lt;Zn&gt;"
    assert ids_html(ref, PORTAL) == (
        "HubSpot <a href='https://app.hubspot.com/contacts/4711/record/0-2/9'>9</a>, AFAS debtor 10"
    )
    assert ids_html(COMPANY, UNKNOWN_PORTAL) == "HubSpot 9000000102, AFAS debtor 10002"
    assert name_html(RecordRef("customer", "9")) == "<i>unnamed</i>"


def test_as_dict_keeps_both_ids_and_the_page() -> None:
    assert as_dict(COMPANY, PORTAL) == {
        "name": "Van der Linden B.V.",
        "crm_id": "9000000102",
        "afas_id": "10002",
        "hubspot_url": "https://app.hubspot.com/contacts/4711/record/0-2/9000000102",
    }


HUBSPOT_CONNECTION = """
[connections.live]
crm = {{ kind = "hubspot", token = "NAMES_HUBSPOT_TOKEN"{portal} }}
afas = {{ kind = "memory" }}
"""


def test_the_portal_id_comes_from_the_hubspot_options(tmp_path: Path) -> None:
    path = write_config(tmp_path, HUBSPOT_CONNECTION.format(portal=", portal_id = 4711"))
    settings = load_settings(path, secrets=False)
    pages = hubspot_pages(settings, settings.connections[0])
    assert pages.url("customer", "9") == "https://app.hubspot.com/contacts/4711/record/0-2/9"
    assert pages.url("contact", "9") == "https://app.hubspot.com/contacts/4711/record/0-1/9"
    path = write_config(tmp_path, HUBSPOT_CONNECTION.format(portal=""))
    settings = load_settings(path, secrets=False)
    assert hubspot_pages(settings, settings.connections[0]).portal_id is None


def test_a_portal_id_that_is_no_number_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path, HUBSPOT_CONNECTION.format(portal=', portal_id = "acme"'))
    with pytest.raises(ConfigError, match="portal_id"):
        load_settings(path, secrets=False)
