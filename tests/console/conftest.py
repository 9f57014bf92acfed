"""Console fixtures: a logged-in HTTP client per demo user (cookies and CSRF handled like a
browser would), and a real Chromium driven by Playwright for the browser tests."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import httpx
import pytest

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
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class ConsoleClient:
    """An HTTP client holding the console's cookies; ``post_form`` sends the page's CSRF token."""

    def __init__(self, base_url: str, lang: str | None = None) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)
        if lang:
            self.http.cookies.set("hc_lang", lang, path="/console")

    def get(self, path: str, **kw) -> httpx.Response:
        return self.http.get(path, **kw)

    def token(self, path: str = "/console/login") -> str:
        r = self.http.get(path)
        m = TOKEN_RE.search(r.text)
        assert m, f"no CSRF token on {path} ({r.status_code})"
        return m.group(1)

    def post_form(self, path: str, data: dict | list, *, from_page: str, files=None) -> httpx.Response:
        token = self.token(from_page)
        pairs = list(data.items()) if isinstance(data, dict) else list(data)
        form: dict[str, list[str]] = {"csrf_token": [token]}
        for k, v in pairs:
            form.setdefault(k, []).extend(v if isinstance(v, list) else [v])
        return self.http.post(path, data=form, files=files)

    def login(self, username: str, password: str = "demo-password") -> ConsoleClient:
        r = self.post_form(
            "/console/login",
            {"username": username, "password": password, "next": "/console/"},
            from_page="/console/login",
        )
        assert r.status_code == 303, r.text[:500]
        return self

    def close(self) -> None:
        self.http.close()


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
