"""Associations between contacts and companies, as HubSpot's associations v4 keeps them.

A contact is associated with any number of companies; each association is *unlabeled*
(type 279 read from the contact, 280 from the company) and at most one of a contact's
companies is also its *primary* company (type 1 from the contact, 2 from the company).
Making another company primary leaves the old one associated, unlabeled. Ids are those
of HubSpot's own "HUBSPOT_DEFINED" types (see docs/hubspot-setup.md, "Contacts").

An association whose contact or company is archived is not shown, and shows again when
the record is restored (HubSpot restores what a restorable delete unassociated); one whose
company was merged away is shown with the surviving company.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from syncd.sim.hubspot.kinds import COMPANIES, CONTACTS, ObjectKind
from syncd.sim.hubspot.portal import Company, Invalid, NotFound, Portal

CONTACT_TO_COMPANY = 279
CONTACT_TO_PRIMARY_COMPANY = 1
COMPANY_TO_CONTACT = 280
COMPANY_TO_PRIMARY_CONTACT = 2  # "primary" from the company's side: its contact's primary
PRIMARY_LABEL = "Contact with Primary Company"  # labels are for people; syncd reads type ids

# (from, to) -> (unlabeled type id, primary type id)
TYPE_IDS = {
    (CONTACTS.plural, COMPANIES.plural): (CONTACT_TO_COMPANY, CONTACT_TO_PRIMARY_COMPANY),
    (COMPANIES.plural, CONTACTS.plural): (COMPANY_TO_CONTACT, COMPANY_TO_PRIMARY_CONTACT),
}


@dataclass(frozen=True)
class Associated:
    """One record associated with the record read from, and whether it is primary."""

    id: str
    primary: bool


class Associations:
    """The contact-company associations of one portal (over its two object stores)."""

    def __init__(self, contacts: Portal, companies: Portal) -> None:
        self.contacts = contacts
        self.companies = companies
        # contact id -> company id -> primary; stored as written, shown as they stand now
        self._pairs: dict[str, dict[str, bool]] = {}
        # company id -> contact ids once paired with it (checked again when read)
        self._contacts_by_company: dict[str, set[str]] = {}
        self.changes: Callable[..., None] | None = None  # webhook subscribers hear of changes

    def type_ids(self, source: ObjectKind, target: ObjectKind) -> tuple[int, int]:
        """(unlabeled, primary) type ids from ``source`` to ``target``."""
        found = TYPE_IDS.get((source.plural, target.plural))
        if found is None:
            raise Invalid(f"No associations between {source.plural} and {target.plural} here")
        return found

    # -- writing -----------------------------------------------------------------------------

    def associate(
        self, source: ObjectKind, from_id: str, to_id: str, type_ids: Iterable[int]
    ) -> list[int]:
        """Associate two active records with the given types (an unlabeled association
        is always made too); the type ids now between them, read from ``source``."""
        unlabeled, primary = self.type_ids(source, self._other(source))
        wanted = set(type_ids)
        unknown = wanted - {unlabeled, primary}
        if unknown:
            raise Invalid(
                f"association type ids {sorted(unknown)} are not types from "
                f"{source.singular} to {self._other(source).singular}"
            )
        contact_id, company_id = self._pair(source, from_id, to_id)
        companies = self._pairs.setdefault(contact_id, {})
        if primary in wanted:
            for other in companies:  # a contact has one primary company
                companies[other] = False
            companies[company_id] = True
        else:
            companies.setdefault(company_id, False)
        self._contacts_by_company.setdefault(company_id, set()).add(contact_id)
        self._tell(contact_id, company_id, removed=False)
        return [unlabeled, primary] if companies[company_id] else [unlabeled]

    def _tell(self, contact_id: str, company_id: str, *, removed: bool) -> None:
        """Both ends hear of an association change, as webhook subscribers do."""
        if self.changes is None:
            return
        contact, company = ("contact", contact_id, "COMPANY"), ("company", company_id, "CONTACT")
        for (kind, one, other_kind), other in ((contact, company_id), (company, contact_id)):
            self.changes(
                f"{kind}.associationChange",
                one,
                fromObjectId=int(one),
                toObjectId=int(other),
                associationType=f"{kind.upper()}_TO_{other_kind}",
                associationRemoved=removed,
            )

    def dissociate(self, source: ObjectKind, from_id: str, to_id: str) -> None:
        """Remove every association between the two records (none is fine)."""
        try:
            contact_id, company_id = self._pair(source, from_id, to_id)
        except NotFound:
            return
        if self._pairs.get(contact_id, {}).pop(company_id, None) is not None:
            self._tell(contact_id, company_id, removed=True)

    # -- reading -----------------------------------------------------------------------------

    def of(self, source: ObjectKind, record_id: str) -> list[Associated]:
        """The active records associated with the active record ``record_id``, by id."""
        portal = self._portal(source)
        record = portal.get(record_id)  # NotFound if archived, unknown or gone
        if source.plural == CONTACTS.plural:
            found = self._companies_of(record.id)
        else:
            found = [
                Associated(contact_id, primary)
                for contact_id, primary in self._contacts_of(record.id)
            ]
        return sorted(found, key=lambda a: int(a.id))

    def _companies_of(self, contact_id: str) -> list[Associated]:
        shown: dict[str, bool] = {}
        for company_id, primary in self._pairs.get(contact_id, {}).items():
            survivor = self._active(self.companies, company_id)
            if survivor is not None:
                shown[survivor] = shown.get(survivor, False) or primary
        return [Associated(i, p) for i, p in shown.items()]

    def _contacts_of(self, company_id: str) -> Iterable[tuple[str, bool]]:
        """Contacts of the company, including those paired with companies merged into it."""
        stored = {company_id, *_merged_ids(self.companies.get(company_id))}
        candidates = set().union(*(self._contacts_by_company.get(i, set()) for i in stored))
        for contact_id in candidates:
            companies = self._pairs.get(contact_id, {})
            if self._active(self.contacts, contact_id) is None:
                continue
            linked = [
                primary
                for other, primary in companies.items()
                if self._active(self.companies, other) == company_id
            ]
            if linked:
                yield self._active(self.contacts, contact_id) or contact_id, any(linked)

    # -- helpers -----------------------------------------------------------------------------

    def _pair(self, source: ObjectKind, from_id: str, to_id: str) -> tuple[str, str]:
        """(contact id, company id) of two active records, survivors for merged ids."""
        contact_id, company_id = (
            (from_id, to_id) if source.plural == CONTACTS.plural else (to_id, from_id)
        )
        return self.contacts.get(contact_id).id, self.companies.get(company_id).id

    def _portal(self, kind: ObjectKind) -> Portal:
        return self.contacts if kind.plural == CONTACTS.plural else self.companies

    @staticmethod
    def _other(kind: ObjectKind) -> ObjectKind:
        return COMPANIES if kind.plural == CONTACTS.plural else CONTACTS

    @staticmethod
    def _active(portal: Portal, record_id: str) -> str | None:
        """The id of the active record ``record_id`` is (or was merged into), or None."""
        try:
            return portal.get(record_id).id
        except NotFound:
            return None


def _merged_ids(company: Company) -> set[str]:
    return {i for i in company.properties.get("hs_merged_object_ids", "").split(";") if i}
