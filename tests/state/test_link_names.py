"""What links keep of their records' names: saved, found by name or id, and upgraded."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syncd.state import open_store
from syncd.state.database import alembic_config, connect
from syncd.state.rows import Link
from syncd.state.store import StateStore

C = "acme"


async def linked(store: StateStore, *links: Link) -> list[Link]:
    async with store.transaction() as tx:
        return await tx.insert_links(list(links))


async def test_a_link_keeps_its_name_and_saves_a_new_one(store: StateStore) -> None:
    [link] = await linked(
        store, Link(C, "customer", "901", "10001", {"name": "Atlas"}, name="Atlas")
    )
    async with store.transaction() as tx:
        await tx.save_names([dataclasses.replace(link, name="Atlas Installatie")])
    [read] = await store.get_links(C, "customer")
    assert read.name == "Atlas Installatie"
    assert (await store.links_by_link_ids([read.id or 0]))[read.id or 0].name == read.name


async def test_links_are_found_by_part_of_their_name_or_by_either_id(store: StateStore) -> None:
    await linked(
        store,
        Link(C, "customer", "901", "10001", name="Bakkerij de Vries"),
        Link(C, "customer", "902", "10002", name="Van der Linden Installatie"),
        Link(C, "supplier", "901", "20001", name="Bakkerij de Vries"),
        Link(C, "contact", "5501", "7", name="Jan de Vries"),
        Link("other", "customer", "903", "10003", name="Bakkerij de Vries"),
    )
    both = ("customer", "supplier", "contact")

    def found(links: list[Link]) -> list[tuple[str, str]]:
        return [(link.entity, link.afas_id) for link in links]

    assert found(await store.find_links(C, both, "DE VRIES")) == [
        ("customer", "10001"),
        ("supplier", "20001"),
        ("contact", "7"),
    ]
    assert found(await store.find_links(C, ["customer"], "  linden ")) == [("customer", "10002")]
    assert found(await store.find_links(C, both, "901")) == [
        ("customer", "10001"),
        ("supplier", "20001"),
    ]
    assert found(await store.find_links(C, both, "20001")) == [("supplier", "20001")]
    assert await store.find_links(C, both, "%") == []  # a wildcard is a character
    assert await store.find_links(C, both, "") == []


def _upgrade_to(connection: Connection, revision: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


async def test_upgrading_keeps_the_links_without_names_until_cycles_name_them(
    state_url: str,
) -> None:
    db = await connect(state_url)
    try:
        async with db.writer.begin() as connection:
            await connection.run_sync(_upgrade_to, "0007")
            await connection.execute(
                sa.text(
                    "INSERT INTO links (connection, entity, crm_id, afas_id, base)"
                    " VALUES ('acme', 'customer', '901', '10001', '{\"name\":\"Atlas\"}')"
                )
            )
    finally:
        await db.dispose()

    store = await open_store(state_url)
    try:
        [link] = await store.get_links(C, "customer")
        assert (link.crm_id, link.base, link.name) == ("901", {"name": "Atlas"}, None)
        async with store.transaction() as tx:
            await tx.save_names([dataclasses.replace(link, name="Atlas")])
        assert [link.name for link in await store.find_links(C, ["customer"], "atlas")] == ["Atlas"]
    finally:
        await store.close()
