"""A portal that tells webhook subscribers of its changes, as HubSpot does: a record's
creation, each property whose value a write changed, deletion (archiving), restore and
merge. Apart from :class:`Portal` so that the store of records stays one concern."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from syncd.sim.hubspot.portal import Company, Portal


@dataclass
class TellingPortal(Portal):
    # Told of each change: (subscription type, record id, the event's other fields).
    changes: Callable[..., None] | None = None

    def _tell(self, action: str, record_id: str, **fields: object) -> None:
        if self.changes is not None:
            self.changes(f"{self.kind.singular}.{action}", record_id, **fields)

    def create(self, values: Mapping[str, str], *, visible_now: bool = False) -> Company:
        company = super().create(values, visible_now=visible_now)
        self._tell("creation", company.id)
        return company

    def _write_values(self, company: Company, values: Mapping[str, str]) -> None:
        before = dict(company.properties)
        super()._write_values(company, values)
        for name in values:
            value = company.properties.get(name)
            if value != before.get(name):
                self._tell("propertyChange", company.id, propertyName=name, propertyValue=value)

    def archive(self, company: Company) -> None:
        super().archive(company)
        self._tell("deletion", company.id)

    def restore(self, company_id: str) -> Company:
        company = super().restore(company_id)
        self._tell("restore", company.id)
        return company

    def merge(self, primary_id: str, other_id: str, *, new_id: bool = False) -> Company:
        survivor = super().merge(primary_id, other_id, new_id=new_id)
        self._tell(
            "merge",
            survivor.id,
            primaryObjectId=int(primary_id),
            mergedObjectIds=[int(other_id)],
            **({"newObjectId": int(survivor.id)} if new_id else {}),
        )
        return survivor
