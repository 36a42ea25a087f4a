"""AFAS contacts (persons at an organisation) on the simulator: the requests each write
sends, a create whose answer is lost, a person who moves to another organisation (also
when a move was interrupted), and which debtors are at which organisation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from syncd.errors import OutcomeUnknownError, RecordError
from syncd.gateways.afas.client import Limits
from syncd.gateways.afas.gateway import AfasGateway
from syncd.gateways.base import OrganisationGateway
from syncd.mapping import KNOWN_ENTITIES, EntityMapping, load_mappings
from syncd.records import Record, Side, Value
from syncd.sim.afas import AfasSimulator, Fault
from syncd.sim.afas import contacts as sim_contacts
from syncd.sim.afas.schema import CONTACT_KEY_FREE_FIELD
from tests.gateways.afas.helpers import gateway, served, simulator
from tests.gateways.contract.gateway_contract import SHIPPED_MAPPINGS

CONTACT = "contact"
ANOUK: dict[str, Value] = {
    "first_name": "Anouk",
    "last_name": "van der Berg",
    "email": "anouk@korenaar.nl",
    "phone": "+31302314456",
    "job_title": "Bedrijfsleider",
}
FREE_FIELD = CONTACT_KEY_FREE_FIELD  # the contact's free field holding the CRM id


@dataclass
class Profit:
    """The simulator, the gateway on it, and every contact write it received."""

    sim: AfasSimulator
    afas: AfasGateway
    mappings: Mapping[str, EntityMapping]
    writes: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def company(self, name: str) -> str:
        """A user adds a debtor; the number of its organisation."""
        debtor = self.sim.data.seed("customer", {"DebtorName": name})
        return self.sim.data.relation("customer", debtor).organisation

    def contact(self, fields: Mapping[str, Value], **native: object) -> str:
        """A user adds a contact (``native``: more GetConnector fields, e.g. PersonId)."""
        row = {**self.mappings[CONTACT].to_native(Side.AFAS, fields), **native}
        return self.sim.seed({CONTACT: [row]})[CONTACT][0]

    def contacts_of(self, person: str) -> dict[str, tuple[str, bool]]:
        """The person's contacts: id -> (organisation, blocked)."""
        return {
            number: (c.organisation, bool(c.fields.get("Bl")))
            for number, c in self.sim.data.relations[CONTACT].items()
            if c.person == person
        }

    def person_of(self, contact_id: str) -> str:
        return self.sim.data.relation(CONTACT, contact_id).person


@pytest.fixture
async def profit(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Profit]:
    mappings = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
    sim = simulator()
    writes: list[tuple[str, str, dict[str, Any]]] = []
    write = sim_contacts.write

    def recorded(data: Any, connector: str, element: Any, **how: Any) -> dict[str, str]:
        path = "/".join(filter(None, [connector, how.get("subobject", "")]))
        writes.append(("POST" if how["insert"] else "PUT", path, json.loads(json.dumps(element))))
        return write(data, connector, element, **how)

    monkeypatch.setattr(sim_contacts, "write", recorded)
    async with served(sim) as url:
        afas = gateway(url, mappings, page_size=50, limits=Limits(write_timeout=1.0))
        yield Profit(sim, afas, mappings, writes)
        await afas.aclose()


def filters_asked(profit: Profit, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The fields each GetConnector request filters on, from now on."""
    asked: list[str] = []
    get = profit.afas.client.get

    async def recorded(path: str, params: Any = ()) -> Any:
        asked.append(dict(params).get("filterfieldids", ""))
        return await get(path, params)

    monkeypatch.setattr(profit.afas.client, "get", recorded)
    return asked


# -- create ----------------------------------------------------------------------------------


async def test_create_adds_a_new_person_at_the_organisation(profit: Profit) -> None:
    organisation = profit.company("Bakkerij De Korenaar B.V.")
    created = await profit.afas.create(CONTACT, {**ANOUK, "company": organisation}, "9001")
    assert profit.writes == [
        (
            "POST",
            "KnOrganisation/KnContact",
            {
                "Fields": {"MatchOga": "0", "BcCo": organisation},
                "Objects": [
                    {
                        "KnContact": {
                            "Element": {
                                "Fields": {
                                    "ViKc": "PRS",
                                    "EmAd": "anouk@korenaar.nl",
                                    "TeNr": "+31302314456",
                                    "FuDs": "Bedrijfsleider",
                                    FREE_FIELD: "9001",
                                },
                                "Objects": [
                                    {
                                        "KnPerson": {
                                            "Element": {
                                                "Fields": {
                                                    "MatchPer": "7",
                                                    "AutoNum": True,
                                                    "FiNm": "Anouk",
                                                    "Is": "van der",
                                                    "LaNm": "Berg",
                                                }
                                            }
                                        }
                                    }
                                ],
                            }
                        }
                    }
                ],
            },
        )
    ]
    assert created.fields == {**ANOUK, "company": organisation, "mobile": None}
    assert created.correlation == "9001"
    assert profit.contacts_of(profit.person_of(created.id)) == {created.id: (organisation, False)}


async def test_the_person_in_the_answer_finds_the_new_contact(
    profit: Profit, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = filters_asked(profit, monkeypatch)
    organisation = profit.company("Korenaar")
    created = await profit.afas.create(CONTACT, {**ANOUK, "company": organisation}, "9001")
    assert asked == ["PersonId"]
    assert created.correlation == "9001"


async def test_each_create_is_a_new_person_even_with_the_same_name(profit: Profit) -> None:
    organisation = profit.company("Korenaar")
    first = await profit.afas.create(CONTACT, {**ANOUK, "company": organisation}, "1")
    other = profit.company("Atlas")
    second = await profit.afas.create(CONTACT, {**ANOUK, "company": other}, "2")
    assert profit.person_of(first.id) != profit.person_of(second.id)


async def test_a_create_answered_without_the_person_is_found_by_its_correlation_key(
    profit: Profit, monkeypatch: pytest.MonkeyPatch
) -> None:
    write = sim_contacts.write

    def without_person(*args: Any, **kwargs: Any) -> dict[str, str]:
        keys = write(*args, **kwargs)
        return {k: v for k, v in keys.items() if k != "BcCoPer"}

    monkeypatch.setattr(sim_contacts, "write", without_person)
    asked = filters_asked(profit, monkeypatch)
    organisation = profit.company("Korenaar")
    created = await profit.afas.create(CONTACT, {**ANOUK, "company": organisation}, "9001")
    assert created.correlation == "9001"
    assert created.fields["email"] == "anouk@korenaar.nl"
    assert asked == ["CrmKey"]


async def test_a_create_found_neither_way_is_an_unknown_outcome(
    profit: Profit, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Profit said it added the contact, but without the person and nothing holds the key.
    def accepted_but_not_kept(data: Any, connector: str, element: Any, **how: Any) -> Any:
        return {"BcCo": element["Fields"]["BcCo"]}

    monkeypatch.setattr(sim_contacts, "write", accepted_but_not_kept)
    organisation = profit.company("Korenaar")
    with pytest.raises(OutcomeUnknownError, match="correlation key"):
        await profit.afas.create(CONTACT, {**ANOUK, "company": organisation}, "9001")


async def test_a_lost_answer_leaves_the_contact_findable_by_its_key(profit: Profit) -> None:
    organisation = profit.company("Korenaar")
    profit.sim.add_fault(Fault("lost", "POST", "KnOrganisation", seconds=3.0))
    with pytest.raises(OutcomeUnknownError):
        await profit.afas.create(CONTACT, {**ANOUK, "company": organisation}, "9001")
    found = await profit.afas.find_by_correlation(CONTACT, ["9001"])
    assert list(found) == ["9001"]
    assert found["9001"].fields["company"] == organisation


async def test_a_contact_needs_its_organisation(profit: Profit) -> None:
    with pytest.raises(RecordError, match="organisation") as refused:
        await profit.afas.create(CONTACT, ANOUK, "9001")
    assert refused.value.field == "company"
    assert profit.writes == []


async def test_a_refused_contact_is_refused_alone(profit: Profit) -> None:
    organisation = profit.company("Korenaar")
    items: list[tuple[Mapping[str, Value], str]] = [
        ({**ANOUK, "company": "999999"}, "1"),  # no such organisation in Profit
        ({**ANOUK, "company": organisation}, "2"),
    ]
    refused, created = await profit.afas.create_batch(CONTACT, items)
    assert isinstance(refused, RecordError)
    assert "999999" in str(refused)
    assert isinstance(created, Record)
    assert created.correlation == "2"


# -- update --------------------------------------------------------------------------------


async def test_update_puts_contact_fields_on_the_contact_and_names_on_the_person(
    profit: Profit,
) -> None:
    organisation = profit.company("Korenaar")
    contact = profit.contact({**ANOUK, "company": organisation}, PersonId="30001")
    fields = {"email": "a.berg@korenaar.nl", "first_name": "Anneke"}
    updated = await profit.afas.update(CONTACT, contact, fields, correlation="9001")
    assert profit.writes == [
        (
            "PUT",
            "KnContact",
            {
                "Fields": {
                    "CdId": int(contact),
                    "ViKc": "PRS",
                    "EmAd": "a.berg@korenaar.nl",
                    FREE_FIELD: "9001",
                }
            },
        ),
        ("PUT", "KnPerson", {"Fields": {"MatchPer": "0", "BcCo": "30001", "FiNm": "Anneke"}}),
    ]
    assert updated.id == contact
    assert updated.fields == {**ANOUK, **fields, "company": organisation, "mobile": None}


async def test_an_update_of_the_contact_alone_leaves_the_person_be(profit: Profit) -> None:
    organisation = profit.company("Korenaar")
    contact = profit.contact({**ANOUK, "company": organisation})
    await profit.afas.update(CONTACT, contact, {"job_title": "Eigenaar", "company": organisation})
    assert [(method, path) for method, path, _ in profit.writes] == [("PUT", "KnContact")]


async def test_updates_of_several_contacts_read_them_together_not_one_a_contact(
    profit: Profit, monkeypatch: pytest.MonkeyPatch
) -> None:
    organisation = profit.company("Korenaar")
    contacts = [
        profit.contact({**ANOUK, "email": f"p{n}@korenaar.nl", "company": organisation})
        for n in range(4)
    ]
    asked = filters_asked(profit, monkeypatch)
    items = [(c, {"job_title": f"Functie {n}"}, None) for n, c in enumerate(contacts)]

    outcomes = await profit.afas.update_batch(CONTACT, items)

    assert [o.fields["job_title"] for o in outcomes if isinstance(o, Record)] == [
        f"Functie {n}" for n in range(4)
    ]
    assert len(asked) == 2  # the four before writing, and read back: not a request each


async def test_an_update_of_a_blocked_contact_is_refused(profit: Profit) -> None:
    organisation = profit.company("Korenaar")
    contact = profit.contact({**ANOUK, "company": organisation})
    await profit.afas.deactivate(CONTACT, contact)
    with pytest.raises(RecordError, match="blocked or gone"):
        await profit.afas.update(CONTACT, contact, {"job_title": "Eigenaar"})


async def test_deactivate_blocks_the_contact(profit: Profit) -> None:
    organisation = profit.company("Korenaar")
    contact = profit.contact({**ANOUK, "company": organisation})
    await profit.afas.deactivate(CONTACT, contact)
    assert profit.writes == [
        ("PUT", "KnContact", {"Fields": {"CdId": int(contact), "ViKc": "PRS", "Bl": True}})
    ]
    assert (await profit.afas.read(CONTACT, [contact])).records == []


# -- a person moves to another organisation --------------------------------------------------


async def test_a_new_company_moves_the_person_there_then_blocks_the_old_contact(
    profit: Profit,
) -> None:
    old_place, new_place = profit.company("Korenaar"), profit.company("Atlas")
    old = profit.contact({**ANOUK, "company": old_place}, PersonId="30001", CrmKey="9001")
    moved = await profit.afas.update(
        CONTACT, old, {"company": new_place, "job_title": "Inkoper", "last_name": "Berg"}
    )
    assert profit.writes == [
        (
            "POST",
            "KnOrganisation/KnContact",
            {
                "Fields": {"MatchOga": "0", "BcCo": new_place},
                "Objects": [
                    {
                        "KnContact": {
                            "Element": {
                                "Fields": {
                                    "ViKc": "PRS",
                                    "EmAd": "anouk@korenaar.nl",
                                    "TeNr": "+31302314456",
                                    "FuDs": "Inkoper",
                                    FREE_FIELD: "9001",
                                },
                                "Objects": [
                                    {
                                        "KnPerson": {
                                            "Element": {
                                                "Fields": {
                                                    "MatchPer": "0",
                                                    "BcCo": "30001",
                                                    "Is": "",
                                                    "LaNm": "Berg",
                                                }
                                            }
                                        }
                                    }
                                ],
                            }
                        }
                    }
                ],
            },
        ),
        ("PUT", "KnContact", {"Fields": {"CdId": int(old), "ViKc": "PRS", "Bl": True}}),
    ]
    assert moved.id != old
    assert moved.fields["company"] == new_place
    assert moved.fields["job_title"] == "Inkoper"
    assert moved.correlation == "9001"
    assert profit.contacts_of("30001") == {old: (old_place, True), moved.id: (new_place, False)}


async def test_read_of_the_old_contact_says_where_the_person_went(profit: Profit) -> None:
    old_place, new_place = profit.company("Korenaar"), profit.company("Atlas")
    old = profit.contact({**ANOUK, "company": old_place})
    moved = await profit.afas.update(CONTACT, old, {"company": new_place})
    page = await profit.afas.read(CONTACT, [old])
    assert page.moved == {old: moved.id}
    assert page.records == [moved]


async def test_the_new_contact_of_a_move_tells_the_ended_one_it_replaced(profit: Profit) -> None:
    old_place, new_place = profit.company("Korenaar"), profit.company("Atlas")
    old = profit.contact({**ANOUK, "company": old_place}, PersonId="30001")
    moved = await profit.afas.update(CONTACT, old, {"company": new_place})
    newcomer = profit.contact({**ANOUK, "company": old_place}, PersonId="30002")
    twice = profit.contact({**ANOUK, "company": old_place}, PersonId="30003")
    profit.contact({**ANOUK, "company": new_place}, PersonId="30003")
    await profit.afas.deactivate(
        CONTACT, profit.contact({**ANOUK, "company": new_place}, PersonId="30003")
    )
    found = await profit.afas.moved_here(CONTACT, [moved.id, newcomer, twice, "nonsense"])
    # a person with two active contacts could have come from either: no move is told
    assert found == {old: moved.id}
    assert await profit.afas.moved_here("customer", [moved.id]) == {}


async def test_a_blocked_contact_of_a_person_with_several_or_no_others_is_just_gone(
    profit: Profit,
) -> None:
    places = [profit.company(name) for name in ("Korenaar", "Atlas", "Zuid")]
    ended = profit.contact({**ANOUK, "company": places[0]}, PersonId="30001")
    for place in places[1:]:
        profit.contact({**ANOUK, "company": place}, PersonId="30001")
    alone = profit.contact({**ANOUK, "company": places[0]}, PersonId="30002")
    for contact in (ended, alone):
        await profit.afas.deactivate(CONTACT, contact)
    page = await profit.afas.read(CONTACT, [ended, alone])
    assert page.records == []
    assert page.moved == {}


async def test_a_move_interrupted_after_its_create_is_finished_not_repeated(
    profit: Profit,
) -> None:
    old_place, new_place = profit.company("Korenaar"), profit.company("Atlas")
    old = profit.contact({**ANOUK, "company": old_place}, PersonId="30001")
    # The connection drops as the old contact is blocked: the new one exists already.
    profit.sim.add_fault(Fault("drop", "PUT", "KnContact"))
    with pytest.raises(OutcomeUnknownError):
        await profit.afas.update(CONTACT, old, {"company": new_place})
    [new] = [c for c, (place, _) in profit.contacts_of("30001").items() if place == new_place]
    profit.writes.clear()

    moved = await profit.afas.update(CONTACT, old, {"company": new_place, "job_title": "Inkoper"})
    assert moved.id == new
    assert [(method, path) for method, path, _ in profit.writes] == [
        ("PUT", "KnContact"),  # the new contact's fields, then the old one blocked
        ("PUT", "KnContact"),
    ]
    assert profit.writes[0][2]["Fields"]["CdId"] == int(new)
    assert profit.contacts_of("30001") == {old: (old_place, True), new: (new_place, False)}


async def test_a_person_who_returns_gets_their_blocked_contact_there_back(
    profit: Profit,
) -> None:
    first_place, second_place = profit.company("Korenaar"), profit.company("Atlas")
    first = profit.contact({**ANOUK, "company": first_place}, PersonId="30001")
    second = await profit.afas.update(CONTACT, first, {"company": second_place})
    profit.writes.clear()

    back = await profit.afas.update(CONTACT, second.id, {"company": first_place})
    assert back.id == first
    assert [(method, path) for method, path, _ in profit.writes] == [
        ("PUT", "KnContact"),
        ("PUT", "KnContact"),
    ]
    assert profit.writes[0][2]["Fields"]["Bl"] is False
    assert profit.contacts_of("30001") == {
        first: (first_place, False),
        second.id: (second_place, True),
    }


async def test_a_company_cannot_be_blanked(profit: Profit) -> None:
    contact = profit.contact({**ANOUK, "company": profit.company("Korenaar")})
    with pytest.raises(RecordError, match="always at an organisation"):
        await profit.afas.update(CONTACT, contact, {"company": None})
    assert profit.writes == []


# -- the organisations of debtors and creditors ---------------------------------------------


async def test_organisations_of_reads_where_a_relation_is_now(profit: Profit) -> None:
    organisation, other = profit.company("Korenaar"), profit.company("Atlas")
    [debtor, elsewhere] = profit.sim.data.relations["customer"]
    afas: OrganisationGateway = profit.afas
    assert await afas.organisations_of("customer", [debtor, "99999"]) == {debtor: organisation}
    profit.sim.data.delete("customer", elsewhere)  # Atlas's debtor goes; Atlas stays
    profit.sim.data.merge_organisations(organisation, other)  # a user merges Korenaar in
    assert await afas.organisations_of("customer", [debtor]) == {debtor: other}


async def test_rows_read_show_their_relations_organisations_once(profit: Profit) -> None:
    organisation, other = profit.company("Korenaar"), profit.company("Atlas")
    [debtor, blocked] = profit.sim.data.relations["customer"]
    await profit.afas.deactivate("customer", blocked)
    assert profit.afas.organisations_seen("customer") == {}
    [page] = [page async for page in profit.afas.list_all("customer")]
    assert [r.id for r in page.records] == [debtor]
    seen = {debtor: organisation, blocked: other}  # a blocked one is still somewhere
    assert profit.afas.organisations_seen("customer") == seen
    assert profit.afas.organisations_seen("customer") == {}  # handed out once
    await profit.afas.read("customer", [debtor])
    assert profit.afas.organisations_seen("customer") == {debtor: organisation}
    await profit.afas.read(CONTACT, [profit.contact({**ANOUK, "company": organisation})])
    assert profit.afas.organisations_seen(CONTACT) == {}  # a contact is no company record
