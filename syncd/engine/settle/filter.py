"""Which conflicts and quarantined records an operator means: a filter, matched purely.

The store reads live in :mod:`syncd.engine.settle.select`; here is only the question
"does this one match", so that the CLI and the status page select alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from syncd.errors import SyncdError
from syncd.records import Side, Value
from syncd.state.rows import Conflict, Quarantined


class FilterError(SyncdError):
    """A filter that cannot select as asked (none given for a mass action, a bad age...)."""


@dataclass(frozen=True)
class SelectedConflict:
    """An open conflict with what a person knows its record by."""

    conflict: Conflict
    crm_id: str | None
    afas_id: str | None
    name: str | None


@dataclass(frozen=True)
class RecordFilter:
    """What to settle; every criterion given must match (an empty one matches anything).

    ``everything`` is the operator saying "all of them" on purpose: without it, a filter
    that narrows nothing is refused, so no mass action happens by accident.
    """

    connection: str | None = None
    entities: frozenset[str] = frozenset()
    field: str | None = None
    side: Side | None = None  # quarantined records only: a conflict is on both sides
    older_than: timedelta | None = None
    search: str | None = None  # in the name, ids, field, values, reason (any case)
    records: frozenset[str] = frozenset()  # quarantined records as "side:id"
    everything: bool = False

    @property
    def narrows(self) -> bool:
        """True when a criterion beyond the connection is given."""
        criteria = (self.entities, self.field, self.side, self.older_than, self.search)
        return any(c for c in criteria) or bool(self.records)

    def require_choice(self, what: str) -> None:
        """Refuse a mass action nobody asked for in so many words."""
        if not self.narrows and not self.everything:
            raise FilterError(
                f"no filter chosen for {what}: give an entity, field, side, age or search "
                "text to select some, or ask for all of them (--all on the command line)"
            )


_AGE = re.compile(r"^\s*(\d+)\s*(m|h|d|w)\s*$")
_AGE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_age(text: str) -> timedelta:
    """An age such as ``90m``, ``12h``, ``2d`` or ``1w``."""
    found = _AGE.match(text.lower())
    if found is None:
        raise FilterError(
            f"age {text!r} is not understood: give a number and a unit "
            "(m minutes, h hours, d days, w weeks), e.g. 2d"
        )
    amount, unit = found.groups()
    return timedelta(**{_AGE_UNITS[unit]: int(amount)})


def conflict_matches(chosen: RecordFilter, item: SelectedConflict, now: datetime) -> bool:
    if chosen.side is not None or chosen.records:
        raise FilterError(
            "a conflict is on both sides: a side or side:id selects quarantined records "
            "only; select conflicts by entity, field, age or search text"
        )
    conflict = item.conflict
    texts = [item.name, item.crm_id, item.afas_id, conflict.field]
    return (
        _in_scope(chosen, conflict.connection, conflict.entity)
        and (chosen.field is None or conflict.field == chosen.field)
        and _old_enough(chosen, conflict.created_at, now)
        and _found(chosen, [*texts, *_texts((conflict.base, conflict.crm, conflict.afas))])
    )


def quarantined_matches(
    chosen: RecordFilter, entry: Quarantined, now: datetime, name: str | None = None
) -> bool:
    """``name``: what the record is called (:mod:`syncd.engine.settle.names`)."""
    reference = f"{entry.side}:{entry.record_id}"
    texts = [name, reference, entry.reason, entry.field, entry.reference]
    return (
        _in_scope(chosen, entry.connection, entry.entity)
        and (chosen.field is None or entry.field == chosen.field)
        and (chosen.side is None or entry.side == chosen.side)
        and (not chosen.records or reference in chosen.records)
        and _old_enough(chosen, entry.first_seen, now)
        and _found(chosen, [*texts, *_texts(entry.fields.values())])
    )


def _in_scope(chosen: RecordFilter, connection: str, entity: str) -> bool:
    return (chosen.connection is None or connection == chosen.connection) and (
        not chosen.entities or entity in chosen.entities
    )


def _old_enough(chosen: RecordFilter, since: datetime | None, now: datetime) -> bool:
    # An unknown age is not old enough: better left alone than settled by mistake.
    if chosen.older_than is None:
        return True
    return since is not None and now - since >= chosen.older_than


def _found(chosen: RecordFilter, texts: Iterable[str | None]) -> bool:
    if not chosen.search:
        return True
    wanted = chosen.search.casefold()
    return any(wanted in text.casefold() for text in texts if text)


def _texts(values: Iterable[Value]) -> list[str]:
    return [str(value) for value in values if value is not None]
