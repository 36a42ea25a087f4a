"""Contacts through the HubSpot gateway, against the simulator: the company of a contact
is its primary company association, read once per page and written with the contact;
a taken e-mail is a TakenError naming the contact that has it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from syncd.errors import PermanentError, RecordError, TakenError
from syncd.mapping import EntityMapping
from syncd.records import Record
from syncd.sim.hubspot import Fault, PropertyDef
from syncd.sim.hubspot.associations import Associated
from syncd.sim.hubspot.kinds import CONTACTS
from tests.gateways.contract import collect
from tests.gateways.hubspot.harness import HubSpotHarness, harness_for

ANOUK = {
    "first_name": "Anouk",
    "last_name": "van der Berg",
    "email": "anouk@korenaar.nl",
    "phone": "+31302314456",
    "job_title": "Bedrijfsleider",
}


def person(n: int) -> dict[str, str]:
    return {"first_name": f"Person{n}", "last_name": "Jansen", "email": f"p{n}@example.nl"}


@pytest.fixture
async def hs(mappings: dict[str, EntityMapping]) -> AsyncIterator[HubSpotHarness]:
    async with harness_for(mappings, page_size=4) as harness:
        yield harness


def associated(hs: HubSpotHarness, contact_id: str) -> list[Associated]:
    return hs.sim.associations.of(CONTACTS, contact_id)


# -- reading the company -------------------------------------------------------------------


async def test_the_company_is_the_primary_one_read_once_per_page(hs: HubSpotHarness) -> None:
    korenaar, linden = hs.company_at("Korenaar"), hs.company_at("Linden")
    at_korenaar = [await hs.seed("contact", {**person(n), "company": korenaar}) for n in range(5)]
    elsewhere = await hs.seed("contact", person(5))
    hs.sim.associate(elsewhere, linden)  # associated, but not as its primary company
    nowhere = await hs.seed("contact", person(6))
    hs.sim.counts.clear()

    pages, records, _ = await collect(hs.hub.list_all("contact"))

    assert len(pages) == 2
    assert hs.sim.counts["associations POST batch/read"] == len(pages)
    company = {r.id: r.fields["company"] for r in records}
    assert company == {**dict.fromkeys(at_korenaar, korenaar), elsewhere: None, nowhere: None}


async def test_search_and_read_by_id_read_the_company_in_one_request_each(
    hs: HubSpotHarness,
) -> None:
    korenaar = hs.company_at("Korenaar")
    ids = [await hs.seed("contact", {**person(n), "company": korenaar}) for n in range(3)]
    hs.sim.counts.clear()

    _, changed, _ = await collect(hs.hub.changed_since("contact", None))
    page = await hs.hub.read("contact", ids)

    assert {r.fields["company"] for r in [*changed, *page.records]} == {korenaar}
    assert hs.sim.counts["contacts POST search"] == 1
    assert hs.sim.counts["contacts POST batch/read"] == 1
    assert hs.sim.counts["associations POST batch/read"] == 2


async def test_a_search_page_reads_its_companies_once_however_it_is_paged(
    hs: HubSpotHarness,
) -> None:
    korenaar = hs.company_at("Korenaar")
    for n in range(10):
        await hs.seed("contact", {**person(n), "company": korenaar})
    hs.sim.counts.clear()

    pages, changed, _ = await collect(hs.hub.changed_since("contact", None))

    assert len(pages) == 3  # ten rows handed out four at a time
    assert {r.fields["company"] for r in changed} == {korenaar}
    assert hs.sim.counts["contacts POST search"] == 1
    assert hs.sim.counts["associations POST batch/read"] == 1


async def test_a_contact_of_an_archived_company_has_none(hs: HubSpotHarness) -> None:
    korenaar = hs.company_at("Korenaar")
    contact = await hs.seed("contact", {**ANOUK, "company": korenaar})
    hs.sim.archive(korenaar)
    assert (await hs.hub.read("contact", [contact])).records[0].fields["company"] is None


async def test_find_by_company_reads_the_companies_associations(hs: HubSpotHarness) -> None:
    """Search cannot filter on an association: the companies' contacts are read from the
    company side (one request), then those contacts by id."""
    korenaar, linden = hs.company_at("Korenaar"), hs.company_at("Linden")
    at_korenaar = await hs.seed("contact", {**ANOUK, "company": korenaar})
    moved_on = await hs.seed("contact", {**person(1), "company": korenaar})
    await hs.edit("contact", moved_on, {"company": linden})  # korenaar stays, unlabeled
    await hs.seed("contact", person(2))
    hs.sim.counts.clear()

    found = await hs.hub.find_by_values("contact", "company", [korenaar, "999999999"])

    assert [r.id for r in found] == [at_korenaar]
    assert hs.sim.counts["associations POST batch/read"] == 2  # from companies, then back
    assert hs.sim.counts["contacts POST batch/read"] == 1
    assert hs.sim.counts["contacts POST search"] == 0


async def test_find_by_email(hs: HubSpotHarness) -> None:
    korenaar = hs.company_at("Korenaar")
    anouk = await hs.seed("contact", {**ANOUK, "company": korenaar})
    await hs.seed("contact", person(1))
    found = await hs.hub.find_by_values("contact", "email", ["ANOUK@korenaar.nl", ANOUK["email"]])
    assert [(r.id, r.fields["company"]) for r in found] == [(anouk, korenaar)]


async def test_the_additional_emails_are_read_with_the_contact(hs: HubSpotHarness) -> None:
    others = "anouk.private@gmail.com;A.vd.Berg@Korenaar.nl"
    # a user adds them in HubSpot; the API cannot write them
    anouk = hs.sim.seed_contact({"email": "anouk@korenaar.nl", "hs_additional_emails": others})
    _, listed, _ = await collect(hs.hub.list_all("contact"))
    page = await hs.hub.read("contact", [anouk])
    for record in [*listed, *page.records]:
        assert record.fields["email+others"] == "anouk.private@gmail.com;a.vd.berg@korenaar.nl"


# -- creating --------------------------------------------------------------------------------


async def test_a_create_makes_the_company_primary_in_the_same_request(
    hs: HubSpotHarness,
) -> None:
    korenaar = hs.company_at("Korenaar")
    await hs.hub.start()  # reads the property definitions each write is checked against
    hs.sim.counts.clear()
    created = await hs.hub.create("contact", {**ANOUK, "company": korenaar}, "5001")
    assert dict(hs.sim.counts) == {"contacts POST create": 1}
    assert created.fields["company"] == korenaar
    assert created.correlation == "5001"
    assert associated(hs, created.id) == [Associated(korenaar, primary=True)]


async def test_a_taken_email_names_the_contact_that_has_it(hs: HubSpotHarness) -> None:
    holder = await hs.seed("contact", ANOUK)
    with pytest.raises(TakenError) as taken:
        await hs.hub.create("contact", {**person(1), "email": "Anouk@Korenaar.nl"}, "5001")
    assert taken.value.existing_id == holder
    assert taken.value.field == "email"


async def test_an_email_held_as_another_contacts_additional_one_is_taken(
    hs: HubSpotHarness,
) -> None:
    holder = hs.sim.seed_contact(
        {"email": "anouk@korenaar.nl", "hs_additional_emails": "info@korenaar.nl"}
    )
    with pytest.raises(TakenError) as taken:
        await hs.hub.create("contact", {**person(1), "email": "Info@Korenaar.nl"}, "5001")
    assert taken.value.existing_id == holder


async def test_a_batch_with_a_taken_email_creates_the_others(hs: HubSpotHarness) -> None:
    """HubSpot refuses the whole batch with one 409; the item with the holder's e-mail
    gets the TakenError, the others are sent again and created."""
    korenaar = hs.company_at("Korenaar")
    holder = await hs.seed("contact", ANOUK)
    items = [
        ({**person(1), "company": korenaar}, "5001"),
        ({**person(2), "email": ANOUK["email"]}, "5002"),
        ({**person(3), "company": korenaar}, "5003"),
    ]
    hs.sim.counts.clear()

    first, taken, third = await hs.hub.create_batch("contact", items)

    assert isinstance(taken, TakenError)
    assert taken.existing_id == holder
    assert isinstance(first, Record)
    assert isinstance(third, Record)
    assert [first.fields["company"], third.fields["company"]] == [korenaar, korenaar]
    assert associated(hs, third.id) == [Associated(korenaar, primary=True)]
    assert hs.sim.counts["contacts POST batch/create"] == 2
    assert hs.sim.counts["contacts POST batch/read"] == 1  # the holder's e-mail


async def test_a_taken_email_held_as_another_is_found_by_halving_the_batch(
    hs: HubSpotHarness,
) -> None:
    """The holder's e-mail is none of the items' (HubSpot may match another e-mail of
    its): the batch is split in halves until the refused item stands alone."""
    holder = hs.sim.seed_contact({"email": "old@korenaar.nl"})
    conflict = {
        "status": "error",
        "message": f"Contact already exists. Existing ID: {holder}",
        "category": "CONFLICT",
    }
    # the whole batch, then the first half (its one item) are refused
    hs.sim.fail(
        Fault(method="POST", path="contacts/batch/create", status=409, body=conflict, count=2)
    )

    taken, second, third = await hs.hub.create_batch(
        "contact", [(ANOUK, "5001"), (person(2), "5002"), (person(3), "5003")]
    )

    assert isinstance(taken, TakenError)
    assert taken.existing_id == holder
    assert isinstance(second, Record)
    assert isinstance(third, Record)
    assert hs.sim.counts["contacts POST batch/create"] == 3


# -- updating --------------------------------------------------------------------------------


async def test_another_company_becomes_primary_and_the_former_stays_unlabeled(
    hs: HubSpotHarness,
) -> None:
    korenaar, linden = hs.company_at("Korenaar"), hs.company_at("Linden")
    contact = await hs.seed("contact", {**ANOUK, "company": korenaar})

    updated = await hs.hub.update("contact", contact, {"company": linden})

    assert updated.fields["company"] == linden
    assert associated(hs, contact) == [
        Associated(korenaar, primary=False),
        Associated(linden, primary=True),
    ]
    assert hs.sim.counts["associations POST batch/create"] == 1
    assert hs.sim.counts["contacts PATCH object"] == 0  # no property was written


async def test_a_blank_company_is_refused_before_anything_is_sent(hs: HubSpotHarness) -> None:
    korenaar = hs.company_at("Korenaar")
    contact = await hs.seed("contact", {**ANOUK, "company": korenaar})
    hs.sim.counts.clear()
    with pytest.raises(RecordError, match="primary company") as refused:
        await hs.hub.update("contact", contact, {"company": None, "job_title": "Chef"})
    assert refused.value.field == "company"
    assert not hs.sim.counts
    outcome = await hs.hub.update_batch("contact", [(contact, {"company": None}, None)])
    assert isinstance(outcome[0], RecordError)
    assert not hs.sim.counts


async def test_update_batch_moves_contacts_with_one_association_request(
    hs: HubSpotHarness,
) -> None:
    korenaar, linden = hs.company_at("Korenaar"), hs.company_at("Linden")
    moved = await hs.seed("contact", {**ANOUK, "company": korenaar})
    renamed = await hs.seed("contact", {**person(1), "company": korenaar})
    hs.sim.counts.clear()

    only_moved, both = await hs.hub.update_batch(
        "contact",
        [
            (moved, {"company": linden}, None),
            (renamed, {"company": linden, "job_title": "Chef"}, None),
        ],
    )

    assert isinstance(only_moved, Record)
    assert isinstance(both, Record)
    assert (only_moved.fields["company"], only_moved.fields["email"]) == (linden, ANOUK["email"])
    assert (both.fields["company"], both.fields["job_title"]) == (linden, "Chef")
    assert hs.sim.counts["associations POST batch/create"] == 1
    assert hs.sim.counts["contacts POST batch/update"] == 1
    assert hs.sim.counts["contacts POST batch/read"] == 1  # the one only moved
    page = await hs.hub.read("contact", [moved, renamed])
    assert {r.fields["company"] for r in page.records} == {linden}


async def test_a_move_to_an_unknown_company_is_refused(hs: HubSpotHarness) -> None:
    contact = await hs.seed("contact", ANOUK)
    with pytest.raises(RecordError):
        await hs.hub.update("contact", contact, {"company": "999999999"})


# -- what a change of the primary company moves ---------------------------------------------


async def test_a_users_move_is_seen_by_the_full_sweep_not_by_changed_since(
    hs: HubSpotHarness,
) -> None:
    """HubSpot's documentation does not say a contact's lastmodifieddate moves when its
    primary company changes, and the simulator does not move it: only ``list_all`` (the
    sweep, which reads every contact's associations) sees such a move."""
    korenaar, linden = hs.company_at("Korenaar"), hs.company_at("Linden")
    contact = await hs.seed("contact", {**ANOUK, "company": korenaar})
    before = (await hs.hub.read("contact", [contact])).records[0]
    assert before.modified is not None

    await hs.edit("contact", contact, {"company": linden})

    after = (await hs.hub.read("contact", [contact])).records[0]
    assert (after.fields["company"], after.modified) == (linden, before.modified)
    later = before.modified + timedelta(milliseconds=1)
    _, changed, _ = await collect(hs.hub.changed_since("contact", later))
    assert changed == []
    _, swept, _ = await collect(hs.hub.list_all("contact"))
    assert [r.fields["company"] for r in swept] == [linden]


# -- archiving and paths ---------------------------------------------------------------------


async def test_deactivate_archives_the_contact(hs: HubSpotHarness) -> None:
    contact = await hs.seed("contact", ANOUK)
    await hs.hub.deactivate("contact", contact)
    assert hs.sim.contact(contact).archived
    assert (await hs.hub.read("contact", [contact])).records == []
    archived = [ids async for ids in hs.hub.list_archived("contact")]
    assert archived == [[contact]]


async def test_the_dated_api_serves_contacts_and_their_associations(
    mappings: dict[str, EntityMapping],
) -> None:
    async with harness_for(mappings, api_version="2026-03", record=True) as hs:
        korenaar, linden = hs.company_at("Korenaar"), hs.company_at("Linden")
        created = await hs.hub.create("contact", {**ANOUK, "company": korenaar}, "5001")
        await hs.hub.update("contact", created.id, {"company": linden})
        _, listed, _ = await collect(hs.hub.list_all("contact"))
        assert [r.fields["company"] for r in listed] == [linden]
        paths = {e.path for e in hs.sim.request_log.entries}
    assert "/crm/objects/2026-03/contacts" in paths
    assert "/crm/associations/2026-03/contacts/companies/batch/read" in paths
    assert "/crm/associations/2026-03/contacts/companies/batch/create" in paths
    assert not [p for p in paths if "/v3/" in p or "/v4/" in p]


# -- start-up checks -------------------------------------------------------------------------


async def test_start_names_a_missing_or_not_unique_contact_property(hs: HubSpotHarness) -> None:
    await hs.hub.start()
    properties = hs.sim.contacts.properties
    del properties["jobtitle"]
    correlation = properties["afas_contact_id"]
    properties["afas_contact_id"] = PropertyDef(
        correlation.name, correlation.type, correlation.field_type, correlation.label
    )
    with pytest.raises(PermanentError) as refused:
        await hs.hub.start()
    assert "contact: the portal has no contact property 'jobtitle'" in str(refused.value)
    assert "contact: 'afas_contact_id' must have unique values" in str(refused.value)
    assert "primary_company" not in str(refused.value)
