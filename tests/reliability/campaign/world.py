"""Both simulated systems, the companies in them, the users who edit them, and the checks.

A :class:`World` is one seeded run's pair of simulators: seeded with generated companies
spread over the sides as a first run finds them, edited by users through the simulators'
own user APIs (a HubSpot user's edit, a Profit user's edit, a company created by hand),
and finally read back whole to check what syncd left behind. A company's true identity
is its KvK number, which no edit touches. With the contact mapping, the companies' people
are seeded too (:mod:`~tests.reliability.campaign.people`), users edit them as well, and
a contact's identity is its work e-mail.
"""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from syncd.mapping import EntityMapping
from syncd.records import Side, Value
from syncd.sim.afas import AfasSimulator
from syncd.sim.afas import Fault as AfasFault
from syncd.sim.afas import SimOptions as AfasOptions
from syncd.sim.companies import Company, companies
from syncd.sim.demo import seed_simulators
from syncd.sim.hubspot import Fault as HubSpotFault
from syncd.sim.hubspot import HubSpotSimulator, SimConfig
from syncd.state.rows import Conflict, Link
from tests.reliability.campaign.contact_checks import read_contacts
from tests.reliability.campaign.people import (
    CONTACT,
    CONTACT_EDITABLE,
    Person,
    contact_value,
    seats_of,
    seed_people,
    share_organisations,
)
from tests.reliability.campaign.snapshot import SideRecord, Snapshot

if TYPE_CHECKING:
    from tests.reliability.campaign.first_links import FirstLinks

# Seconds after which the simulated Profit stops a request (the real one: 900); the
# campaigns' AFAS gateways are told the same, so a write cut off waits no longer.
PROFIT_LIMIT = 2.0

ENTITIES = ("customer", "supplier")
EDITABLE = ("city", "street", "website")
"""Fields users edit: free text on both sides, mapped the same way for both entities."""
ROLE_PROPERTY = "afas_roles"
KVK = "kvk"


@dataclass(frozen=True)
class Edit:
    """A unique value a user wrote to one field of one company, in the order written."""

    seq: int
    side: Side
    kvk: str  # the company's KvK number; for a contact (entity "contact"), its e-mail
    field: str
    value: str
    entity: str | None = None  # the AFAS table edited; a HubSpot company holds every role
    at: datetime = dataclasses.field(default_factory=lambda: datetime.now(UTC))


class World:
    """Two simulators with generated companies, and a log of every user edit."""

    def __init__(
        self,
        mappings: Mapping[str, EntityMapping],
        count: int,
        seed: int,
        *,
        search_lag: float = 0.0,
    ) -> None:
        self.mappings = mappings
        self.seed = seed
        self.rng = random.Random(seed)
        self.afas = AfasSimulator(options=AfasOptions(command_timeout=PROFIT_LIMIT))
        self.hubspot = HubSpotSimulator(config=SimConfig(search_lag=search_lag))
        seed_simulators(self.afas, self.hubspot, mappings, count, seed=seed)
        self.entities = ENTITIES + ((CONTACT,) if CONTACT in mappings else ())
        self.people: list[Person] = []
        if CONTACT in mappings:
            share_organisations(self.afas, self.snapshot())
            seats = seats_of(self.afas, self.snapshot())
            self.people = seed_people(self.afas, self.hubspot, mappings[CONTACT], seats, seed)
        self.edits: list[Edit] = []
        self.operations = 0
        # What each record held before any user edit: a first link may take it.
        self.origins: dict[tuple[Side, str, str], dict[str, Value]] = {}
        for (side, entity), held in self.snapshot().records.items():
            self.origins.update({(side, entity, kvk): h[0].fields for kvk, h in held.items()})
        taken = {kvk for _, _, kvk in self.origins}
        spare = companies(count + 50, seed=seed + 7919)
        self._spare = [c for c in spare if c.kvk not in taken]

    # -- users -------------------------------------------------------------------------

    def user_edit(self) -> None:
        """A user somewhere edits one field of one company (or, a third of the time,
        of one contact) to a value never seen before."""
        side = self.rng.choice(list(Side))
        if self.people and self.rng.random() < 1 / 3:
            self.contact_edit(side)
            return
        name = self.rng.choice(EDITABLE)
        if side is Side.CRM:
            target = self._crm_target()
            if target is not None:
                company_id, kvk = target
                value = self._value(name)
                self.hubspot.edit(company_id, {self._native(Side.CRM, "customer", name): value})
                self._log(Side.CRM, kvk, name, value)
        else:
            entity = self.rng.choice(ENTITIES)
            target = self._afas_target(entity)
            if target is not None:
                number, kvk = target
                value = self._value(name)
                self.afas.edit(entity, number, {self._native(Side.AFAS, entity, name): value})
                self._log(Side.AFAS, kvk, name, value, entity)

    def users(self, edits: int, creates: int) -> None:
        """A round of users at work: ``edits`` field edits and ``creates`` new companies."""
        for _ in range(edits):
            self.user_edit()
        for _ in range(creates):
            self.user_create()

    def user_create(self) -> None:
        """A user creates a new company by hand: in HubSpot, in Profit, or in both."""
        if not self._spare:
            return
        company = self._spare.pop()
        entity = self.rng.choice(ENTITIES)
        where = self.rng.choice(("crm", "afas", "both"))
        mapping = self.mappings[entity]
        if where in ("crm", "both"):
            properties = self._crm_properties(company, entity)
            self.hubspot.seed(properties)
            self.origins[(Side.CRM, entity, company.kvk)] = mapping.to_canonical(
                Side.CRM, properties
            )
        if where in ("afas", "both"):
            mapped = {f.name for f in mapping.fields}
            fields = {k: v for k, v in company.fields.items() if k in mapped}
            row = mapping.to_native(Side.AFAS, fields)
            self.afas.seed({entity: [row]})
            self.origins[(Side.AFAS, entity, company.kvk)] = mapping.to_canonical(Side.AFAS, row)
        self.operations += 1

    def page_edit(self, side: Side) -> tuple[object, Edit] | None:
        """A user edit armed to land in the middle of one of syncd's listings.

        Returns the simulator fault and the edit it makes once it fires, or None when
        there is nothing to edit.
        """
        name = self.rng.choice(EDITABLE)
        skip = self.rng.choice((0, 1, 1, 2))
        if side is Side.CRM:
            target = self._crm_target()
            if target is None:
                return None
            value = self._value(name)
            properties = {self._native(Side.CRM, "customer", name): value}
            fault: object = HubSpotFault(
                method="POST",
                path="/search",
                skip=skip,
                edit={"id": target[0], "properties": properties},
            )
            return fault, Edit(0, side, target[1], name, value)
        entity = self.rng.choice(ENTITIES)
        afas_target = self._afas_target(entity)
        if afas_target is None:
            return None
        value = self._value(name)
        modified = self.mappings[entity].afas.modified
        fault = AfasFault(
            kind="edit",
            method="GET",
            connector=self.mappings[entity].afas.options["get_connector"],
            query=f"orderbyfieldids={modified}",
            skip=skip,
            entity=entity,
            record=afas_target[0],
            fields={self._native(Side.AFAS, entity, name): value},
        )
        return fault, Edit(0, side, afas_target[1], name, value, entity)

    def log_fired_page_edit(self, edit: Edit) -> None:
        """A page edit's fault fired: the edit happened in the listing it was armed for,
        at the earliest when it was armed (its time)."""
        self._log(edit.side, edit.kvk, edit.field, edit.value, edit.entity, edit.at)

    def contact_edit(self, side: Side) -> None:
        """A user edits one field of one contact on ``side`` to a value never seen before."""
        name = self.rng.choice(CONTACT_EDITABLE)
        mapping = self.mappings[CONTACT]
        native = mapping.native_name(side, name)
        value = contact_value(name, self.seed, len(self.edits) + 1)
        held = [
            (r.record_id, email)
            for email, rs in self.snapshot().of(side, CONTACT).items()
            for r in rs
        ]
        if not held:
            return
        record_id, email = self.rng.choice(sorted(held))
        if side is Side.CRM:
            self.hubspot.edit_contact(record_id, {native: value})
        else:
            self.afas.edit(CONTACT, record_id, {native: value})
        self._log(side, email, name, value, CONTACT)

    # -- reading both sides whole ------------------------------------------------------

    def snapshot(self) -> Snapshot:
        found = Snapshot()
        for entity in ENTITIES:
            mapping = self.mappings[entity]
            crm, afas = found.of(Side.CRM, entity), found.of(Side.AFAS, entity)
            for company in self.hubspot.portal.live():
                properties = company.properties
                if entity not in (properties.get(ROLE_PROPERTY) or "").split(";"):
                    continue
                record = SideRecord(
                    Side.CRM, entity, company.id, mapping.to_canonical(Side.CRM, properties)
                )
                crm[str(record.fields[KVK])].append(record)
            for row in self.afas.rows(entity):
                if any(row.get(flag) for flag in mapping.afas.inactive):
                    continue
                record_id = str(row[mapping.afas.id])
                fields = mapping.to_canonical(Side.AFAS, row)
                record = SideRecord(Side.AFAS, entity, record_id, fields)
                afas[str(record.fields[KVK])].append(record)
        if CONTACT in self.mappings:
            read_contacts(self.afas, self.hubspot, self.mappings[CONTACT], found)
        return found

    # -- helpers -----------------------------------------------------------------------

    def _crm_target(self) -> tuple[str, str] | None:
        live = [c for c in self.hubspot.portal.live() if c.properties.get("kvk_number")]
        if not live:
            return None
        company = self.rng.choice(live)
        return company.id, str(company.properties["kvk_number"])

    def _afas_target(self, entity: str) -> tuple[str, str] | None:
        mapping = self.mappings[entity]
        kvk_field, flags = mapping.native_name(Side.AFAS, KVK), mapping.afas.inactive
        rows = [
            r for r in self.afas.rows(entity) if r.get(kvk_field) and not any(map(r.get, flags))
        ]
        if not rows:
            return None
        row = self.rng.choice(rows)
        return str(row[mapping.afas.id]), str(mapping.field(KVK).read(Side.AFAS, row[kvk_field]))

    def _value(self, name: str) -> str:
        n = len(self.edits) + 1
        return {
            "city": f"Plaats {self.seed}-{n}",
            "street": f"Straat {self.seed}-{n}",
            "website": f"https://w{self.seed}-{n}.example.nl",
        }[name]

    def _native(self, side: Side, entity: str, name: str) -> str:
        return self.mappings[entity].native_name(side, name)

    def _log(
        self,
        side: Side,
        kvk: str,
        name: str,
        value: str,
        entity: str | None = None,
        at: datetime | None = None,
    ) -> None:
        edit = Edit(len(self.edits) + 1, side, kvk, name, value, entity)
        self.edits.append(edit if at is None else dataclasses.replace(edit, at=at))
        self.operations += 1

    def _crm_properties(self, company: Company, entity: str) -> dict[str, str | None]:
        mapping = self.mappings[entity]
        mapped = {f.name for f in mapping.fields}
        native = mapping.to_native(
            Side.CRM, {k: v for k, v in company.fields.items() if k in mapped}
        )
        properties = {k: None if v is None else str(v) for k, v in native.items()}
        properties[ROLE_PROPERTY] = entity
        return properties


# -- the checks ----------------------------------------------------------------------------


def duplicates(snapshot: Snapshot) -> list[str]:
    """Companies found more than once on a side (HubSpot: once in all; AFAS: per table)."""
    found: list[str] = []
    crm_ids: dict[str, set[str]] = defaultdict(set)
    for (side, entity), held in snapshot.records.items():
        if entity not in ENTITIES:
            continue  # contacts: contact_checks.contact_duplicates
        for kvk, records in held.items():
            if side is Side.CRM:
                crm_ids[kvk].update(h.record_id for h in records)
            elif len(records) > 1:
                found.append(f"KvK {kvk} is {len(records)} AFAS {entity} records")
    found += [
        f"KvK {kvk} is {len(ids)} HubSpot companies ({', '.join(sorted(ids))})"
        for kvk, ids in crm_ids.items()
        if len(ids) > 1
    ]
    return found


def lost_edits(
    edits: Iterable[Edit],
    snapshot: Snapshot,
    mappings: Mapping[str, EntityMapping],
    conflicts: Iterable[Conflict],
    links: Iterable[Link],
    first_links: FirstLinks | None = None,
) -> list[str]:
    """The last edit of each field of each company that is on neither side nor held,
    nor overwritten by a first link as its rule says (``first_links``)."""
    ordered = sorted(edits, key=lambda e: e.seq)
    last: dict[tuple[str, str], Edit] = {}
    for edit in ordered:
        last[(edit.kvk, edit.field)] = edit
    held = _held_in_conflicts(conflicts, links, snapshot)
    lost: list[str] = []
    for (kvk, name), edit in sorted(last.items()):
        wanted = mappings[edit.entity or ENTITIES[0]].field(name).normal(edit.value)
        if any(h.fields.get(name) == wanted for h in snapshot.company(kvk)):
            continue
        if (kvk, name, wanted) in held:
            continue
        if first_links is not None and first_links.overwrote(edit, ordered, snapshot, mappings):
            continue
        lost.append(f"{edit.side} edit #{edit.seq} of {name} of KvK {kvk} to {edit.value!r}")
    return lost


def disagreements(
    snapshot: Snapshot,
    mappings: Mapping[str, EntityMapping],
    conflicts: Iterable[Conflict],
    links: Iterable[Link],
) -> list[str]:
    """What stops the two sides from being converged.

    Every company is on both sides once per entity, and both records agree on every field
    synced both ways, or the difference is an open conflict of their link.
    """
    found: list[str] = []
    open_fields = {(c.entity, c.link_id, c.field) for c in conflicts}
    link_of = {(link.entity, link.crm_id, link.afas_id): link.id for link in links}
    for entity in ENTITIES:
        crm, afas = snapshot.of(Side.CRM, entity), snapshot.of(Side.AFAS, entity)
        for kvk in sorted(set(crm) | set(afas)):
            if len(crm.get(kvk, [])) != 1 or len(afas.get(kvk, [])) != 1:
                counts = f"{len(crm.get(kvk, []))} in HubSpot, {len(afas.get(kvk, []))} in AFAS"
                found.append(f"{entity} KvK {kvk}: {counts}")
                continue
            left, right = crm[kvk][0], afas[kvk][0]
            link_id = link_of.get((entity, left.record_id, right.record_id))
            if link_id is None:
                found.append(f"{entity} KvK {kvk}: not linked")
                continue
            for f in mappings[entity].fields:
                if f.direction != "both" or left.fields.get(f.name) == right.fields.get(f.name):
                    continue
                if (entity, link_id, f.name) not in open_fields:
                    found.append(
                        f"{entity} KvK {kvk} {f.name}: HubSpot {left.fields.get(f.name)!r}, "
                        f"AFAS {right.fields.get(f.name)!r}"
                    )
    return found


def _held_in_conflicts(
    conflicts: Iterable[Conflict], links: Iterable[Link], snapshot: Snapshot
) -> set[tuple[str, str, Value]]:
    """(identity, field, value) of every value an open conflict holds."""
    # by entity: a HubSpot contact and a HubSpot company may have the same id
    kvk_of: dict[tuple[str, str], str] = {}
    for (side, entity), held in snapshot.records.items():
        if side is Side.CRM:
            kvk_of.update({(entity, h.record_id): kvk for kvk, hs in held.items() for h in hs})
    by_id = {link.id: link for link in links}
    found: set[tuple[str, str, Value]] = set()
    for conflict in conflicts:
        link = by_id.get(conflict.link_id)
        kvk = kvk_of.get((link.entity, link.crm_id)) if link else None
        if kvk is not None:
            found |= {(kvk, conflict.field, conflict.crm), (kvk, conflict.field, conflict.afas)}
    return found


__all__ = [
    "EDITABLE",
    "ENTITIES",
    "Edit",
    "SideRecord",
    "Snapshot",
    "World",
    "disagreements",
    "duplicates",
    "lost_edits",
]
