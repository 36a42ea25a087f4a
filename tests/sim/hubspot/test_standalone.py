"""The simulator on its own: seeded from a syncd fixture, served with a token."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path

import aiohttp

from syncd.sim.hubspot import load_seed
from syncd.sim.hubspot.standalone import load_contact_seed
from tests.gateways.contract.gateway_contract import ROOT, SHIPPED_FIXTURE
from tests.sim.hubspot.api import AUTH, COMPANIES


def test_a_syncd_fixture_seeds_one_company_per_hubspot_id() -> None:
    seeds = load_seed(SHIPPED_FIXTURE)
    ids = [s["id"] for s in seeds]
    assert len(ids) == len(set(ids))
    fixture = json.loads(SHIPPED_FIXTURE.read_text(encoding="utf-8"))
    companies = {e: rows for e, rows in fixture["crm"].items() if e != "contact"}
    assert set(ids) == {r["hs_object_id"] for rows in companies.values() for r in rows}
    contacts = load_contact_seed(SHIPPED_FIXTURE)
    assert [c[0] for c in contacts] == [r["hs_object_id"] for r in fixture["crm"]["contact"]]
    assert {company for _, _, company in contacts} <= set(ids)  # each at a seeded company
    roles = {s["properties"].get("afas_roles") for s in seeds}
    assert roles <= {"customer", "supplier", "customer;supplier"}


async def test_serve_runs_standalone_seeded_and_with_a_token(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["--port", str(port), "--seed", str(SHIPPED_FIXTURE), "--token", "t0ken"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "syncd.sim.hubspot", *args, env=env, cwd=tmp_path
    )
    try:
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer t0ken"}) as http:
            for _ in range(100):
                try:
                    async with http.get(f"{url}{COMPANIES}?limit=100") as response:
                        body = await response.json()
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("the simulator did not start")
            assert len(body["results"]) == len(load_seed(SHIPPED_FIXTURE))
            async with http.get(f"{url}/_sim/config") as response:
                assert (await response.json())["ten_second_limit"] == 100
        async with (
            aiohttp.ClientSession(headers=AUTH) as other,
            other.get(f"{url}{COMPANIES}") as response,
        ):
            assert response.status == 401
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=10)
