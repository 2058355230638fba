"""The admin's "Scheduled jobs" in a real headless browser (Debian's chromium and
chromium-driver, through Selenium): log in, open the list, click "Run now", and see the
run appear. Saves the screenshot that docs/django.md shows (docs/images/admin-jobs.png)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.test.testcases import LiveServerThread

import lazycron
from lazycron import Registry, Scheduler
from lazycron.testing import FakeClock

from ..integration.servers import require, require_binary, require_module
from .helpers import REPO

CHROMIUM_HINT = "apt-get install -y chromium chromium-driver (bash .ci/install-servers.sh)"
SCREENSHOT = REPO / "docs" / "images" / "admin-jobs.png"


@pytest.fixture
def live_server() -> Iterator[str]:
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.terminate()


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium = require_binary("chromium", CHROMIUM_HINT)
    driver_path = require_binary("chromedriver", CHROMIUM_HINT)
    require_module("selenium", "pip install selenium (the test dependency group)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="lazycron-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1400,700",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_log_in_open_the_list_run_now_and_see_the_run(
    site: Callable[..., Scheduler],
    registry: Registry,
    clock: FakeClock,
    live_server: str,
    browser: Any,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until
    from selenium.webdriver.support.ui import WebDriverWait

    @lazycron.job("0 3 * * *", name="nightly-report", registry=registry)
    def nightly_report() -> None: ...

    @lazycron.job(every="10m", name="warm-cache", registry=registry)
    def warm_cache() -> None: ...

    scheduler = site(registry)
    scheduler.run_now("warm-cache")
    User.objects.filter(username="ops").delete()
    User.objects.create_superuser("ops", "ops@example.com", "a-long-password")

    browser.get(f"{live_server}/admin/login/?next=/admin/lazycron/scheduledjob/")
    browser.find_element(By.NAME, "username").send_keys("ops")
    browser.find_element(By.NAME, "password").send_keys("a-long-password")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait = WebDriverWait(browser, 20)
    wait.until(until.presence_of_element_located((By.ID, "lazycron-jobs")))
    row = browser.find_element(By.CSS_SELECTOR, 'tr[data-job="nightly-report"]')
    assert "never" in row.text

    row.find_element(By.CSS_SELECTOR, 'input[value="Run now"]').click()
    wait.until(until.text_to_be_present_in_element((By.CSS_SELECTOR, ".messagelist"), "started"))

    def run_shown(driver: Any) -> bool:
        driver.refresh()
        job = driver.find_element(By.CSS_SELECTOR, 'tr[data-job="nightly-report"]')
        return "(manual)" in job.text and "ok" in job.text

    wait.until(run_shown)
    assert scheduler.wait_idle(10)
    if os.environ.get("LAZYCRON_SAVE_SCREENSHOT"):
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SCREENSHOT))
    require(bool(browser.get_screenshot_as_png()), "a screenshot", CHROMIUM_HINT)
