"""Records waiting for their company, and the link mark of a waiting entity (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime

from syncd.records import Side
from syncd.state.rows import Link, Waiting
from syncd.state.store import StateStore

NOT_LINKED = "its company is not linked"
NO_COMPANY = "it has no primary company in HubSpot"


def waiting(record_id: str, company: str | None, reason: str, side: Side = Side.CRM) -> Waiting:
    return Waiting("c", "contact", side, record_id, company, reason)


async def test_a_record_waits_once_keeps_its_first_since_and_is_counted_by_reason(
    store: StateStore,
) -> None:
    first = datetime(2026, 1, 2, tzinfo=UTC)
    async with store.transaction() as tx:
        await tx.hold_waiting([waiting("1", "900", NOT_LINKED)])
        await tx.hold_waiting([waiting("1", "900", NOT_LINKED)])
    async with store.transaction() as tx:
        earlier = Waiting("c", "contact", Side.AFAS, "7", None, NO_COMPANY, since=first)
        await tx.hold_waiting([earlier, waiting("2", "901", NOT_LINKED)])
        await tx.hold_waiting([waiting("7", "AFAS organisation 5", NOT_LINKED, Side.AFAS)])
    found = {(w.side, w.record_id): w for w in await store.waiting("c", "contact")}
    assert set(found) == {(Side.CRM, "1"), (Side.CRM, "2"), (Side.AFAS, "7")}
    seven = found[(Side.AFAS, "7")]
    assert (seven.company, seven.reason, seven.since) == ("AFAS organisation 5", NOT_LINKED, first)
    assert await store.waiting_reasons("c", "contact") == {NOT_LINKED: 3}
    assert await store.waiting("c", "customer") == []


async def test_stop_and_forget_waiting(store: StateStore) -> None:
    async with store.transaction() as tx:
        await tx.hold_waiting([waiting(str(n), "900", NOT_LINKED) for n in range(5)])
        await tx.stop_waiting("c", "contact", Side.CRM, ["1", "3"])
        await tx.stop_waiting("c", "contact", Side.AFAS, ["2"])  # another side: stays
    assert sorted(w.record_id for w in await store.waiting("c", "contact")) == ["0", "2", "4"]
    async with store.transaction() as tx:
        await tx.forget_waiting("c", "contact")
    assert await store.waiting("c", "contact") == []


async def test_the_link_mark_and_the_company_links_after_it(store: StateStore) -> None:
    assert await store.link_mark("c", "contact") is None
    assert await store.newest_link_id("c", ["customer", "supplier"]) == 0
    async with store.transaction() as tx:
        first = await tx.save_link(Link("c", "customer", "900", "10001"))
        second = await tx.save_link(Link("c", "supplier", "901", "70001"))
        await tx.save_link(Link("c", "contact", "500", "20001"))
        await tx.set_link_mark("c", "contact", first.id or 0)
    assert await store.link_mark("c", "contact") == first.id
    after = await store.links_after("c", ["customer", "supplier"], first.id or 0)
    assert [(link.entity, link.crm_id) for link in after] == [("supplier", "901")]
    assert await store.newest_link_id("c", ["customer", "supplier"]) == second.id
    async with store.transaction() as tx:
        await tx.set_link_mark("c", "contact", second.id or 0)
    assert await store.link_mark("c", "contact") == second.id
