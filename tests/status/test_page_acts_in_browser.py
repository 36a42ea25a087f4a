"""The page's console as an office uses it: Chromium, driven by Selenium, clicks "take
HubSpot" on a conflict and "retry" on a quarantined record of a daemon syncing both
simulators; the values must land in the simulators.

The daemon runs in this test's process (its scheduler, lanes and status server as
``syncd run`` starts them); Selenium's blocking calls run in a thread meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from syncd.config import load_settings
from syncd.daemon import Daemon
from syncd.mapping import load_mappings
from syncd.records import Side
from syncd.sim.afas import AfasSimulator
from syncd.sim.afas.faults import Fault
from syncd.sim.demo import seed_simulators
from syncd.sim.hubspot import HubSpotSimulator, SimConfig
from syncd.state.store import StateStore, open_store
from tests.config_file import write_config
from tests.loopback import free_port

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = load_mappings(ROOT / "mappings", ["customer", "supplier"])
CITY = MAPPINGS["customer"].native_name(Side.AFAS, "city")
TOKEN = "page-office-s3cret"
SECRETS = {"PAGE_AFAS_TOKEN": "afas-s3cret", "PAGE_HUBSPOT_TOKEN": "pat-s3cret"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
REFUSAL = "Het veld 'Plaats' is geblokkeerd voor wijzigingen door een workflow."


def need_browser() -> None:
    """CI installs them (.ci/run); elsewhere their absence only skips the test."""
    if CHROMIUM and DRIVER:
        return
    message = "needs Debian's chromium and chromium-driver (.ci/run installs them)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Office:
    afas: AfasSimulator
    hubspot: HubSpotSimulator
    store: StateStore  # the daemon's state store, read on the side
    page: str  # the status server's address


def write_office_config(directory: Path, afas_url: str, hubspot_url: str, port: int) -> Path:
    connection = f"""
[connections.office]
afas = {{ kind = "afas", base_url = "{afas_url}", token = "PAGE_AFAS_TOKEN" }}
[connections.office.crm]
kind = "hubspot"
base_url = "{hubspot_url}"
token = "PAGE_HUBSPOT_TOKEN"
search_settle_seconds = 1
"""
    path = write_config(
        directory,
        connection,
        status_port=port,
        sync={"entities": '["customer"]', "conflict": '"manual"', "overlap_seconds": 30},
    )
    text = path.read_text(encoding="utf-8").replace(
        f"port = {port}\n",
        f'port = {port}\ntoken_env = "PAGE_STATUS_TOKEN"\nactions = true\noperator = "office"\n',
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def office(tmp_path: Path) -> AsyncIterator[Office]:
    afas, hubspot = AfasSimulator(), HubSpotSimulator(config=SimConfig(search_lag=0.3))
    seed_simulators(afas, hubspot, MAPPINGS, 6)
    runner = web.AppRunner(afas.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    afas_url = f"http://127.0.0.1:{runner.addresses[0][1]}/ProfitRestServices"
    hubspot_url = await hubspot.start()
    port = free_port()
    config = write_office_config(tmp_path, afas_url, hubspot_url, port)
    settings = load_settings(config, {**SECRETS, "PAGE_STATUS_TOKEN": TOKEN})
    daemon = Daemon(settings, stream=None)
    running = asyncio.create_task(daemon.run())
    store = await open_store(settings.state_url)
    try:
        yield Office(afas, hubspot, store, f"http://127.0.0.1:{port}")
    finally:
        daemon.stop()
        assert await asyncio.wait_for(running, 30) == 0
        await store.close()
        await hubspot.close()
        await runner.cleanup()


async def until(what: str, check: Callable[[], Awaitable[bool]], seconds: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.25)


# While the browser goes to the next page, an element of the one it leaves may be asked
# for its text: Chromium answers that the node is no longer in the document.
NAVIGATING = (StaleElementReferenceException, WebDriverException)


def chromium(profile: Path) -> WebDriver:
    assert CHROMIUM is not None
    assert DRIVER is not None
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    return webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))


def click_in_row(browser: WebDriver, row_text: str, button: str) -> None:
    """Click ``button`` in the table row that shows ``row_text``, and wait for the page
    the action sends the browser back to."""
    rows = [r for r in browser.find_elements(By.TAG_NAME, "tr") if row_text in r.text]
    assert len(rows) == 1, f"one row shows {row_text!r}: {browser.page_source}"
    [clicked] = [b for b in rows[0].find_elements(By.TAG_NAME, "button") if b.text == button]
    clicked.click()


def notice(browser: WebDriver) -> str:
    """What the page the browser was sent back to says the action did."""
    found = WebDriverWait(browser, 30, ignored_exceptions=NAVIGATING).until(
        expected_conditions.presence_of_element_located((By.CLASS_NAME, "said"))
    )
    return str(found.text)


def afas_city(office: Office, afas_id: str) -> object:
    return {str(r["DebtorId"]): r for r in office.afas.rows("customer")}[afas_id][CITY]


async def test_an_office_settles_a_conflict_and_retries_a_refused_record(
    office: Office, tmp_path: Path
) -> None:
    need_browser()

    async def linked() -> bool:
        return len(await office.store.get_links("office", "customer")) >= 2

    await until("the first sync has linked the customers", linked)
    links = sorted(await office.store.get_links("office", "customer"), key=lambda k: k.crm_id)
    both, refused = links[0], links[-1]

    # The same field changed on both sides: a conflict left for a person.
    office.hubspot.edit(both.crm_id, {"city": "Zwolle"})
    office.afas.edit("customer", both.afas_id, {CITY: "Deventer"})

    async def in_conflict() -> bool:
        return bool(await office.store.conflicts("office"))

    await until("the conflict is open", in_conflict)

    # A change AFAS refuses once: the record goes to quarantine with AFAS's own message.
    office.afas.add_fault(Fault("error", method="PUT", message=REFUSAL))
    office.hubspot.edit(refused.crm_id, {"city": "Leiden"})

    async def quarantined() -> bool:
        return bool(await office.store.quarantined("office"))

    await until("the refused record is in quarantine", quarantined)

    browser = await asyncio.to_thread(chromium, tmp_path / "profile")
    try:
        await asyncio.to_thread(browser.get, f"{office.page}/conflicts?token={TOKEN}")
        page = await asyncio.to_thread(lambda: browser.page_source)
        assert "Zwolle" in page
        assert "Deventer" in page
        for secret in (TOKEN, *SECRETS.values()):
            assert secret not in page
        await asyncio.to_thread(click_in_row, browser, "Zwolle", "take HubSpot")
        assert "settled" in await asyncio.to_thread(notice, browser)
        assert afas_city(office, both.afas_id) == "Zwolle"  # the value landed in AFAS
        assert office.hubspot.company(both.crm_id).properties.get("city") == "Zwolle"

        # The refusal is gone (the fault fired once); the record waits for its backoff,
        # minutes away, unless a person asks for it now.
        await asyncio.to_thread(browser.get, f"{office.page}/quarantine")
        table = await asyncio.to_thread(lambda: browser.find_element(By.TAG_NAME, "table").text)
        assert REFUSAL in table  # AFAS's own words
        await asyncio.to_thread(click_in_row, browser, "geblokkeerd", "retry")
        assert "due now" in await asyncio.to_thread(notice, browser)
    finally:
        await asyncio.to_thread(browser.quit)

    async def landed() -> bool:
        return afas_city(office, refused.afas_id) == "Leiden"

    await until("the retried record has synced to AFAS", landed)
    assert await office.store.quarantined("office") == []
    closed = await office.store.events("office", names=["conflict_closed"])
    assert closed[-1].data["by"] == "office (127.0.0.1)"


def fill_in(browser: WebDriver, field: str, text: str) -> None:
    browser.find_element(By.NAME, field).send_keys(text)


def click(browser: WebDriver, button: str) -> None:
    [found] = [b for b in browser.find_elements(By.TAG_NAME, "button") if b.text == button]
    found.click()


def heading(browser: WebDriver, wanted: str) -> str:
    """The next page's title once it says ``wanted``."""
    WebDriverWait(browser, 30, ignored_exceptions=NAVIGATING).until(
        expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), wanted)
    )
    return str(browser.find_element(By.TAG_NAME, "h1").text)


async def test_an_office_filters_conflicts_and_settles_them_in_bulk(
    office: Office, tmp_path: Path
) -> None:
    need_browser()

    async def linked() -> bool:
        return len(await office.store.get_links("office", "customer")) >= 3

    await until("the first sync has linked the customers", linked)
    links = sorted(await office.store.get_links("office", "customer"), key=lambda k: k.crm_id)
    # Three cities changed on both sides; the filter picks the two HubSpot moved to Zwolle.
    cities = ["Zwolle Noord", "Zwolle Zuid", "Kampen"]
    for link, city in zip(links, cities, strict=False):
        office.hubspot.edit(link.crm_id, {"city": city})
        office.afas.edit("customer", link.afas_id, {CITY: f"Deventer {link.afas_id}"})

    async def in_conflict() -> bool:
        return len(await office.store.conflicts("office")) == 3

    await until("the conflicts are open", in_conflict)
    browser = await asyncio.to_thread(chromium, tmp_path / "profile")
    try:
        await asyncio.to_thread(browser.get, f"{office.page}/conflicts?token={TOKEN}")
        await asyncio.to_thread(fill_in, browser, "search", "zwolle")
        await asyncio.to_thread(click, browser, "Filter")
        assert "(2)" in await asyncio.to_thread(heading, browser, "open conflicts (2)")
        await asyncio.to_thread(click, browser, "take AFAS for all 2 shown")
        await asyncio.to_thread(heading, browser, "confirm")
        listed = await asyncio.to_thread(lambda: browser.find_element(By.TAG_NAME, "table").text)
        assert "Zwolle Noord" in listed
        assert "Kampen" not in listed
        assert len(await office.store.conflicts("office")) == 3  # nothing written yet
        await asyncio.to_thread(click, browser, "Yes: take AFAS for all 2")
        await asyncio.to_thread(heading, browser, "2 settled, 0 skipped, 0 failed")
    finally:
        await asyncio.to_thread(browser.quit)

    for link in links[:2]:
        assert office.hubspot.company(link.crm_id).properties.get("city") == (
            f"Deventer {link.afas_id}"
        )
    [left] = await office.store.conflicts("office")
    assert left.crm == "Kampen"
    closed = await office.store.events("office", names=["conflict_closed"])
    assert [e.data["by"] for e in closed] == ["office (127.0.0.1)"] * 2
