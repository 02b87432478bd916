"""Headless Chromium driven by Selenium, and the servers a UI test looks at, started for real."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

CHROMIUM = ("chromium", "chromium-browser")
CHROMEDRIVER = "chromedriver"
# The machine's network is closed: without these Chromium keeps trying to reach Google's services.
_QUIET_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1600,1000")


def _without_browser(why: str) -> NoReturn:
    """Skip on a developer's machine; fail where CXP_REQUIRE_BROWSER is set (CI): a skip there is a test that did not run."""
    (pytest.fail if os.environ.get("CXP_REQUIRE_BROWSER") else pytest.skip)(why)


@contextlib.contextmanager
def headless_chromium(profile_dir: Path) -> Iterator:
    """A Selenium driver of Debian's chromium through its chromedriver (`apt-get install chromium chromium-driver`)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = next((found for name in CHROMIUM if (found := shutil.which(name))), None)
    driver_binary = shutil.which(CHROMEDRIVER)
    if binary is None or driver_binary is None:
        _without_browser("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*_QUIET_FLAGS, f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    # Both paths given: Selenium Manager, which would look for drivers online, is not consulted.
    driver = webdriver.Chrome(service=Service(driver_binary), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 180.0) -> None:
    """Until `url` answers 200; fails with the server's log when it dies or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        time.sleep(1)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def page_text_once(driver, expected: list[str], timeout: float = 60.0) -> str:
    """The page's text once every expected string shows (the UI renders as its queries return)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = driver.find_element("tag name", "body").text
        if all(item in text for item in expected):
            return text
        time.sleep(0.5)
    missing = [item for item in expected if item not in text]
    raise AssertionError(f"{driver.current_url} never showed {missing}; it shows:\n{text[:3000]}")
