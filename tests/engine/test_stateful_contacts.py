"""Contacts follow their company, under random edits on both sides, crashes and lost
responses.

A hypothesis state machine, like test_stateful.py's for companies (whose model of the
rules and faults it shares), plays users on both sides with a few companies and their
contact persons. Companies are customers entered on one side or on both (linked by the
customer cycle), or *prospects*: a HubSpot company that is not a customer, an AFAS
organisation that is no debtor. A prospect's contacts wait, until a user makes it a
customer or forever. Users create contacts at a company on one side, or the same person
on both (same e-mail, same company); edit names (with Dutch prefixes, which AFAS keeps
apart), phone and e-mail; move a contact to another company (HubSpot: its primary
company; AFAS: its organisation), a linked one to a prospect too (the pair waits); and
delete (HubSpot) or block (AFAS) a linked one. The sync phase runs the customer cycle and
then the contact cycle, with the faults of test_stateful.py, and then without faults.
The checks:

* convergence: after the fault-free cycles, a further contact cycle and a full sweep
  write nothing;
* no lost edit: every contact field holds what the model of the rules says;
* no duplicates: each person at most once per side, and every active contact at a
  linked company linked to exactly one contact on the other side;
* no contact under the wrong company: the AFAS contact of a pair is at the organisation
  of the debtor linked to the CRM contact's company;
* the contacts of prospects are not created on the other side, and wait, counted by
  reason in the state store; a pair moved to a prospect waits too, nothing written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import initialize, invariant, precondition, rule

from syncd.clock import utc_now
from syncd.engine.cycle import Connection, CycleReport, run_cycle
from syncd.gateways.memory import MemoryGateway
from syncd.mapping import EntityMapping, load_mapping
from syncd.policy import ConflictRule, DeletePolicy, FirstLink, Guards, SyncRules
from syncd.records import Side, Value
from syncd.state.store import StateStore
from tests.engine.stateful_faults import FAULTS, Crash, CrashingStore, arm
from tests.engine.stateful_machine import StoreMachine
from tests.engine.stateful_rules import ModelRecord, RulesModel, fill_created_id

T = TypeVar("T")
CONNECTION = "test"
COMPANY, CONTACT = "customer", "contact"
SHIPPED = Path(__file__).parents[2] / "mappings"
CUSTOMER_MAPPING = Path(__file__).parent / "data" / "stateful_customer.toml"
FIELDS = ("company", "first_name", "last_name", "email", "phone")
EDITABLE = ("first_name", "last_name", "email", "phone")
FIRST_NAMES = st.sampled_from(["Anouk", "Joost", "Fatima", None])
PREFIXES = st.sampled_from(["", "van ", "de ", "van der ", "in 't "])
PHONES = st.sampled_from(["+31201234567", "+31612345678", None])
NO_GUARDS = Guards(max_delete_share=1.0, max_blank_share=1.0, refuse_empty_side=False)
# A prospect's id, which no system hands out: counting down from far above what is
# numbered, a thousand apart, as a prospect made a customer numbers what follows after it.
PROSPECT_IDS = {Side.CRM: 9_500_000_000, Side.AFAS: 59_000}
NOT_LINKED = {Side.CRM: "its company is not linked", Side.AFAS: "its organisation is not linked"}


@dataclass
class Company:
    """A company in the model: its id on each side known so far, and whether it is a
    customer (synced) or a prospect (on one side only, its contacts wait)."""

    ids: dict[Side, str | None]
    customer: bool


@dataclass(frozen=True)
class Person:
    """What makes a person's values unique, so that no two people match or look alike."""

    number: int

    def last_name(self, prefix: str) -> str:
        return f"{prefix}Berg{self.number}"

    def emails(self) -> st.SearchStrategy[str]:
        return st.sampled_from([f"p{self.number}@korenaar.nl", f"p{self.number}.werk@atlas.nl"])


@dataclass
class Contact(ModelRecord):
    """A contact in the model; its ``company`` value is the model company's key (``c3``)."""

    person: Person = Person(0)


class ContactMachine(StoreMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mappings: dict[str, EntityMapping] = {
            COMPANY: load_mapping(CUSTOMER_MAPPING),
            # contacts follow suppliers too; there are none here
            "supplier": load_mapping(SHIPPED / "supplier.toml"),
            CONTACT: load_mapping(SHIPPED / "contact.toml"),
        }
        self.gateways = {
            side: MemoryGateway(side, self.mappings, page_size=3, search_lags=side is Side.CRM)
            for side in Side
        }
        self.companies: list[Company] = []
        self.contacts: list[Contact] = []
        self.numbers = {"kvk": 10_000_000, "person": 0, "prospect": 0}
        self.model = RulesModel(SyncRules(), {}, FIELDS)

    @initialize(
        conflict=st.sampled_from(list(ConflictRule)),
        blank_overwrites=st.booleans(),
        deletes=st.sampled_from(list(DeletePolicy)),
    )
    def configure(
        self, conflict: ConflictRule, blank_overwrites: bool, deletes: DeletePolicy
    ) -> None:
        rules = SyncRules(
            conflict=conflict, blank_overwrites=blank_overwrites, deletes=deletes, guards=NO_GUARDS
        )
        contact = self.mappings[CONTACT]
        first_link = {
            name: contact.field(name).first_link or FirstLink.following(conflict) for name in FIELDS
        }
        self.model = RulesModel(rules, first_link, FIELDS)
        # A few companies to start with: a customer in both systems, one in each only
        # (the customer cycle creates it in the other), and a prospect on each side.
        self.add_customer_on_both()
        for side in Side:
            self.add_customer(side)
            self.add_prospect(side)

    # --- users: companies ---------------------------------------------------------------

    def _count(self, what: str) -> int:
        self.numbers[what] += 1
        return self.numbers[what]

    def _put_company(self, side: Side, kvk: str | None, own_id: str | None = None) -> str:
        row = self.mappings[COMPANY].to_native(side, {"name": f"bedrijf {kvk}", "kvk": kvk})
        if own_id is not None:
            row[self.mappings[COMPANY].side(side).id] = own_id
        return self.gateways[side].put(COMPANY, row)

    @rule(side=st.sampled_from(list(Side)))
    def add_customer(self, side: Side) -> None:
        """A customer entered on one side: the customer cycle creates it on the other."""
        ids: dict[Side, str | None] = {side: self._put_company(side, None), side.other: None}
        self.companies.append(Company(ids, customer=True))

    def add_customer_on_both(self) -> None:
        """The same customer in both systems, linked by its KvK number."""
        kvk = str(self._count("kvk"))
        ids: dict[Side, str | None] = {side: self._put_company(side, kvk) for side in Side}
        self.companies.append(Company(ids, customer=True))

    @rule(side=st.sampled_from(list(Side)))
    def add_prospect(self, side: Side) -> None:
        """A HubSpot company that is no customer, or an AFAS organisation that is no
        debtor: not synced, so its contacts wait."""
        own_id = str(PROSPECT_IDS[side] - 1000 * self._count("prospect"))
        self.companies.append(Company({side: own_id, side.other: None}, customer=False))

    @precondition(lambda self: any(not c.customer for c in self.companies))
    @rule(data=st.data())
    def make_customer(self, data: st.DataObject) -> None:
        """A prospect becomes a customer: its contacts go at the next sync."""
        company = data.draw(st.sampled_from([c for c in self.companies if not c.customer]))
        [(side, own_id)] = [(s, i) for s, i in company.ids.items() if i is not None]
        self._put_company(side, None, own_id)
        company.customer = True

    # --- users: contacts ----------------------------------------------------------------

    def _at(self, side: Side) -> list[str]:
        """The keys of the companies a user on ``side`` can put a contact at."""
        return [f"c{i}" for i, c in enumerate(self.companies) if c.ids[side] is not None]

    def _company_id(self, side: Side, key: Value) -> str | None:
        assert key is not None
        return self.companies[int(key[1:])].ids[side]

    def _native(self, side: Side, values: dict[str, Value]) -> dict[str, object]:
        canonical = dict(values)
        if "company" in canonical:
            canonical["company"] = self._company_id(side, canonical["company"])
        return self.mappings[CONTACT].to_native(side, canonical)

    def _draw_person(self, data: st.DataObject, company: str) -> tuple[Person, dict[str, Value]]:
        person = Person(self._count("person"))
        values: dict[str, Value] = {
            "company": company,
            "first_name": data.draw(FIRST_NAMES),
            "last_name": person.last_name(data.draw(PREFIXES)),
            "email": data.draw(person.emails()),
            "phone": data.draw(PHONES),
        }
        return person, values

    @precondition(lambda self: bool(self.companies))
    @rule(data=st.data(), side=st.sampled_from(list(Side)))
    def create_contact(self, data: st.DataObject, side: Side) -> None:
        """A contact entered at a company on one side (a prospect's waits)."""
        at = self._at(side)
        if not at:
            return
        person, values = self._draw_person(data, data.draw(st.sampled_from(at)))
        record_id = self.gateways[side].put(CONTACT, self._native(side, values))
        ids: dict[Side, str | None] = {side: record_id, side.other: None}
        self.contacts.append(Contact(ids, {side: values, side.other: {}}, person=person))

    @precondition(lambda self: any(all(c.ids.values()) for c in self.companies))
    @rule(data=st.data())
    def create_contact_on_both(self, data: st.DataObject) -> None:
        """The same person at the same company in both systems: linked on the e-mail."""
        both = [k for k in self._at(Side.CRM) if k in self._at(Side.AFAS)]
        person, crm = self._draw_person(data, data.draw(st.sampled_from(both)))
        afas = {**crm, "first_name": data.draw(FIRST_NAMES), "phone": data.draw(PHONES)}
        afas["last_name"] = person.last_name(data.draw(PREFIXES))
        values = {Side.CRM: crm, Side.AFAS: afas}
        ids: dict[Side, str | None] = {
            side: self.gateways[side].put(CONTACT, self._native(side, values[side]))
            for side in Side
        }
        self.contacts.append(Contact(ids, values, person=person))

    def _editable(self, name: str) -> list[tuple[int, Side]]:
        """The contacts a user may change ``name`` of. The same person entered on both
        sides keeps the e-mail and company it is matched on until it is linked: if they
        differed, nothing would say it is one person (the names only hold it for review)."""
        return [
            (i, side)
            for i, c in enumerate(self.contacts)
            for side in Side
            if c.present(side)
            and not (name in ("email", "company") and c.base is None and c.ids[side.other])
        ]

    @precondition(lambda self: bool(self._editable("phone")))
    @rule(data=st.data(), name=st.sampled_from(EDITABLE))
    def edit(self, data: st.DataObject, name: str) -> None:
        if not self._editable(name):
            return
        index, side = data.draw(st.sampled_from(self._editable(name)))
        contact = self.contacts[index]
        strategies = {
            "first_name": FIRST_NAMES,
            "last_name": PREFIXES.map(contact.person.last_name),
            "email": st.one_of(contact.person.emails(), st.none()),
            "phone": PHONES,
        }
        self._change(contact, side, name, data.draw(strategies[name]))

    @precondition(lambda self: bool(self._editable("company")))
    @rule(data=st.data())
    def move(self, data: st.DataObject) -> None:
        """A contact moved to another company: a linked one to a prospect waits, the
        whole pair, until the prospect is made a customer (or moved back)."""
        index, side = data.draw(st.sampled_from(self._editable("company")))
        contact = self.contacts[index]
        self._change(contact, side, "company", data.draw(st.sampled_from(self._at(side))))

    def _change(self, contact: Contact, side: Side, name: str, value: Value) -> None:
        record_id = contact.ids[side]
        assert record_id is not None
        self.gateways[side].edit(CONTACT, record_id, self._native(side, {name: value}))
        contact.values[side][name] = value

    @precondition(lambda self: any(c.base is not None and not c.tombstone for c in self.contacts))
    @rule(data=st.data(), side=st.sampled_from(list(Side)))
    def end(self, data: st.DataObject, side: Side) -> None:
        """A linked contact deleted in HubSpot, or blocked in AFAS (never deleted there)."""
        linked = [c for c in self.contacts if c.base is not None and not c.tombstone]
        contact = data.draw(st.sampled_from(linked))
        record_id = contact.ids[side]
        if not contact.present(side) or record_id is None:
            return
        gateway = self.gateways[side]
        if side is Side.CRM:
            gateway.remove(CONTACT, record_id)
        else:
            gateway.edit(CONTACT, record_id, {gateway.inactive_field(CONTACT): True})
        contact.deleted.add(side)

    @rule()
    def search_catches_up(self) -> None:
        """The CRM's search index shows every record as it is now."""
        self.gateways[Side.CRM].catch_up_search()

    # --- the daemon -----------------------------------------------------------------------

    def _cycle(
        self, store: StateStore | CrashingStore, entity: str, *, full: bool
    ) -> CycleReport | None:
        connection = Connection(
            CONNECTION,
            self.gateways,
            store,  # type: ignore[arg-type]
            self.mappings,
            self.model.rules,
        )
        try:
            return self.run(run_cycle(connection, entity, full=full))
        except Crash:
            return None  # the process died; the next cycle is a restart on the same state

    @rule(
        faults=st.lists(FAULTS, max_size=3),
        full_first=st.booleans(),
        sweep_after_faults=st.booleans(),
    )
    def sync(
        self, faults: list[tuple[str, Side, str, int]], full_first: bool, sweep_after_faults: bool
    ) -> None:
        for kind, side, operation, n in faults:
            arm(self.gateways[side], kind, operation)
            store = CrashingStore(self.store, n if kind == "crash_commit" else None)
            self._cycle(store, COMPANY, full=full_first)
            self._cycle(store, CONTACT, full=full_first)
            for gateway in self.gateways.values():
                gateway.clear_faults()
        if not sweep_after_faults:
            # With the search caught up, change listings show every edit, and the
            # contacts that waited for a company linked now go by their link mark; only
            # what users deleted or blocked needs the sweep that follows.
            self.gateways[Side.CRM].catch_up_search()
            assert self._cycle(self.store, COMPANY, full=False) is not None
            assert self._cycle(self.store, CONTACT, full=False) is not None
        assert self._cycle(self.store, COMPANY, full=True) is not None
        self._time_passes()
        reports = [self._cycle(self.store, CONTACT, full=full) for full in (True, False, True)]
        _, second, third = reports
        assert None not in reports
        assert second is not None
        assert third is not None
        assert second.plan.writes == 0, f"echo not suppressed: {second.plan.actions}"
        assert third.plan.writes == 0, f"no fixed point: {third.plan.actions}"
        self._learn_company_ids()
        self._expect()
        ContactChecks(self).check()

    def _time_passes(self) -> None:
        """Every quarantined record is due again, as after its backoff, so that a refusal
        in the faulty phase is retried before convergence is checked. (It was for a move to
        a company whose link a fault held up; such a pair now waits, not in quarantine,
        and the link mark frees it.)"""
        store = self.store

        async def all_due() -> None:
            held = await store.quarantined(CONNECTION)
            async with store.transaction() as tx:
                for entry in held:
                    await tx.retry_now(
                        CONNECTION, entry.entity, entry.side, entry.record_id, utc_now()
                    )

        self.run(all_due())

    # --- the model ------------------------------------------------------------------------

    def active_links(self, entity: str) -> set[tuple[str, str]]:
        links = self.run(self.store.get_links(CONNECTION, entity))
        return {(k.crm_id, k.afas_id) for k in links if k.detached_at is None}

    def _learn_company_ids(self) -> None:
        """The ids the customer cycle gave the customers it created on the other side."""
        links = self.active_links(COMPANY)
        for company in self.companies:
            if company.customer:
                fill_created_id(company.ids, links)

    def waits(self, contact: Contact) -> bool:
        """Whether ``contact`` waits for its company (it is on one side only)."""
        side = Side.CRM if contact.ids[Side.CRM] is not None else Side.AFAS
        key = contact.values[side]["company"]
        assert key is not None
        return contact.base is None and not self.companies[int(key[1:])].customer

    def held(self, contact: Contact) -> bool:
        """Whether ``contact`` is a linked pair held while a side is at a prospect (moved
        there: a pair is linked only at a customer). Nothing is written for it."""
        if contact.base is None or contact.tombstone or contact.deleted:
            return False
        keys = [contact.values[side]["company"] for side in Side]
        return any(not self.companies[int(str(key)[1:])].customer for key in keys)

    def _expect(self) -> None:
        """Advance the model: what every contact must look like after the sync phase."""
        for contact in self.contacts:
            if not self.waits(contact) and not self.held(contact):
                self.model.expect(contact, lambda c, name: self.actual(Side.CRM, c).get(name))

    def actual(self, side: Side, contact: ModelRecord) -> dict[str, Value]:
        """The contact's values on ``side`` now, its company as the model's key."""
        record_id = contact.ids[side]
        assert record_id is not None
        row = self.gateways[side].row(CONTACT, record_id)
        values = self.mappings[CONTACT].to_canonical(side, row)
        keys = [f"c{i}" for i, c in enumerate(self.companies) if c.ids[side] == values["company"]]
        assert len(keys) == 1, f"{side} contact {record_id} at {values['company']}: {keys}"
        return {name: keys[0] if name == "company" else values[name] for name in FIELDS}

    @invariant()
    def model_ids_are_unique(self) -> None:
        for side in Side:
            for records in (self.companies, self.contacts):
                ids = [r.ids[side] for r in records if r.ids[side] is not None]
                assert len(ids) == len(set(ids))


class ContactChecks:
    """What must hold after a fault-free sync phase, in the systems and the store."""

    def __init__(self, machine: ContactMachine) -> None:
        self.machine = machine
        self.gateways = machine.gateways
        self.contacts = machine.contacts
        self.links = machine.active_links(CONTACT)

    def check(self) -> None:
        for contact in self.contacts:
            if not self.machine.waits(contact):
                fill_created_id(contact.ids, self.links)
        self._values()
        self._each_linked_once()
        self._no_duplicates()
        self._under_the_right_company()
        self._waiting()

    def _values(self) -> None:
        """No edit lost: each side holds what the model of the rules says."""
        for contact in self.contacts:
            for side in Side:
                record_id = contact.ids[side]
                if not contact.stored(side) or record_id is None:
                    continue
                active = self.gateways[side].is_active(CONTACT, record_id)
                assert active == contact.present(side), f"{side} contact {record_id} active"
                actual = self.machine.actual(side, contact)
                expected = {name: contact.values[side].get(name) for name in FIELDS}
                assert actual == expected, f"{side} contact {record_id}: {actual} != {expected}"

    def _each_linked_once(self) -> None:
        """A contact at a customer is on both sides, linked; a waiting one is not."""
        for contact in self.contacts:
            pair = (contact.ids[Side.CRM], contact.ids[Side.AFAS])
            if self.machine.waits(contact):
                assert None in pair, f"a waiting contact was created: {pair}"
                assert not {i for link in self.links for i in link} & set(pair)
            elif all(contact.present(side) for side in Side):
                assert pair in self.links, f"contacts {pair} are not linked"
        for index in (0, 1):
            ids = [link[index] for link in self.links]
            assert len(ids) == len(set(ids)), "a contact is linked twice"

    def _no_duplicates(self) -> None:
        for side in Side:
            gateway = self.gateways[side]
            id_field = self.machine.mappings[CONTACT].side(side).id
            active = [
                row
                for row in gateway.rows(CONTACT)
                if gateway.is_active(CONTACT, str(row[id_field]))
            ]
            present = sum(1 for c in self.contacts if c.present(side))
            assert len(active) == present, f"{side} has {len(active)} contacts, not {present}"

    def _under_the_right_company(self) -> None:
        """A pair agreeing on its company (not in a conflict a person settles): the AFAS
        contact is at the organisation of the debtor linked to the CRM contact's company."""
        debtor_of = dict(self.machine.active_links(COMPANY))
        afas = self.gateways[Side.AFAS]
        for contact in self.contacts:
            crm_id, afas_id = contact.ids[Side.CRM], contact.ids[Side.AFAS]
            agreed = contact.values[Side.CRM].get("company") == contact.values[Side.AFAS].get(
                "company"
            )
            if not agreed or not all(contact.present(side) for side in Side):
                continue
            assert crm_id is not None
            assert afas_id is not None
            company = str(self.gateways[Side.CRM].row(CONTACT, crm_id)["primary_company"])
            debtor = debtor_of[company]
            organisation = self.machine.run(afas.organisations_of(COMPANY, [debtor]))[debtor]
            assert afas.row(CONTACT, afas_id)["OrganisationId"] == organisation

    def _waiting(self) -> None:
        """The contacts of prospects wait, and so do pairs moved to one, counted by
        reason; no other contact does."""
        reasons = self.machine.run(self.machine.store.waiting_reasons(CONNECTION, CONTACT))
        for side in Side:
            expected = sum(1 for c in self.contacts if self.machine.waits(c) and c.present(side))
            counted = sum(n for reason, n in reasons.items() if NOT_LINKED[side] in reason)
            assert counted == expected, f"{side}: {counted} wait, not {expected}: {reasons}"
        held = sum(1 for c in self.contacts if self.machine.held(c))
        moved = sum(n for reason, n in reasons.items() if reason.startswith("moved to "))
        assert moved == held, f"{moved} pairs held for a move, not {held}: {reasons}"
        waiting = sum(1 for c in self.contacts if self.machine.waits(c))
        assert sum(reasons.values()) == waiting + held, reasons


# SYNCD_STATEFUL_EXAMPLES runs a longer campaign than CI's.
ContactMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("SYNCD_STATEFUL_EXAMPLES", "30")),
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestContacts = pytest.mark.slow(ContactMachine.TestCase)
