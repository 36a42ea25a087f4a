"""Contacts follow their company: matched within it, created under the linked one, and
waiting (visibly) while their company is not linked.

The systems are the shipped fixture: five contacts a side, three of them on both sides
with one work e-mail, each at a company that the customer and supplier cycles link.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import timedelta

import pytest

from syncd.engine.cycle import Connection, run_cycle
from syncd.engine.review import match_plan
from syncd.engine.speed.fast import FAST
from syncd.engine.speed.plain import PLAIN
from syncd.engine.speed.seam import SpeedStrategy
from syncd.errors import TakenError
from syncd.gateways.fixture import load_fixture
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import KNOWN_ENTITIES, load_mappings
from syncd.policy import SyncRules
from syncd.records import Page, Record, Side, Value
from syncd.state.store import StateStore
from syncd.status.views import entity_health, health_as_text
from tests.gateways.contract.gateway_contract import SHIPPED_FIXTURE, SHIPPED_MAPPINGS, collect

MAPPINGS = load_mappings(SHIPPED_MAPPINGS, KNOWN_ENTITIES)
CRM, AFAS = Side.CRM, Side.AFAS


@pytest.fixture
def systems() -> tuple[MemoryGateway, MemoryGateway]:
    return load_fixture(SHIPPED_FIXTURE, MAPPINGS)


def _connection(store: StateStore, crm: MemoryGateway, afas: MemoryGateway) -> Connection:
    return Connection("c", {CRM: crm, AFAS: afas}, store, MAPPINGS, SyncRules())


async def _contacts(gateway: MemoryGateway) -> dict[str, Record]:
    _, records, _ = await collect(gateway.list_all("contact"))
    return {str(r.fields["email"]): r for r in records}


async def _sync_companies(conn: Connection) -> None:
    for entity in ("customer", "supplier"):
        await run_cycle(conn, entity)


async def test_contacts_match_on_e_mail_within_their_company_and_the_rest_are_created_under_it(
    store: StateStore, systems: tuple[MemoryGateway, MemoryGateway]
) -> None:
    crm, afas = systems
    conn = _connection(store, crm, afas)
    await _sync_companies(conn)
    report = await run_cycle(conn, "contact")

    assert report.counts["linked"] == 3  # Anouk, Fatima, Pieter: same e-mail, same company
    links = await store.get_links("c", "contact")
    crm_contacts, afas_contacts = await _contacts(crm), await _contacts(afas)
    assert len(links) == len(crm_contacts) == len(afas_contacts) == 7  # none twice
    companies = {
        link.crm_id: link.afas_id
        for entity in ("customer", "supplier")
        for link in await store.get_links("c", entity)
    }
    for email, person in crm_contacts.items():
        twin = afas_contacts[email]
        # the AFAS contact is at the organisation of the company the CRM contact is at
        assert companies[str(person.fields["company"])] == twin.fields["company"]
    joost = afas_contacts["joost@korenaar.nl"]
    assert (joost.fields["first_name"], joost.fields["last_name"]) == ("Joost", "de Vries")
    assert afas.row("contact", joost.id)["Prefix"] == "de"
    hendrik = crm_contacts["h.vandijk@kromme-hout.nl"]
    assert crm.row("contact", hendrik.id)["lastname"] == "van Dijk"

    again = await run_cycle(conn, "contact", full=True)
    assert +again.counts == {}  # converged: nothing to write, nothing held


async def test_contacts_of_companies_not_linked_wait_visibly_and_go_once_linked(
    store: StateStore, systems: tuple[MemoryGateway, MemoryGateway]
) -> None:
    crm, afas = systems
    conn = _connection(store, crm, afas)
    first = await run_cycle(conn, "contact")  # before any company is linked

    assert await store.get_links("c", "contact") == []
    assert len(await _contacts(crm)) == len(await _contacts(afas)) == 5  # nothing created
    waiting = await store.waiting_reasons("c", "contact")
    assert sum(waiting.values()) == 10
    assert any("not a synced customer or supplier" in reason for reason in waiting)
    assert any("no synced debtor or creditor" in reason for reason in waiting)
    assert first.counts["created_afas"] == first.counts["created_crm"] == 0
    shown = health_as_text([await entity_health(store, "c", "contact")])
    assert "5 wait for their company: its company is not linked" in shown
    assert "5 wait for their company: its organisation is not linked" in shown

    await _sync_companies(conn)
    await run_cycle(conn, "contact")  # an incremental cycle: the new links free them

    assert len(await store.get_links("c", "contact")) == 7
    assert sum((await store.waiting_reasons("c", "contact")).values()) == 0
    assert "wait for their company" not in health_as_text(
        [await entity_health(store, "c", "contact")]
    )


async def test_a_contact_edit_goes_to_the_other_side_and_a_company_change_moves_it(
    store: StateStore, systems: tuple[MemoryGateway, MemoryGateway]
) -> None:
    crm, afas = systems
    conn = _connection(store, crm, afas)
    await _sync_companies(conn)
    await run_cycle(conn, "contact")
    anouk = (await _contacts(crm))["anouk@korenaar.nl"]
    crm.edit("contact", anouk.id, {"mobilephone": "06-11112222", "primary_company": "9000000105"})

    await run_cycle(conn, "contact")

    moved = (await _contacts(afas))["anouk@korenaar.nl"]
    assert moved.fields["mobile"] == "+31611112222"
    assert moved.fields["company"] == "10005"  # Drukkerij Atlas's organisation


class _UniqueEmails(MemoryGateway):
    """A CRM that keeps contacts' e-mails unique (a taken one: TakenError, as HubSpot's
    409) and whose search has not shown the contacts in ``unseen`` yet."""

    unseen: set[str]

    async def create(self, entity: str, fields: Mapping[str, Value], correlation: str) -> Record:
        if entity == "contact":
            holder = next(
                (r for r in self.rows(entity) if r.get("email") == fields.get("email")), None
            )
            if holder is not None:
                existing = str(holder["hs_object_id"])
                raise TakenError(
                    f"Contact already exists. Existing ID: {existing}",
                    existing_id=existing,
                    field="email",
                )
        return await super().create(entity, fields, correlation)

    async def list_all(self, entity: str) -> AsyncIterator[Page]:
        async for page in super().list_all(entity):
            yield dataclasses.replace(
                page, records=[r for r in page.records if r.id not in self.unseen]
            )

    async def find_by_values(self, entity: str, field: str, values: Sequence[str]) -> list[Record]:
        found = await super().find_by_values(entity, field, values)
        return [r for r in found if r.id not in self.unseen]


def _unique_emails_crm() -> _UniqueEmails:
    crm = _UniqueEmails(CRM, MAPPINGS)
    loaded, _ = load_fixture(SHIPPED_FIXTURE, MAPPINGS)
    for entity in KNOWN_ENTITIES:
        for row in loaded.rows(entity):
            crm.put(entity, row)
    crm.unseen = set()
    return crm


async def _crm_company_of(store: StateStore, afas_id: str) -> str:
    [link] = [k for k in await store.get_links("c", "customer") if k.afas_id == afas_id]
    return link.crm_id


@pytest.mark.parametrize("same_company", [True, False])
async def test_a_create_refused_for_a_taken_e_mail_adopts_that_contact_only_at_the_same_company(
    store: StateStore, systems: tuple[MemoryGateway, MemoryGateway], same_company: bool
) -> None:
    _, afas = systems
    crm = _unique_emails_crm()
    conn = _connection(store, crm, afas)
    await _sync_companies(conn)
    kromme_hout = await _crm_company_of(store, "10003")  # Hendrik van Dijk's, AFAS only
    company = kromme_hout if same_company else "9000000101"
    hendrik = crm.put(
        "contact",
        {
            "firstname": "Hendrik",
            "lastname": "van Dijk",
            "email": "h.vandijk@kromme-hout.nl",
            "primary_company": company,
        },
    )
    crm.unseen = {hendrik}  # just created: HubSpot's search does not show it yet

    report = await run_cycle(conn, "contact")

    hendrik_links = [k for k in await store.get_links("c", "contact") if k.afas_id == "20003"]
    held = await store.quarantined("c", "contact")
    if same_company:
        assert report.counts["adopted"] == 1
        assert [k.crm_id for k in hendrik_links] == [hendrik]
        assert held == []
    else:
        assert hendrik_links == []
        [entry] = held
        assert (entry.side, entry.record_id) == (AFAS, "20003")
        assert "another company" in entry.reason
    assert sum(r.get("email") == "h.vandijk@kromme-hout.nl" for r in crm.rows("contact")) == 1


class _LinkedWhileListing(MemoryGateway):
    """An AFAS whose contacts listing ends as the company lanes link the companies (they
    run beside the contact lane): ``meanwhile`` runs once, after the last page."""

    meanwhile: Callable[[], Awaitable[None]] | None = None

    async def list_all(self, entity: str) -> AsyncIterator[Page]:
        async for page in super().list_all(entity):
            yield page
        if entity == "contact" and self.meanwhile is not None:
            hook, self.meanwhile = self.meanwhile, None
            await hook()


async def test_companies_linked_during_a_contact_cycle_wait_for_the_next_one_on_both_sides(
    store: StateStore,
) -> None:
    crm, loaded = load_fixture(SHIPPED_FIXTURE, MAPPINGS)
    afas = _LinkedWhileListing(AFAS, MAPPINGS)
    for entity in KNOWN_ENTITIES:
        for row in loaded.rows(entity):
            afas.put(entity, row)
    conn = _connection(store, crm, afas)
    afas.meanwhile = lambda: _sync_companies(conn)

    await run_cycle(conn, "contact")  # its AFAS side read before the links, its CRM side after
    await run_cycle(conn, "contact")

    # had the CRM side seen the new links and the AFAS side not, the people on both
    # sides would not have matched and would now be in AFAS twice
    assert len(await _contacts(afas)) == len(afas.rows("contact")) == 7
    assert len(await store.get_links("c", "contact")) == 7


async def test_the_match_plan_proposes_people_by_name_within_their_company_only(
    store: StateStore, systems: tuple[MemoryGateway, MemoryGateway]
) -> None:
    crm, afas = systems
    conn = _connection(store, crm, afas)
    await _sync_companies(conn)
    anouk = (await _contacts(crm))["anouk@korenaar.nl"]
    crm.edit("contact", anouk.id, {"email": "a.vanderberg@korenaar.nl"})  # e-mails differ now
    # a namesake at another company is no candidate
    afas.put(
        "contact",
        {
            "OrganisationId": "10005",
            "FirstName": "Anouk",
            "Prefix": "van der",
            "LastName": "Berg",
            "Email": "anouk@drukkerij-atlas.nl",
        },
    )

    proposals = [p for p in await match_plan(conn, "contact") if p.crm.id == anouk.id]

    assert [(p.kind, p.afas.id) for p in proposals] == [("review", "20001")]


def _new_customer_on_both_sides(crm: MemoryGateway, afas: MemoryGateway) -> dict[Side, str]:
    """A customer in both systems (same KvK number) that no customer cycle linked yet;
    in AFAS, the debtor's id is its organisation's number."""
    values: dict[str, Value] = {"name": "Lijstenmakerij Noord", "kvk": "41234567"}
    return {
        side: gateway.put("customer", MAPPINGS["customer"].to_native(side, values))
        for side, gateway in ((CRM, crm), (AFAS, afas))
    }


@pytest.mark.parametrize("speed", [PLAIN, FAST], ids=["plain", "fast"])
@pytest.mark.parametrize("side", [CRM, AFAS], ids=["moved-in-hubspot", "moved-in-afas"])
async def test_a_move_to_a_company_not_linked_waits_visibly_and_goes_once_it_is_linked(
    store: StateStore,
    systems: tuple[MemoryGateway, MemoryGateway],
    side: Side,
    speed: SpeedStrategy,
) -> None:
    crm, afas = systems
    # no overlap window: a later cycle lists Anouk again only if she changes again
    conn = dataclasses.replace(_connection(store, crm, afas), speed=speed, overlap=timedelta(0))
    await _sync_companies(conn)
    await run_cycle(conn, "contact")
    people = {s: await _contacts(g) for s, g in ((CRM, crm), (AFAS, afas))}
    new_company = _new_customer_on_both_sides(crm, afas)
    anouk = people[side]["anouk@korenaar.nl"]
    fatima = people[side]["f.elamrani@vanderlinden.nl"]
    users = crm if side is CRM else afas
    moved = {"company": new_company[side], "job_title": "Filiaalhoofd"}  # a new job
    users.edit("contact", anouk.id, MAPPINGS["contact"].to_native(side, moved))
    # edited last: the next change listing starts after Anouk's move
    users.edit(
        "contact", fatima.id, MAPPINGS["contact"].to_native(side, {"job_title": "Directeur"})
    )

    report = await run_cycle(conn, "contact")

    assert await store.quarantined("c", "contact") == []
    assert report.counts["quarantined"] == 0
    where = "CRM company " if side is CRM else "AFAS organisation "
    reason = f"moved to {where}{new_company[side]}, not linked yet"
    assert await store.waiting_reasons("c", "contact") == {reason: 1}
    shown = health_as_text([await entity_health(store, "c", "contact")])
    assert f"1 wait for their company: {reason}" in shown
    twins = await _contacts(afas if side is CRM else crm)
    assert twins["anouk@korenaar.nl"] == people[side.other]["anouk@korenaar.nl"]  # untouched
    assert twins["f.elamrani@vanderlinden.nl"].fields["job_title"] == "Directeur"  # goes

    await _sync_companies(conn)  # the new customer is linked
    await run_cycle(conn, "contact")  # incremental: Anouk is no change; the link frees her

    twin = (await _contacts(afas if side is CRM else crm))["anouk@korenaar.nl"]
    assert twin.fields["company"] == new_company[side.other]
    assert twin.fields["job_title"] == "Filiaalhoofd"  # her other change went with the move
    assert sum((await store.waiting_reasons("c", "contact")).values()) == 0
    assert await store.quarantined("c", "contact") == []
    again = await run_cycle(conn, "contact", full=True)
    assert +again.counts == {}


class _MovedWhileReading(MemoryGateway):
    """An AFAS where a user moves contact ``moving[0]`` to organisation ``moving[1]`` just
    as syncd first reads it by id."""

    moving: tuple[str, str] | None = None

    async def read(self, entity: str, ids: Sequence[str]) -> Page:
        if entity == "contact" and self.moving is not None and self.moving[0] in ids:
            (record_id, organisation), self.moving = self.moving, None
            self.edit("contact", record_id, {"OrganisationId": organisation})
        return await super().read(entity, ids)


async def test_a_move_found_only_by_the_read_before_writing_holds_the_pair_too(
    store: StateStore,
) -> None:
    crm, loaded = load_fixture(SHIPPED_FIXTURE, MAPPINGS)
    afas = _MovedWhileReading(AFAS, MAPPINGS)
    for entity in KNOWN_ENTITIES:
        for row in loaded.rows(entity):
            afas.put(entity, row)
    conn = dataclasses.replace(_connection(store, crm, afas), speed=PLAIN)
    await _sync_companies(conn)
    await run_cycle(conn, "contact")
    fatima = (await _contacts(crm))["f.elamrani@vanderlinden.nl"]
    crm.edit("contact", fatima.id, {"jobtitle": "Directeur"})
    # changed on both sides, so both are listed: the first read by id is the one before
    # writing, and the move is found there
    afas.edit("contact", "20002", {"Phone": "+31 40 2448121"})
    afas.moving = ("20002", "10006")  # De Spaak: its debtor is blocked, linked to nothing

    await run_cycle(conn, "contact")

    assert await store.quarantined("c", "contact") == []
    reasons = await store.waiting_reasons("c", "contact")
    assert reasons == {"moved to AFAS organisation 10006, not linked yet": 1}
    assert afas.row("contact", "20002")["Function"] == "Projectleider"  # nothing written
    assert crm.row("contact", fatima.id)["phone"] is None
