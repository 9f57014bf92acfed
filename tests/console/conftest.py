"""Console fixtures: a logged-in HTTP client per demo user (cookies and CSRF handled like a
browser would), and a real Chromium driven by Playwright for the browser tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from console_helpers import ConsoleClient

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "console"
CHROMIUM = os.environ.get("HAZARDCHAIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def console(live_demo):
    """``console("officer")``: a client logged in as that demo user."""
    made: list[ConsoleClient] = []

    def make(username: str | None = None, lang: str | None = None) -> ConsoleClient:
        c = ConsoleClient(live_demo.url, lang)
        made.append(c)
        return c.login(username) if username else c

    yield make
    for c in made:
        c.close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium under Playwright (never ``playwright install``); skipped, saying why,
    when either is missing outside CI."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the machine
        if os.environ.get("CI"):
            pytest.fail("playwright is not installed")
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():  # pragma: no cover
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
