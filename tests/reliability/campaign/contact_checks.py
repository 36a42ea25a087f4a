"""Both sides' contacts read whole, and what the campaigns check of them.

A contact's record is keyed by its work e-mail (the person's identity, which no edit
touches); its ``company`` field holds the side's own id of the company: the HubSpot
contact's *primary* company, the AFAS contact's organisation. The checks, after
convergence:

no duplicate contact
    No e-mail on more than one live HubSpot contact or active AFAS contact.
every contact of a linked company linked once
    A seeded person whose company is linked (as a customer or a supplier) is exactly once
    on each side, and the two are linked by one link, and agree on every field synced
    both ways but the company (or the difference is an open conflict of that link).
at the right organisation
    Each linked AFAS contact is at the organisation of a debtor or creditor linked to the
    HubSpot contact's primary company.
prospects' contacts wait
    A contact of a HubSpot company that is neither customer nor supplier is not in AFAS.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from syncd.mapping import EntityMapping
from syncd.records import Side
from syncd.sim.afas import AfasSimulator
from syncd.sim.hubspot import HubSpotSimulator
from syncd.sim.hubspot.kinds import CONTACTS
from syncd.state.rows import Conflict, Link
from tests.reliability.campaign.people import COMPANY, CONTACT, EMAIL, Person
from tests.reliability.campaign.snapshot import SideRecord, Snapshot


def read_contacts(
    afas: AfasSimulator, hubspot: HubSpotSimulator, mapping: EntityMapping, into: Snapshot
) -> None:
    """Add both sides' live contacts to ``into``, keyed by e-mail."""
    crm, on_afas = into.of(Side.CRM, CONTACT), into.of(Side.AFAS, CONTACT)
    for contact in hubspot.contacts.live():
        fields = mapping.to_canonical(Side.CRM, contact.properties)
        primary = [a.id for a in hubspot.associations.of(CONTACTS, contact.id) if a.primary]
        fields[COMPANY] = primary[0] if primary else None
        crm[str(fields[EMAIL])].append(SideRecord(Side.CRM, CONTACT, contact.id, fields))
    for row in afas.rows(CONTACT):
        if any(row.get(flag) for flag in mapping.afas.inactive):
            continue
        fields = mapping.to_canonical(Side.AFAS, row)
        record = SideRecord(Side.AFAS, CONTACT, str(row[mapping.afas.id]), fields)
        on_afas[str(fields[EMAIL])].append(record)


def contact_duplicates(snapshot: Snapshot) -> list[str]:
    return [
        f"e-mail {email} is {len(records)} {side} contacts"
        for side in Side
        for email, records in sorted(snapshot.of(side, CONTACT).items())
        if len(records) > 1
    ]


def contact_problems(
    snapshot: Snapshot,
    people: Sequence[Person],
    mapping: EntityMapping,
    links: Iterable[Link],
    conflicts: Iterable[Conflict],
    organisation_of: Mapping[str, str],
) -> list[str]:
    """What breaks the contact checks above (``links``: live links of every entity;
    ``organisation_of``: AFAS relation id -> its organisation)."""
    links = list(links)
    contact_links = [link for link in links if link.entity == CONTACT]
    company_organisations: dict[str, set[str]] = defaultdict(set)
    for link in links:
        if link.entity != CONTACT and link.afas_id in organisation_of:
            company_organisations[link.crm_id].add(organisation_of[link.afas_id])
    crm, afas = snapshot.of(Side.CRM, CONTACT), snapshot.of(Side.AFAS, CONTACT)
    found: list[str] = []
    for person in people:
        if person.prospect:
            if afas.get(person.email):
                found.append(f"prospect's contact {person.email} is in AFAS: it must wait")
            if not crm.get(person.email):
                found.append(f"prospect's contact {person.email} is gone from HubSpot")
            continue
        company = _crm_company(snapshot, person.company)
        if company is None or company not in company_organisations:
            continue  # its company is not linked: nothing to check
        held = (crm.get(person.email, []), afas.get(person.email, []))
        if len(held[0]) != 1 or len(held[1]) != 1:
            found.append(
                f"contact {person.email}: {len(held[0])} in HubSpot, {len(held[1])} in AFAS"
            )
            continue
        found += _pair_problems(held[0][0], held[1][0], mapping, contact_links, conflicts)
        if held[1][0].fields[COMPANY] not in company_organisations[str(held[0][0].fields[COMPANY])]:
            found.append(
                f"contact {person.email}: at AFAS organisation {held[1][0].fields[COMPANY]}, "
                f"not one linked to HubSpot company {held[0][0].fields[COMPANY]}"
            )
    return found


def _pair_problems(
    left: SideRecord,
    right: SideRecord,
    mapping: EntityMapping,
    links: Sequence[Link],
    conflicts: Iterable[Conflict],
) -> list[str]:
    email = left.fields[EMAIL]
    mine = [
        link for link in links if (link.crm_id, link.afas_id) == (left.record_id, right.record_id)
    ]
    if len(mine) != 1:
        return [f"contact {email}: {len(mine)} links between its two records"]
    held = {c.field for c in conflicts if (c.entity, c.link_id) == (CONTACT, mine[0].id)}
    return [
        f"contact {email} {f.name}: HubSpot {left.fields.get(f.name)!r}, "
        f"AFAS {right.fields.get(f.name)!r}"
        for f in mapping.fields
        if f.name != COMPANY
        and f.direction == "both"
        and left.fields.get(f.name) != right.fields.get(f.name)
        and f.name not in held
    ]


def _crm_company(snapshot: Snapshot, kvk: str) -> str | None:
    """The HubSpot id of the company with this KvK number (it holds every role)."""
    for (side, entity), held in snapshot.records.items():
        if side is Side.CRM and entity != CONTACT and held.get(kvk):
            return held[kvk][0].record_id
    return None
