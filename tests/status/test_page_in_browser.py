"""The status page as a person sees it: headless Chromium renders it, OCR reads it back."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from aiohttp import web

from syncd.state.rows import Conflict, Link, StatusEvent
from syncd.state.store import StateStore, open_store
from syncd.status.server import StatusSource, make_app

BUDGET = {"requests_today": 250, "daily_budget": 1000, "budget_left": 750}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TESSERACT = shutil.which("tesseract")


def need_tools() -> None:
    """CI installs the tools (.ci/run); elsewhere their absence only skips the test."""
    if CHROMIUM and TESSERACT:
        return
    message = "needs Debian's chromium and tesseract-ocr (.ci/run installs them)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


async def seed(store: StateStore) -> None:
    async with store.transaction() as tx:
        for n in range(42):
            await tx.save_link(Link("acme", "customer", f"90{n}", f"100{n}"))
        houthandel = Link("acme", "supplier", "9999", "70001", name="Hollandse Houthandel")
        link = await tx.save_link(houthandel)
        assert link.id is not None
        await tx.open_conflict(
            Conflict("acme", "supplier", link.id, "iban", None, "NL91ABNA0417164300", "x")
        )
        await tx.add_event(
            StatusEvent(
                "acme",
                "customer",
                "cycle_finished",
                data={
                    "counts": {"created_afas": 7},
                    "requests": {"crm": {"used": 9, **BUDGET}, "afas": {"used": 4}},
                },
            )
        )


async def render(url: str, out: Path) -> None:
    assert CHROMIUM is not None
    chromium = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={out.parent / 'profile'}",
        "--window-size=1280,900",
        "--hide-scrollbars",
        f"--screenshot={out}",
        url,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert await asyncio.wait_for(chromium.wait(), 120) == 0


async def read_text(image: Path) -> str:
    assert TESSERACT is not None
    ocr = await asyncio.create_subprocess_exec(
        TESSERACT,
        str(image),
        "stdout",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await ocr.communicate()
    return out.decode()


async def test_the_page_shows_the_key_figures(tmp_path: Path) -> None:
    need_tools()
    store = await open_store(f"sqlite:///{tmp_path}/state.db")
    await seed(store)
    runner = web.AppRunner(
        make_app(StatusSource(store, [("acme", "customer"), ("acme", "supplier")]))
    )
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        shot = tmp_path / "status.png"
        await render(f"http://127.0.0.1:{port}/", shot)
    finally:
        await runner.cleanup()
        await store.close()

    assert shot.stat().st_size > 10_000
    text = await read_text(shot)
    assert "syncd" in text
    assert "42" in text  # linked customers
    assert "in sync" in text
    assert "no cycle yet" in text  # the suppliers
    assert "Open conflicts (1)" in text
    assert "Hollandse Houthandel" in text  # the conflict's record: its name and both ids
    assert "HubSpot 9999, AFAS creditor 70001" in text
    assert "created_afas 7" in text
    assert "NL91ABNA0417164300" in text
    assert "Last 24 hours" in text  # the charts' section, with its numbers beside them
    assert "afas 4" in text  # requests today, beside their chart
    assert "250 of 1,000 (25%)" in text  # the daily budget's bar
