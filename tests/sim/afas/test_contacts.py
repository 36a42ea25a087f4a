"""Contact persons: added through KnOrganisation (MatchPer), changed and blocked through
KnContact, a person's own fields through KnPerson, and read from syncd_contacts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from syncd.sim.afas import AfasSimulator
from tests.gateways.afas.helpers import served, simulator
from tests.sim.afas.api import DEBTOR, call

NEW_ORG = {"PadAdr": True, "AutoNum": True, "MatchOga": "6", "Nm": "Bakkerij Tromp"}
JAN = {"AutoNum": True, "MatchPer": "7", "FiNm": "Jan", "In": "J.", "Is": "van der", "LaNm": "Berg"}


def organisation(
    org: Mapping[str, object], contact: Mapping[str, object], person: Mapping[str, object] | None
) -> dict[str, Any]:
    """A KnOrganisation body with one nested KnContact (holding ``person``)."""
    nested: dict[str, object] = {"Fields": contact}
    if person is not None:
        nested["Objects"] = [{"KnPerson": {"Element": {"Fields": person}}}]
    return {
        "KnOrganisation": {
            "Element": {"Fields": org, "Objects": [{"KnContact": {"Element": nested}}]}
        }
    }


def contact_update(fields: Mapping[str, object]) -> dict[str, Any]:
    return {"KnContact": {"Element": {"Fields": fields}}}


WORK = {"ViKc": "PRS", "EmAd": "jan@tromp.nl", "TeNr": "030-1234567", "FuDs": "Inkoper"}


async def add_to(
    http: Any, org_number: str, person: Mapping[str, object]
) -> tuple[int, dict[str, Any]]:
    """Add a contact to an existing organisation: a POST on the KnContact sub-object."""
    body = organisation({"MatchOga": "0", "BcCo": org_number}, WORK, person)
    status, doc, _ = await call(http, "POST", "connectors/KnOrganisation/KnContact", body=body)
    return status, doc


async def add_jan(http: Any) -> dict[str, str]:
    status, doc, _ = await call(
        http, "POST", "connectors/KnOrganisation", body=organisation(NEW_ORG, WORK, JAN)
    )
    assert status == 201, doc
    keys: dict[str, str] = doc["results"]["KnOrganisation"]
    return keys


async def test_a_contact_is_added_with_a_new_organisation_and_a_new_person(
    http: Any, sim: AfasSimulator
) -> None:
    keys = await add_jan(http)
    assert keys == {"BcCo": "100001", "BcCoPer": "100002"}  # one range for both
    [row] = sim.rows("contact")
    assert row["ContactId"] == 1
    assert (row["OrganisationId"], row["PersonId"]) == ("100001", "100002")
    assert (row["FirstName"], row["Initials"], row["Prefix"], row["LastName"]) == (
        "Jan",
        "J.",
        "van der",
        "Berg",
    )
    assert (row["Email"], row["Phone"], row["Function"], row["Blocked"]) == (
        "jan@tromp.nl",
        "030-1234567",
        "Inkoper",
        False,
    )
    assert row["ModifiedDate"] == row["ContactModifiedDate"] == row["PersonModifiedDate"]


async def test_a_contact_is_added_to_an_existing_debtor_organisation_by_its_subobject(
    http: Any, sim: AfasSimulator
) -> None:
    await call(http, "POST", "connectors/KnSalesRelationOrg", body=DEBTOR)
    status, doc = await add_to(http, "100001", JAN)
    assert status == 201
    assert doc["results"]["KnOrganisation"] == {"BcCo": "100001", "BcCoPer": "100002"}
    assert sim.rows("contact")[0]["OrganisationId"] == "100001"
    assert sim.rows("customer")[0]["DebtorName"] == "Jansen"  # the organisation unchanged


async def test_a_put_adds_a_contact_only_with_action_insert(http: Any, sim: AfasSimulator) -> None:
    await call(http, "POST", "connectors/KnSalesRelationOrg", body=DEBTOR)
    body = organisation({"MatchOga": "0", "BcCo": "100001"}, WORK, JAN)
    status, doc, _ = await call(http, "PUT", "connectors/KnOrganisation", body=body)
    assert status == 500
    assert (
        "Contacts cannot be changed with UpdateConnector 'KnOrganisation'"
        in (doc["externalMessage"])
    )
    contact = body["KnOrganisation"]["Element"]["Objects"][0]["KnContact"]["Element"]
    contact["@Action"] = "insert"
    status, doc, _ = await call(http, "PUT", "connectors/KnOrganisation", body=body)
    assert status == 201
    assert doc["results"]["KnOrganisation"]["BcCoPer"] == "100002"
    assert len(sim.rows("contact")) == 1


async def test_adding_to_an_unknown_organisation_adds_nothing(
    http: Any, sim: AfasSimulator
) -> None:
    status, doc = await add_to(http, "999999", JAN)
    assert status == 500
    assert doc["externalMessage"] == "The entered value for 'BcCo' (999999) does not exist."
    assert doc["errorNumber"] == -2147220469
    assert sim.rows("contact") == []
    assert sim.data.persons == {}


async def test_matchper_3_reuses_the_person_with_that_name_and_work_email(
    http: Any, sim: AfasSimulator
) -> None:
    await add_jan(http)
    same = {**JAN, "MatchPer": "3", "EmAd": "jan@tromp.nl", "FiNm": "Johannes"}
    del same["AutoNum"]
    await call(
        http,
        "POST",
        "connectors/KnPerson",
        body={
            "KnPerson": {
                "Element": {"Fields": {"MatchPer": "0", "BcCo": "100002", "EmAd": "jan@tromp.nl"}}
            }
        },
    )
    other = {**NEW_ORG, "Nm": "Tromp Logistiek"}
    status, doc, _ = await call(
        http, "POST", "connectors/KnOrganisation", body=organisation(other, WORK, same)
    )
    assert status == 201
    assert doc["results"]["KnOrganisation"]["BcCoPer"] == "100002"  # the same person
    rows = sim.rows("contact")
    assert [(r["OrganisationId"], r["PersonId"]) for r in rows] == [
        ("100001", "100002"),
        ("100003", "100002"),
    ]
    assert {r["FirstName"] for r in rows} == {"Johannes"}  # the person's fields changed


async def test_matchper_0_links_a_known_person_once_per_organisation(
    http: Any, sim: AfasSimulator
) -> None:
    await add_jan(http)
    status, doc = await add_to(http, "100001", {"MatchPer": "0", "BcCo": "100002"})
    assert status == 500
    assert "already has a contact" in doc["externalMessage"]
    assert len(sim.rows("contact")) == 1


async def test_matchper_7_adds_a_second_person_with_the_same_name(
    http: Any, sim: AfasSimulator
) -> None:
    await add_jan(http)
    status, _ = await add_to(http, "100001", JAN)
    assert status == 201
    assert [r["PersonId"] for r in sim.rows("contact")] == ["100002", "100003"]


async def test_matching_on_a_name_twice_in_profit_is_refused(http: Any, sim: AfasSimulator) -> None:
    await add_jan(http)
    await add_to(http, "100001", JAN)
    by_name = {"MatchPer": "2", "LaNm": "Berg", "Is": "van der", "In": "J."}
    body = organisation({**NEW_ORG, "Nm": "Ander"}, WORK, by_name)
    status, doc, _ = await call(http, "POST", "connectors/KnOrganisation", body=body)
    assert status == 500
    assert "More than one person" in doc["externalMessage"]
    assert len(sim.data.organisations) == 1  # nothing added


async def test_required_fields_of_a_new_contact(http: Any, sim: AfasSimulator) -> None:
    no_name = {k: v for k, v in JAN.items() if k != "LaNm"}
    cases = [
        (organisation(NEW_ORG, WORK, no_name), "Field 'LaNm' (Achternaam) is required."),
        (organisation(NEW_ORG, WORK, None), "A contact of type 'PRS' needs one KnPerson."),
        (
            organisation(NEW_ORG, WORK, {**JAN, "AutoNum": False}),
            "Field 'BcCo' is required when AutoNum is off.",
        ),
        (
            organisation(NEW_ORG, {**WORK, "CdId": 5}, JAN),
            "Field 'CdId' cannot be given when adding a contact.",
        ),
    ]
    for body, message in cases:
        status, doc, _ = await call(http, "POST", "connectors/KnOrganisation", body=body)
        assert (status, doc["externalMessage"]) == (500, message)
    assert sim.data.organisations == {}
    assert sim.rows("contact") == []


async def test_a_persons_names_are_held_to_the_lengths_of_afass_openapi_file(
    http: Any, sim: AfasSimulator
) -> None:
    too_long = {"Is": "van der " * 2, "LaNm": "B" * 81, "FiNm": "J" * 51, "In": "J." * 8}
    for field_id, value in too_long.items():
        body = organisation(NEW_ORG, WORK, {**JAN, field_id: value})
        status, doc, _ = await call(http, "POST", "connectors/KnOrganisation", body=body)
        assert status == 500
        assert f"field '{field_id}'" in doc["externalMessage"]
        assert "too long" in doc["externalMessage"]
    assert sim.rows("contact") == []


async def test_one_contact_a_call(http: Any, sim: AfasSimulator) -> None:
    body = organisation(NEW_ORG, WORK, JAN)
    element = body["KnOrganisation"]["Element"]
    contact = element["Objects"][0]["KnContact"]["Element"]
    element["Objects"][0]["KnContact"]["Element"] = [contact, contact]
    status, doc, _ = await call(http, "POST", "connectors/KnOrganisation", body=body)
    assert status == 500
    assert doc["externalMessage"] == "KnContact: supplying multiple lines is not supported."


async def test_kncontact_only_updates(http: Any, sim: AfasSimulator) -> None:
    body = {"KnContact": {"Element": {"Fields": {"BcCoOga": "100001", **WORK}}}}
    status, doc, _ = await call(http, "POST", "connectors/KnContact", body=body)
    assert status == 500
    assert "add contacts through 'KnOrganisation'" in doc["externalMessage"]
    status, doc, _ = await call(http, "DELETE", "connectors/KnContact/KnContact/@CdId/1")
    assert status == 500
    assert doc["externalMessage"] == "Deleting is not supported by UpdateConnector 'KnContact'."


async def test_kncontact_changes_the_work_details_and_only_the_contacts_date(
    http: Any, sim: AfasSimulator
) -> None:
    await add_jan(http)
    before = sim.rows("contact")[0]
    body = contact_update({"CdId": 1, "EmAd": "j.vdberg@tromp.nl", "MbNr": "06-12345678"})
    status, doc, _ = await call(http, "PUT", "connectors/KnContact", body=body)
    assert status == 201
    assert doc == {"results": {"KnContact": {"CdId": "1"}}}
    after = sim.rows("contact")[0]
    assert (after["Email"], after["Mobile"]) == ("j.vdberg@tromp.nl", "06-12345678")
    assert str(after["ContactModifiedDate"]) > str(before["ContactModifiedDate"])
    assert after["PersonModifiedDate"] == before["PersonModifiedDate"]
    assert after["ModifiedDate"] == after["ContactModifiedDate"]


async def test_a_contact_is_ended_by_blocking_it_found_by_organisation_and_person(
    http: Any, sim: AfasSimulator
) -> None:
    await add_jan(http)
    body = contact_update({"BcCoOga": "100001", "BcCoPer": "100002", "Bl": True})
    status, _, _ = await call(http, "PUT", "connectors/KnContact", body=body)
    assert status == 201
    [row] = sim.rows("contact")
    assert row["Blocked"] is True  # still there: contacts are never deleted


async def test_kncontact_errors(http: Any, sim: AfasSimulator) -> None:
    await add_jan(http)
    cases: list[tuple[dict[str, object], str]] = [
        ({"CdId": 9, "Bl": True}, "The entered value for 'CdId' (9) does not exist."),
        ({"Bl": True}, "Field 'CdId' is required."),
        (
            {"BcCoOga": "100001", "BcCoPer": "555"},
            "Person '555' has no contact at organisation '100001'.",
        ),
        (
            {"CdId": 1, "BcCoOga": "424242"},
            "The contact does not belong to this organisation and person.",
        ),
        ({"CdId": 1, "FuDs": "x" * 51}, "is too long"),
        ({"CdId": 1, "Nm": "Tromp"}, "Field 'Nm' is unknown in 'KnContact'."),
    ]
    for fields, message in cases:
        status, doc, _ = await call(
            http, "PUT", "connectors/KnContact", body=contact_update(fields)
        )
        assert status == 500
        assert message in doc["externalMessage"]
    assert sim.rows("contact")[0]["Blocked"] is False


async def test_knperson_changes_the_persons_names_and_date(http: Any, sim: AfasSimulator) -> None:
    await add_jan(http)
    before = sim.rows("contact")[0]
    body = {
        "KnPerson": {"Element": {"Fields": {"MatchPer": "0", "BcCo": "100002", "Is": "van den"}}}
    }
    status, doc, _ = await call(http, "PUT", "connectors/KnPerson", body=body)
    assert status == 201
    assert doc == {"results": {"KnPerson": {"BcCo": "100002"}}}
    after = sim.rows("contact")[0]
    assert after["Prefix"] == "van den"
    assert str(after["PersonModifiedDate"]) > str(before["PersonModifiedDate"])
    assert after["ContactModifiedDate"] == before["ContactModifiedDate"]
    assert after["ModifiedDate"] == after["PersonModifiedDate"]
    body["KnPerson"]["Element"]["Fields"] = {"MatchPer": "0", "Is": "van"}
    status, doc, _ = await call(http, "PUT", "connectors/KnPerson", body=body)
    assert (status, doc["externalMessage"]) == (500, "Field 'BcCo' is required.")
    body["KnPerson"]["Element"]["Fields"] = {"MatchPer": "0", "BcCo": "777", "LaNm": "Smit"}
    status, doc, _ = await call(http, "PUT", "connectors/KnPerson", body=body)
    assert (status, doc["externalMessage"]) == (
        500,
        "The entered value for 'BcCo' (777) does not exist.",
    )
    assert set(sim.data.persons) == {"100002"}


async def test_a_contact_inside_a_relation_is_refused_not_dropped(
    http: Any, sim: AfasSimulator
) -> None:
    body = {
        "KnSalesRelationOrg": {
            "Element": {"Fields": {"CuId": "EUR"}, "Objects": [organisation(NEW_ORG, WORK, JAN)]}
        }
    }
    status, doc, _ = await call(http, "POST", "connectors/KnSalesRelationOrg", body=body)
    assert status == 500
    assert "KnContact" in doc["externalMessage"]
    assert sim.rows("customer") == []


async def test_the_contacts_getconnector_pages_and_filters_on_modification() -> None:
    sim = simulator(precision="second")  # a date shown cut: >= it finds its own row
    async with served(sim) as url, aiohttp.ClientSession() as session:
        await _pages_and_filters((session, url), sim)


async def _pages_and_filters(http: Any, sim: AfasSimulator) -> None:
    await add_jan(http)
    for name in ("Visser", "de Vries", "Bakker"):
        assert (await add_to(http, "100001", {**JAN, "LaNm": name, "Is": None}))[0] == 201
    since = str(sim.rows("contact")[2]["ModifiedDate"]).removesuffix("Z")  # shown with a fake Z
    query = (
        "skip=0&take=2&orderbyfieldids=ContactId"
        f"&filterfieldids=ModifiedDate&filtervalues={since}&operatortypes=2"
    )
    status, doc, _ = await call(http, "GET", "connectors/syncd_contacts", query=query)
    assert status == 200
    assert [r["ContactId"] for r in doc["rows"]] == [3, 4]
    query = "filterfieldids=ContactId&filtervalues=2&operatortypes=1"
    status, doc, _ = await call(http, "GET", "connectors/syncd_contacts", query=query)
    assert [r["LastName"] for r in doc["rows"]] == ["Visser"]


async def test_contacts_are_seeded_and_edited_like_relations(sim: AfasSimulator) -> None:
    sim.seed({"customer": [{"DebtorId": "10001", "OrganisationId": "200", "DebtorName": "Tromp"}]})
    [contact_id] = sim.seed(
        {"contact": [{"OrganisationId": "200", "FirstName": "Anna", "LastName": "Smit"}]}
    )["contact"]
    sim.edit("contact", contact_id, {"Email": "anna@tromp.nl"})
    [row] = sim.rows("contact")
    assert (row["OrganisationId"], row["LastName"], row["Email"]) == (
        "200",
        "Smit",
        "anna@tromp.nl",
    )
    assert str(row["ContactModifiedDate"]) > str(row["PersonModifiedDate"])


async def test_the_subobject_url_needs_a_contact_and_takes_no_other_subobject(
    http: Any, sim: AfasSimulator
) -> None:
    await add_jan(http)
    body = {"KnOrganisation": {"Element": {"Fields": {"MatchOga": "0", "BcCo": "100001"}}}}
    status, doc, _ = await call(http, "POST", "connectors/KnOrganisation/KnContact", body=body)
    assert (status, doc["externalMessage"]) == (500, "Object 'KnContact' is required.")
    status, doc, _ = await call(http, "POST", "connectors/KnOrganisation/KnBankAccount", body=body)
    assert (status, doc["externalMessage"]) == (
        500,
        "A POST on 'KnOrganisation/KnBankAccount' is not simulated.",
    )
    assert len(sim.rows("contact")) == 1


async def test_a_seeded_contact_keeps_each_tables_date(sim: AfasSimulator) -> None:
    sim.seed({"customer": [{"DebtorId": "10001", "OrganisationId": "200", "DebtorName": "Tromp"}]})
    row = {
        "OrganisationId": "200",
        "PersonId": "300",
        "LastName": "Smit",
        "ContactModifiedDate": "2024-05-01T08:00:00+00:00",
        "PersonModifiedDate": "2024-06-01T08:00:00+00:00",
    }
    sim.seed({"contact": [row]})
    [shown] = sim.rows("contact")
    assert (shown["ContactModifiedDate"], shown["PersonModifiedDate"]) == (
        "2024-05-01T10:00:00Z",  # Amsterdam wall time, shown with Profit's fake Z
        "2024-06-01T10:00:00Z",
    )
    assert shown["ModifiedDate"] == shown["PersonModifiedDate"]
    assert shown["PersonId"] == "300"
