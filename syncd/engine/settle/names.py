"""What a quarantined record is called, as every other view calls it: its link's name
when it is linked, else what its mapping's ``record_name`` makes of the fields that
could be read of it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from syncd.mapping import EntityMapping
from syncd.records import Side
from syncd.state.rows import Link, Quarantined
from syncd.state.store import StateStore

Lane = tuple[str, str, Side]  # connection, entity, the side the record is on


async def quarantined_names(
    store: StateStore, entries: Sequence[Quarantined], mappings: Mapping[str, EntityMapping]
) -> list[str | None]:
    """Each entry's name, in order; None when neither its link nor its fields name it.
    One read of the links per lane and side."""
    wanted: dict[Lane, list[str]] = {}
    for q in entries:
        wanted.setdefault((q.connection, q.entity, q.side), []).append(q.record_id)
    links: dict[Lane, dict[str, Link]] = {
        lane: await store.links_by_ids(*lane, ids) for lane, ids in wanted.items()
    }
    return [
        quarantined_name(q, _link_name(links[(q.connection, q.entity, q.side)], q), mappings)
        for q in entries
    ]


def _link_name(links: Mapping[str, Link], entry: Quarantined) -> str | None:
    link = links.get(entry.record_id)
    return link.name if link is not None else None


def quarantined_name(
    entry: Quarantined, link_name: str | None, mappings: Mapping[str, EntityMapping]
) -> str | None:
    """The name of ``entry``: its link's (``link_name``), else what its mapping's
    ``record_name`` makes of the fields that could be read of it."""
    if link_name:
        return link_name
    mapping = mappings.get(entry.entity)
    return mapping.display_name(entry.fields) if mapping is not None else None
