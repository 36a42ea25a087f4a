"""The simulated portal's records of one object type (companies, or contacts): the store
behind the simulator's object routes. The code calls every record a company; a contacts
portal (``kind=CONTACTS``) holds contacts the same way.

What it keeps like HubSpot does:

* Every property value is a string. ``hs_object_id``, ``createdate`` and the kind's
  modification property (``hs_lastmodifieddate`` on companies, ``lastmodifieddate`` on
  contacts) are kept by the portal; the last moves on every write (the portal's clock
  gives strictly increasing millisecond times).
* Writes are checked against the property definitions: unknown and read-only properties,
  enumeration options, numbers, booleans, dates (midnight UTC) and datetimes, and unique
  values; problems come back all at once as :class:`Invalid`. ``""`` clears a value.
* No deduplication of companies: two may carry the same name and domain. Contacts are
  unique by ``email``: a create or update with an e-mail another contact has is a
  409 :class:`Conflict` "Contact already exists. Existing ID: <id>".
* Archiving hides a company from listings, reads and search; restoring brings it back.
* Merging folds one company into another (or both into a new id, as HubSpot sometimes
  does); the merged ids are listed in ``hs_merged_object_ids`` and a read of a merged id
  returns the survivor, under the survivor's id.
* Search sees a *view* that lags: each write reaches it ``search_lag`` seconds later
  (plus up to ``search_jitter`` at random, so writes may show up out of order), with the
  values of that moment (:meth:`Portal.search_view`).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import json
import random
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from syncd.sim.hubspot.kinds import COMPANIES, ObjectKind
from syncd.sim.hubspot.properties import (
    PropertyDef,
    check_value,
    format_datetime,
    parse_datetime,
)
from syncd.sim.hubspot.unique_emails import EmailHolders

FIRST_ID = 9_000_000_001
SERVER_PROPERTIES = COMPANIES.server_properties


class PortalError(Exception):
    """An answer HubSpot gives as an error body."""

    status = 400
    category = "VALIDATION_ERROR"

    def __init__(
        self,
        message: str,
        *,
        errors: Iterable[Mapping[str, Any]] = (),
        context: Mapping[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = list(errors)
        self.context = dict(context or {})


class NotFound(PortalError):
    status = 404
    category = "OBJECT_NOT_FOUND"


class Invalid(PortalError):
    """Property values HubSpot refuses (400 VALIDATION_ERROR)."""


class Conflict(PortalError):
    status = 409
    category = "CONFLICT"


@dataclass
class Company:
    id: str
    properties: dict[str, str]
    created: datetime
    updated: datetime
    archived: bool = False
    archived_at: datetime | None = None
    merged_into: str | None = None
    kind: ObjectKind = COMPANIES

    def public(self, names: Iterable[str] | None) -> dict[str, Any]:
        """The record as the API shows it (SimplePublicObject)."""
        return {
            "id": self.id,
            "properties": project(self.properties, names, self.kind),
            "createdAt": format_datetime(self.created),
            "updatedAt": format_datetime(self.updated),
            "archived": self.archived,
            **({"archivedAt": format_datetime(self.archived_at)} if self.archived_at else {}),
        }


def project(
    properties: Mapping[str, str], names: Iterable[str] | None, kind: ObjectKind = COMPANIES
) -> dict[str, str | None]:
    """The requested properties (unset ones as None), plus the server-kept ones."""
    wanted = list(kind.listed) if names is None else list(names)
    shown: dict[str, str | None] = {n: properties.get(n) for n in wanted}
    for name in kind.server_properties:
        shown[name] = properties.get(name)
    return shown


@dataclass
class Portal:
    """All companies (or, with ``kind=CONTACTS``, contacts) of one simulated portal."""

    properties: dict[str, PropertyDef] = field(default_factory=dict)  # empty: the kind's
    search_lag: float = 0.0
    search_jitter: float = 0.0  # up to this much more lag, at random: out-of-order visibility
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    monotonic: Callable[[], float] = time.monotonic
    kind: ObjectKind = COMPANIES

    def __post_init__(self) -> None:
        if not self.properties:
            self.properties = dict(self.kind.properties)
        self.companies: dict[str, Company] = {}
        self.next_id = FIRST_ID
        self._last = datetime(2000, 1, 1, tzinfo=UTC)
        self._index: dict[str, dict[str, str]] = {}
        self.view_version = 0  # moves on whenever what search sees changes
        self._pending: list[tuple[float, int, str, dict[str, str] | None]] = []
        self._seq = itertools.count()
        self._random = random.Random(4)
        self._applied: dict[str, int] = {}
        # Ids in ascending order (rebuilt when companies were added), so a listing page
        # starts where the last one ended instead of sorting and skipping every company.
        self._order: list[str] = []
        # Per property asked about: value -> ids that held it at some write. Entries are
        # only added (a write may change the value in place), so a hit is checked again.
        self._holders: dict[str, dict[str, set[str]]] = {}
        self.emails = EmailHolders(self.companies) if self.kind.unique_email else None
        # Search-view indexes by (property, how values are compared): key -> ids.
        self._view_lookups: dict[Hashable, ViewLookup] = {}

    # -- time and the search view --------------------------------------------------------

    def now(self) -> datetime:
        """The portal clock, in whole milliseconds, strictly increasing."""
        moment = self.clock().astimezone(UTC)
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        moment = max(moment, self._last + timedelta(milliseconds=1))
        self._last = moment
        return moment

    def _publish(self, company: Company, *, at_once: bool = False) -> None:
        active = not company.archived and company.merged_into is None
        snapshot = dict(company.properties) if active else None
        lag = 0.0 if at_once else self.search_lag + self._random.uniform(0, self.search_jitter)
        due = self.monotonic() + lag
        heapq.heappush(self._pending, (due, next(self._seq), company.id, snapshot))
        for name, holders in self._holders.items():  # every write publishes
            self._add_holder(holders, name, company)
        if self.emails is not None:
            self.emails.add(company)

    def search_view(self) -> dict[str, dict[str, str]]:
        """What search sees now: each company as it was ``search_lag`` seconds ago."""
        self.publish_due()
        return self._index

    def publish_due(self, at_most: int | None = None) -> bool:
        """Show search the writes whose lag is over (``at_most`` of them, if given);
        whether some that are due are left."""
        now = self.monotonic()
        published = 0
        while self._pending and self._pending[0][0] <= now:
            if at_most is not None and published >= at_most:
                return True
            published += 1
            _, seq, company_id, snapshot = heapq.heappop(self._pending)
            if seq < self._applied.get(company_id, -1):
                continue  # a newer state of this company is already visible
            self._applied[company_id] = seq
            self.view_version += 1
            old = self._index.pop(company_id, None)
            if snapshot is not None:
                self._index[company_id] = snapshot
            for lookup in self._view_lookups.values():
                lookup.replace(company_id, old, snapshot)
        return False

    def view_lookup(
        self, spec: Hashable, keys: Callable[[Mapping[str, str]], Iterable[Hashable]]
    ) -> ViewLookup:
        """Ids in the search view by the ``keys`` of their values, kept up to date from
        the first time ``spec`` (what ``keys`` compares) is asked for."""
        lookup = self._view_lookups.get(spec)
        if lookup is None:
            lookup = self._view_lookups[spec] = ViewLookup(keys, self._index.items())
        return lookup

    # -- reading ---------------------------------------------------------------------------

    def get(self, company_id: str, *, archived: bool = False) -> Company:
        """The company (the survivor, for a merged id); NotFound if none or not ``archived``."""
        company = self.companies.get(company_id)
        seen = set()
        while company is not None and company.merged_into is not None:
            if company.id in seen:
                break
            seen.add(company.id)
            company = self.companies.get(company.merged_into)
        if company is None or company.archived != archived:
            raise NotFound(f"Object not found.  objectId are usually numeric. ({company_id})")
        return company

    def get_by(self, id_property: str | None, value: str, *, archived: bool = False) -> Company:
        if id_property in (None, "hs_object_id"):
            return self.get(value, archived=archived)
        prop = self.properties.get(id_property or "")
        if prop is None or not prop.unique:
            raise Invalid(f"{id_property} is not a property with unique values")
        for company in self._companies_with(prop.name, value):
            if company.merged_into is None and company.archived == archived:
                return company
        raise NotFound(f"Object not found.  {id_property}={value}")

    def live(self, *, archived: bool = False, after: int | None = None) -> Iterator[Company]:
        """Companies that are not merged away, archived or not, by ascending id (those
        with an id above ``after`` only)."""
        if len(self._order) != len(self.companies):  # companies are added, never removed
            self._order = sorted(self.companies, key=int)
        start = 0 if after is None else bisect.bisect_right(self._order, after, key=int)
        for company_id in self._order[start:]:
            company = self.companies[company_id]
            if company.merged_into is None and company.archived == archived:
                yield company

    def _companies_with(self, name: str, value: str) -> list[Company]:
        """Companies whose property ``name`` is ``value`` now, by ascending id."""
        holders = self._holders.get(name)
        if holders is None:
            holders = self._holders[name] = {}
            for company in self.companies.values():
                self._add_holder(holders, name, company)
        found = (self.companies[i] for i in holders.get(value, ()))
        return sorted((c for c in found if c.properties.get(name) == value), key=_by_id)

    @staticmethod
    def _add_holder(holders: dict[str, set[str]], name: str, company: Company) -> None:
        value = company.properties.get(name)
        if value is not None:
            holders.setdefault(value, set()).add(company.id)

    # -- writing -----------------------------------------------------------------------------

    def check(self, values: Mapping[str, object], *, own_id: str | None = None) -> None:
        """Invalid with every problem of ``values``, as HubSpot reports them; for
        contacts first a Conflict when the e-mail is another contact's."""
        self.check_email_free(values.get("email"), own_id)
        problems = [p for name, value in values.items() if (p := self._problem(name, value))]
        problems += self._unique_problems(values, own_id)
        if problems:
            raise invalid(problems)

    def _problem(self, name: str, value: object) -> dict[str, Any] | None:
        prop = self.properties.get(name)
        if prop is None:
            return _problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
        if prop.read_only:
            return _problem(name, "READ_ONLY_VALUE", f'"{name}" is a read only property')
        if not isinstance(value, str):
            return _problem(name, "INVALID_TYPE", f"{value!r} is not a string value")
        found = check_value(prop, value)
        return _problem(name, *found) if found else None

    def check_email_free(self, email: object, own_id: str | None = None) -> None:
        """HubSpot's 409 for a contact e-mail another active contact has."""
        if self.emails is None or not isinstance(email, str) or email == "":
            return
        for other in self.emails.holders(email):
            if other.id != own_id:
                raise Conflict(f"Contact already exists. Existing ID: {other.id}")

    def _unique_problems(
        self, values: Mapping[str, object], own_id: str | None
    ) -> list[dict[str, Any]]:
        problems = []
        for name, value in values.items():
            prop = self.properties.get(name)
            if prop is None or not prop.unique or not isinstance(value, str) or value == "":
                continue  # only a string is stored, so only a string can be taken
            if name == "email" and self.kind.unique_email:
                continue  # a Conflict, checked before
            for other in self._companies_with(name, value):
                if other.merged_into is not None or other.archived:
                    continue
                if other.id != own_id:
                    message = f"{value} already has that value on object {other.id}"
                    problems.append(_problem(name, "DUPLICATE_VALUE", message))
        return problems

    def create(self, values: Mapping[str, str], *, visible_now: bool = False) -> Company:
        self.check(values)
        return self._insert(None, values, None, visible_now=visible_now)

    def _insert(
        self,
        company_id: str | None,
        values: Mapping[str, str],
        modified: datetime | None,
        *,
        visible_now: bool,
        created: datetime | None = None,
    ) -> Company:
        if company_id is None:
            company_id = str(self.next_id)
        self.next_id = max(self.next_id, int(company_id) + 1)
        moment = modified or self.now()
        company = Company(company_id, {}, created or moment, moment, kind=self.kind)
        company.properties.update({k: v for k, v in values.items() if v != ""})
        company.properties["hs_object_id"] = company_id
        company.properties["createdate"] = format_datetime(company.created)
        company.properties[self.kind.modified] = format_datetime(moment)
        self.companies[company_id] = company
        self._publish(company, at_once=visible_now)
        return company

    def update(self, company: Company, values: Mapping[str, str]) -> Company:
        self.check(values, own_id=company.id)
        self._write_values(company, values)
        return company

    def _write_values(self, company: Company, values: Mapping[str, str]) -> None:
        for name, value in values.items():
            if value == "":
                company.properties.pop(name, None)
            else:
                company.properties[name] = normalise(self.properties[name], value)
        self.touch(company)

    def touch(self, company: Company, modified: datetime | None = None) -> None:
        company.updated = modified or self.now()
        company.properties[self.kind.modified] = format_datetime(company.updated)
        self._publish(company)

    def archive(self, company: Company) -> None:
        company.archived = True
        company.archived_at = self.now()
        self.touch(company)

    def restore(self, company_id: str) -> Company:
        """Bring an archived record back; a contact whose e-mail an active contact now
        has cannot be (HubSpot refuses such a restore)."""
        company = self.get(company_id, archived=True)
        self.check_email_free(company.properties.get("email"), company.id)
        company.archived = False
        company.archived_at = None
        self.touch(company)
        return company

    def merge(self, primary_id: str, other_id: str, *, new_id: bool = False) -> Company:
        """Fold ``other_id`` into ``primary_id``; with ``new_id`` both into a fresh id."""
        primary, other = self.get(primary_id), self.get(other_id)
        if primary.id == other.id:
            raise Invalid("A company cannot be merged with itself")
        values = {**other.properties, **primary.properties}
        merged = _merged_ids(primary) | _merged_ids(other) | {other.id}
        if new_id:
            survivor = self._insert(
                None, {}, None, visible_now=False, created=min(primary.created, other.created)
            )
            merged.add(primary.id)
            primary.merged_into = survivor.id
            self._publish(primary)
        else:
            survivor = primary
        for name, value in values.items():
            if name not in self.kind.server_properties:
                survivor.properties[name] = value
        survivor.properties["hs_merged_object_ids"] = ";".join(sorted(merged, key=int))
        other.merged_into = survivor.id
        self._publish(other)
        self.touch(survivor)
        return survivor

    # -- seeding -----------------------------------------------------------------------------

    def seed(
        self,
        values: Mapping[str, str],
        *,
        company_id: str | None = None,
        modified: datetime | None = None,
        archived: bool = False,
    ) -> Company:
        """A company as it stands, unchecked and visible to search at once."""
        if company_id is not None and company_id in self.companies:
            raise Invalid(f"company {company_id} already exists")
        if modified is not None:
            self._last = max(self._last, modified)
        values = {k: v for k, v in values.items() if k not in self.kind.server_properties}
        company = self._insert(company_id, values, modified, visible_now=True)
        if archived:
            company.archived = True
            company.archived_at = company.updated
            self._publish(company, at_once=True)
        return company


class ViewLookup:
    """Ids of the search view by the keys their values compare as (for exact filters),
    and the numeric keys in order (for range filters on numbers and times: a window of
    modification times is a slice, not a test of every company)."""

    def __init__(
        self,
        keys: Callable[[Mapping[str, str]], Iterable[Hashable]],
        view: Iterable[tuple[str, Mapping[str, str]]] = (),
    ) -> None:
        self.keys = keys
        self.ids: dict[Hashable, set[str]] = {}
        for company_id, props in view:  # sorted once below, not a company at a time
            for key in keys(props):
                self.ids.setdefault(key, set()).add(company_id)
        # The keys that are numbers, ascending, and the others (text, unreadable numbers).
        self.ordered: list[Decimal] = sorted(k for k in self.ids if isinstance(k, Decimal))
        self.unordered: set[Hashable] = {k for k in self.ids if not isinstance(k, Decimal)}

    def replace(
        self, company_id: str, old: Mapping[str, str] | None, new: Mapping[str, str] | None
    ) -> None:
        for key in self.keys(old) if old is not None else ():
            held = self.ids.get(key)
            if held is not None:
                held.discard(company_id)
                if not held:
                    del self.ids[key]
                    self._forget(key)
        for key in self.keys(new) if new is not None else ():
            if key not in self.ids:
                self._remember(key)
            self.ids.setdefault(key, set()).add(company_id)

    def between(self, low: Decimal | None, high: Decimal | None) -> set[str]:
        """The ids whose key is a number in [low, high] (None: unbounded), and those whose
        key is no number (which only a test can decide)."""
        start = 0 if low is None else bisect.bisect_left(self.ordered, low)
        end = len(self.ordered) if high is None else bisect.bisect_right(self.ordered, high)
        keys = itertools.chain(self.ordered[start:end], self.unordered)
        return set().union(*(self.ids[key] for key in keys))

    def _remember(self, key: Hashable) -> None:
        if isinstance(key, Decimal):
            bisect.insort(self.ordered, key)
        else:
            self.unordered.add(key)

    def _forget(self, key: Hashable) -> None:
        if isinstance(key, Decimal):
            del self.ordered[bisect.bisect_left(self.ordered, key)]
        else:
            self.unordered.discard(key)


def _by_id(company: Company) -> int:
    return int(company.id)


def normalise(prop: PropertyDef, value: str) -> str:
    """The form HubSpot stores a valid value in (datetimes as ISO 8601 with ms and Z)."""
    if prop.type == "datetime":
        moment = parse_datetime(value)
        return format_datetime(moment) if moment else value
    if prop.type == "bool":
        return value.lower()
    return value


def _merged_ids(company: Company) -> set[str]:
    text = company.properties.get("hs_merged_object_ids", "")
    return {i for i in text.split(";") if i}


def _problem(name: str, error: str, message: str) -> dict[str, Any]:
    return {"isValid": False, "message": message, "error": error, "name": name}


def invalid(problems: list[dict[str, Any]]) -> Invalid:
    """HubSpot's 400 for bad property values: the list as JSON inside the message."""
    return Invalid(
        f"Property values were not valid: {json.dumps(problems)}",
        errors=[{"message": p["message"], "code": p["error"], "in": p["name"]} for p in problems],
        context={"propertyName": [p["name"] for p in problems]},
    )
