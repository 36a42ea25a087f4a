"""A connection's lanes take turns: company cycles run together, a contact cycle runs
alone, after the company cycles in flight and before those that come after it."""

from __future__ import annotations

import asyncio

from syncd.daemon.turns import EntityTurns


async def hold(
    turns: EntityTurns, contacts: bool, log: list[str], name: str, go: asyncio.Event
) -> None:
    async with turns.turn(contacts=contacts):
        log.append(f"{name} in")
        await go.wait()
        log.append(f"{name} out")


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_company_cycles_run_together() -> None:
    turns, log = EntityTurns(), list[str]()
    go = asyncio.Event()
    both = [asyncio.create_task(hold(turns, False, log, n, go)) for n in ("customer", "supplier")]
    await settle()
    assert log == ["customer in", "supplier in"]
    go.set()
    await asyncio.gather(*both)


async def test_a_contact_cycle_waits_for_the_company_cycles_in_flight() -> None:
    turns, log = EntityTurns(), list[str]()
    companies_go, contacts_go = asyncio.Event(), asyncio.Event()
    company = asyncio.create_task(hold(turns, False, log, "customer", companies_go))
    await settle()
    contact = asyncio.create_task(hold(turns, True, log, "contact", contacts_go))
    await settle()
    assert log == ["customer in"]  # the contact cycle waits

    later = asyncio.create_task(hold(turns, False, log, "supplier", companies_go))
    await settle()
    assert log == ["customer in"]  # a company cycle after it waits for it

    companies_go.set()
    await settle()
    assert log == ["customer in", "customer out", "contact in"]
    contacts_go.set()
    await asyncio.gather(company, contact, later)
    assert log[-3:] == ["contact out", "supplier in", "supplier out"]
