"""A real `drgero serve` and a real headless Chromium driven by Selenium through Debian's chromedriver.

The driver is the system's (`make browser` installs it); Selenium is told never to fetch one.
When Chromium cannot start, the tests fail with the reason: a console nobody could open in a
browser is not a pass.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import LiveServer, serve_live
from tests.upstream import Upstream, running_upstream

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_upstream() -> Iterator[Upstream]:
    with running_upstream() as server:
        yield server


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_live(tmp_path_factory.mktemp("console"), {
        "DRGERO_ALLOW_PRIVATE_URLS": "true", "DRGERO_RUN_CHUNK_ROWS": "4"})


@pytest.fixture(scope="session")
def chromium():
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not try to download a driver or a browser
    from selenium import webdriver  # noqa: PLC0415
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    driver_path = shutil.which("chromedriver") or CHROMEDRIVER
    browser_path = shutil.which("chromium") or CHROMIUM
    if not (os.path.exists(driver_path) and os.path.exists(browser_path)):
        pytest.fail(f"Chromium or chromedriver is missing ({browser_path}, {driver_path}): run `make browser`")
    options = webdriver.ChromeOptions()
    options.binary_location = browser_path
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--disable-extensions", "--no-first-run"):
        options.add_argument(argument)
    try:
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    except Exception as exc:  # noqa: BLE001 - whatever stops the browser, the test run must say it
        pytest.fail(f"Chromium could not start: {exc}")
    driver.implicitly_wait(5)  # a page the last click opened may still be loading
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core, the accessibility engine (`make browser` installs the pinned version)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make browser`")
    return AXE.read_text()
