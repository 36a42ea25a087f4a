"""The first-run match review: list both sides, propose links, link what was kept."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

from syncd.engine.awaiting import read_awaiting_review
from syncd.engine.cycle import Connection
from syncd.engine.matchplan import Proposal, propose, takes_at_first_link
from syncd.engine.plan import field_rules
from syncd.engine.progress import NO_PROGRESS, ListingProgress, SideListing, first_total
from syncd.engine.references import following_companies
from syncd.events import EventName
from syncd.gateways.base import Gateway
from syncd.records import Record, Side
from syncd.state.rows import Link, StatusEvent


async def match_plan(
    conn: Connection, entity: str, progress: ListingProgress = NO_PROGRESS
) -> list[Proposal]:
    """Every proposed link between the unlinked records of both sides; ``progress`` is
    told how far each side's listing has come."""
    # as a cycle sees them: a contact's company in CRM ids on both sides
    gateways, _ = following_companies(conn.store, conn.name, conn.mappings[entity], conn.gateways)
    lane = f"{conn.name}/{entity}"
    records = {}
    for side in Side:
        expected = await first_total(progress, gateways[side], entity)
        records[side] = await _list_all_records(
            gateways[side], entity, progress.listing(lane, side, expected)
        )
    links = await conn.store.get_links(conn.name, entity)
    linked = {side: frozenset(link.id_on(side) for link in links) for side in Side}
    mapping = conn.mappings[entity]
    declined = (await read_awaiting_review(conn.store, conn.name, entity)).declined
    rules, tie = field_rules(mapping, conn.rules), conn.rules.newest_tie
    return [
        dataclasses.replace(p, takes=takes_at_first_link(p.crm, p.afas, rules, tie))
        for p in propose(records, linked, mapping.match_keys, mapping.review_keys, declined)
    ]


async def _list_all_records(gateway: Gateway, entity: str, watched: SideListing) -> list[Record]:
    found: list[Record] = []
    try:
        async for page in gateway.list_all(entity):
            found.extend(page.records)
            watched.listed(len(found))
    finally:
        watched.done()
    return found


async def apply_match_plan(
    conn: Connection,
    entity: str,
    pairs: Sequence[tuple[str, str]],
    declined: Sequence[tuple[str, str]] = (),
) -> Counter[str]:
    """Link the kept pairs whose records are both still unlinked; mark the review done,
    with the ``declined`` pairs (not one company: never held back for review again)."""
    counts: Counter[str] = Counter()
    crm_links = await conn.store.links_by_ids(conn.name, entity, Side.CRM, [c for c, _ in pairs])
    afas_links = await conn.store.links_by_ids(conn.name, entity, Side.AFAS, [a for _, a in pairs])
    async with conn.store.transaction() as tx:
        for crm_id, afas_id in pairs:
            if crm_id in crm_links or afas_id in afas_links:
                counts["already_linked"] += 1
                continue
            await tx.save_link(Link(conn.name, entity, crm_id, afas_id))
            await tx.add_event(
                StatusEvent(
                    conn.name,
                    entity,
                    str(EventName.RECORD_LINKED),
                    record=crm_id,
                    data={"afas_id": afas_id, "reason": "kept in the match plan"},
                )
            )
            counts["linked"] += 1
        data: dict[str, object] = {**counts, "declined": [list(pair) for pair in declined]}
        await tx.add_event(StatusEvent(conn.name, entity, str(EventName.MATCH_REVIEWED), data=data))
    return counts
