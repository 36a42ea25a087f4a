"""The AFAS organisation each company record was last seen at (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime

from syncd.state.rows import Link
from syncd.state.store import StateStore

COMPANIES = ["customer", "supplier"]


async def test_links_at_organisations_follow_what_was_last_seen(store: StateStore) -> None:
    async with store.transaction() as tx:
        debtor = await tx.save_link(Link("c", "customer", "900", "10001"))
        creditor = await tx.save_link(Link("c", "supplier", "901", "70001"))
        await tx.keep_organisations("c", "customer", {"10001": "500", "10002": None})
        await tx.keep_organisations("c", "supplier", {"70001": "500"})
    newest = creditor.id or 0
    at = await store.links_at_organisations("c", COMPANIES, ["500", "600"], newest)
    assert {o: [k.crm_id for k in links] for o, links in at.items()} == {"500": ["900", "901"]}
    # only the links of the cycle's view
    at = await store.links_at_organisations("c", COMPANIES, ["500"], debtor.id or 0)
    assert [k.crm_id for k in at["500"]] == ["900"]
    async with store.transaction() as tx:  # the debtor was seen at another organisation
        await tx.keep_organisations("c", "customer", {"10001": "600"})
    at = await store.links_at_organisations("c", COMPANIES, ["500", "600"], newest)
    assert {o: [k.crm_id for k in links] for o, links in at.items()} == {
        "500": ["901"],
        "600": ["900"],
    }
    kept = await store.organisations_of("c", "customer", ["10001", "10002", "10003"])
    assert kept == {"10001": "600", "10002": None}
    assert await store.organisations_of("other", "customer", ["10001"]) == {}


async def test_links_without_organisation_and_detached_links(store: StateStore) -> None:
    async with store.transaction() as tx:
        known = await tx.save_link(Link("c", "customer", "900", "10001"))
        await tx.save_link(Link("c", "customer", "902", "10002"))
        gone = await tx.save_link(Link("c", "customer", "903", "10003"))
        await tx.save_link(Link("c", "supplier", "901", "70001"))
        newest = (await tx.save_link(Link("c", "supplier", "904", "70004"))).id or 0
        await tx.save_link(Link("c", "contact", "905", "20001"))
        await tx.keep_organisations("c", "customer", {"10001": "500", "10003": "700"})
        await tx.save_link(Link("c", "customer", "903", "10003", id=gone.id, detached_at=NOW))
    unknown = await store.links_without_organisation("c", COMPANIES, newest - 1)
    assert [(k.entity, k.afas_id) for k in unknown] == [
        ("customer", "10002"),
        ("supplier", "70001"),
    ]
    at = await store.links_at_organisations("c", COMPANIES, ["500", "700"], newest)
    assert [k.id for k in at["500"]] == [known.id]
    assert "700" not in at  # its link is detached
    await store.forget("c")
    assert await store.organisations_of("c", "customer", ["10001"]) == {}


NOW = datetime(2026, 12, 7, tzinfo=UTC)
