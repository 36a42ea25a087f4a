"""What a batch of HubSpot change events hints: which companies and contacts to read.

Webhook calls and the Webhooks Journal carry the same event shapes; both are read here.

Only the ids are taken; the values an event carries (``propertyValue``) are never used,
since events come at least once, out of order, and say nothing a read by id would not.
Subscription types are ``<object>.<event>`` (``company.propertyChange``,
``contact.merge``...), or ``object.<event>`` with an ``objectTypeId`` on HubSpot's newer
app platform. A merge names the surviving record (``primaryObjectId``, or a new one in
``newObjectId``) and the merged ones (``mergedObjectIds``); an association change names
both ends (``fromObjectId``, ``toObjectId``, ``associationType`` like
``CONTACT_TO_COMPANY``). Events of other objects (deals, tickets...) are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

COMPANY, CONTACT = "company", "contact"
_TYPE_IDS = {"0-1": CONTACT, "0-2": COMPANY}
_ASSOCIATION_ENDS = {"COMPANY": COMPANY, "CONTACT": CONTACT}


class NotEvents(ValueError):
    """The body is not a list of webhook events."""


@dataclass
class Hinted:
    """The ids a batch of events names, per HubSpot object (company, contact)."""

    ids: dict[str, set[str]] = field(default_factory=lambda: {COMPANY: set(), CONTACT: set()})

    def add(self, kind: str | None, *ids: object) -> None:
        if kind in self.ids:
            self.ids[kind].update(str(i) for i in ids if _is_id(i))


def hinted_by(events: object) -> Hinted:
    """The ids named by a webhook body (a JSON array of events)."""
    if not isinstance(events, list):
        raise NotEvents("expected a JSON array of events")
    hinted = Hinted()
    for event in events:
        if not isinstance(event, Mapping):
            raise NotEvents("expected each event to be a JSON object")
        _add_event(hinted, event)
    return hinted


def _add_event(hinted: Hinted, event: Mapping[str, object]) -> None:
    kind, _, action = str(event.get("subscriptionType", "")).partition(".")
    if kind == "object":
        kind = _TYPE_IDS.get(str(event.get("objectTypeId", "")), "")
    if action == "associationChange":
        ends = str(event.get("associationType", "")).split("_TO_")
        if len(ends) == 2:
            hinted.add(_ASSOCIATION_ENDS.get(ends[0]), event.get("fromObjectId"))
            hinted.add(_ASSOCIATION_ENDS.get(ends[1]), event.get("toObjectId"))
        return
    hinted.add(kind, event.get("objectId"))
    if action == "merge":
        hinted.add(kind, event.get("primaryObjectId"), event.get("newObjectId"))
        hinted.add(kind, *_listed(event.get("mergedObjectIds")))


def _listed(value: object) -> Iterable[object]:
    return value if isinstance(value, list) else ()


def _is_id(value: object) -> bool:
    return isinstance(value, int | str) and not isinstance(value, bool) and str(value).isdigit()
