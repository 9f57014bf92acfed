"""Nothing the product shows a browser loads from outside the server: the front door, every
role's console pages and the API docs, in real Chromium, with every request recorded.

The docs are the page that used to fail: FastAPI's stock /docs and /redoc pull Swagger UI and
ReDoc from a CDN and stay blank offline. Here they must render their operations from the
server's own assets. SQLite only, like the other browser tests (the pages do not depend on the
database; test_front_door.py covers / and the docs over HTTP on both backends).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

ROLES = ("admin", "leader", "officer", "inspector", "enterprise")


def _recorder(ctx) -> list[str]:
    seen: list[str] = []
    ctx.on("request", lambda req: seen.append(req.url))
    return seen


def _outside(urls: list[str], base: str) -> list[str]:
    own = urlsplit(base).netloc
    return [
        u
        for u in urls
        if urlsplit(u).scheme not in ("data", "blob", "about") and urlsplit(u).netloc != own
    ]


def _visit(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("role", ROLES)
def test_every_console_page_of_a_role_stays_on_the_server(live_demo, browser, role):
    base = live_demo.url
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    seen = _recorder(ctx)
    page = ctx.new_page()
    _visit(page, base + "/")
    assert page.url.startswith(f"{base}/console/login")  # the front door: the console login
    page.fill("input[name=username]", role)
    page.fill("input[name=password]", "demo-password")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/console/" in page.url and "/login" not in page.url
    links = page.eval_on_selector_all("nav a", "as => as.map(a => a.getAttribute('href'))")
    assert "/console/matters" in links
    visited = []
    for href in dict.fromkeys(links):
        _visit(page, base + href)
        visited.append(href)
        detail = page.locator(
            "main a[href^='/console/hazards/'], main a[href^='/console/inspections/']"
        )
        if detail.count():  # one record page of each list: photos, chains, signatures
            target = detail.first.get_attribute("href")
            _visit(page, base + target)
            visited.append(target)
    assert len(visited) >= 2, visited
    assert _outside(seen, base) == [], (role, visited)
    assert any(u.endswith("/console/static/console.css") for u in seen)  # recording works
    ctx.close()


def test_api_docs_render_offline(live_demo, browser, artifacts):
    base = live_demo.url
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    seen = _recorder(ctx)
    page = ctx.new_page()
    _visit(page, base + "/docs")
    page.wait_for_selector(".opblock", timeout=15000)
    operations = page.locator(".opblock")
    assert operations.count() >= 20  # Swagger UI drew the API's operations
    assert page.locator(".opblock-summary-path", has_text="/api/v1/hazards").count() >= 1
    page.screenshot(path=str(artifacts / "30-api-docs.png"))
    _visit(page, base + "/redoc")
    page.wait_for_selector("[data-section-id^='tag/']", timeout=30000)
    assert page.get_by_text("/api/v1/inspections").count() >= 1 or "inspections" in page.content()
    page.screenshot(path=str(artifacts / "31-api-redoc.png"))
    assert _outside(seen, base) == [], seen
    assert any("/static-offline-docs/swagger-ui-bundle.js" in u for u in seen)
    ctx.close()
