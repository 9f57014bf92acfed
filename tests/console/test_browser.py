"""The console in real Chromium (Debian's, driven by Playwright): an officer clears hazards
through the pages and the leader's figures follow; the leader signs off the day; a form
without its CSRF token is refused; screenshots of the main pages land in artifacts/console/.

Browser tests run on SQLite only: the browser exercises the pages, templates and HTTP flow,
which do not depend on the database; the same flows run on both SQLite and PostgreSQL over HTTP
in test_officer_pages.py and test_leader_pages.py, and a second browser leg would double the
slowest tests for no new coverage.
"""

from __future__ import annotations

import pytest
from console_helpers import IN_REVIEW, VERIFIED, browser_login, kpi, raise_inspection
from sqlmodel import Session, select

from server.demo import demo_signature, store_demo_blob
from server.users.models import User

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _shot(page, artifacts, name: str, full: bool = True) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=full)


def test_officer_verifies_and_closes_leader_figures_follow(live_demo, browser, artifacts, clock):
    base = live_demo.url
    leader_ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    officer_ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    leader, officer = leader_ctx.new_page(), officer_ctx.new_page()
    officer.on("dialog", lambda d: d.accept())

    browser_login(leader, base, "leader")
    assert leader.url.endswith("/console/dashboard")
    leader.goto(f"{base}/console/dashboard?date=today")
    closed_before, open_before = int(kpi(leader, "closed")), int(kpi(leader, "open"))

    officer.goto(f"{base}/console/login")
    _shot(officer, artifacts, "01-login", full=False)
    browser_login(officer, base, "officer")
    assert "/console/queue" in officer.url
    rows = officer.locator("table.queue tbody tr")
    assert rows.count() > 0
    # overdue first: the first row is overdue
    assert "late" in (rows.first.get_attribute("class") or "")
    _shot(officer, artifacts, "02-queue")

    # verify: the evidence check refuses until the photos are confirmed
    officer.goto(f"{base}/console/hazards/{IN_REVIEW}")
    assert "链条完整" in officer.locator("#chain-badge").inner_text()
    assert officer.locator(".before-after img").count() >= 2  # before and after side by side
    _shot(officer, artifacts, "03-hazard-in-review")
    form = officer.locator("details.action-verified form")
    form.locator("textarea[name=comment]").fill("现场复查，卷帘下已无杂物")
    form.locator("button[type=submit]").click()
    officer.wait_for_load_state("networkidle")
    assert "请先核对整改照片并勾选确认" in officer.locator(".alert.error").inner_text()
    _shot(officer, artifacts, "04-hazard-refusal", full=False)
    form = officer.locator("details.action-verified form")
    form.locator("input[name=evidence_checked]").check()
    form.locator("button[type=submit]").click()
    officer.wait_for_load_state("networkidle")
    assert "已验收" in officer.locator(".badge.state").inner_text()

    # close (the confirm dialog is accepted)
    officer.locator("details.action-closed").evaluate("d => d.open = true")
    officer.locator("details.action-closed textarea[name=comment]").fill("同意销号")
    officer.locator("details.action-closed button[type=submit]").click()
    officer.wait_for_load_state("networkidle")
    assert "已销号" in officer.locator(".badge.state").inner_text()
    assert "链条完整" in officer.locator("#chain-badge").inner_text()
    _shot(officer, artifacts, "05-hazard-closed")

    # the leader's figures for today follow: one more closed, one fewer open
    leader.reload()
    assert int(kpi(leader, "closed")) == closed_before + 1
    assert int(kpi(leader, "open")) == open_before - 1
    _shot(leader, artifacts, "06-dashboard-today")

    # next morning the day's summary holds it, and the leader signs it off
    clock.advance(days=1)
    leader.goto(f"{base}/console/dashboard")
    assert int(kpi(leader, "closed")) >= 1
    leader.click("#ack-button")
    leader.wait_for_load_state("networkidle")
    signoff = leader.locator("#signoff").inner_text()
    assert "已签阅" in signoff and "王局长" in signoff
    _shot(leader, artifacts, "07-dashboard-signed")

    leader.goto(f"{base}/console/reports/daily")
    leader.emulate_media(media="print")
    _shot(leader, artifacts, "08-daily-report-print")
    leader.emulate_media(media="screen")
    leader_ctx.close()
    officer_ctx.close()


def test_form_without_csrf_token_is_refused(live_demo, browser):
    ctx = browser.new_context()
    page = ctx.new_page()
    browser_login(page, live_demo.url, "officer")
    page.goto(f"{live_demo.url}/console/hazards/{VERIFIED}")
    status = page.evaluate(
        """async (hid) => {
            const body = new URLSearchParams({action: "closed", comment: "no token"});
            const r = await fetch(`/console/hazards/${hid}/act`, {method: "POST", body});
            return r.status;
        }""",
        VERIFIED,
    )
    assert status == 403
    page.reload()
    assert "已验收" in page.locator(".badge.state").inner_text()  # nothing happened
    # with a forged token the answer is the same
    page.evaluate(
        "() => document.querySelectorAll('input[name=csrf_token]').forEach(i => i.value = 'x')"
    )
    page.on("dialog", lambda d: d.accept())
    page.locator("details.action-closed").evaluate("d => d.open = true")
    page.locator("details.action-closed button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "表单已过期" in page.content()
    ctx.close()


def test_screenshots_of_the_other_pages(live_demo, browser, artifacts, clock):
    """The pages not covered above, in Chinese and (the queue) in English."""
    engine = live_demo.app.state.engine
    with Session(engine) as s:  # signatures drawn on the inspector's tablet, uploaded by it
        store = live_demo.app.state.blobs
        inspector = s.exec(select(User).where(User.username == "inspector")).one().id
        sig = {
            who: store_demo_blob(s, store, demo_signature(name), inspector, clock.now())
            for who, name in (("inspector", "张检查"), ("representative", "陈安全员"))
        }
    inspection_id, failed = raise_inspection(
        engine, clock, signatures={**sig, "representative_name": "陈安全员"}
    )
    base = live_demo.url
    ctx = browser.new_context(viewport={"width": 1360, "height": 900})
    page = ctx.new_page()
    browser_login(page, base, "admin")
    for name, path in [
        ("10-matter", "/console/matters/lpg"),
        ("11-matters", "/console/matters"),
        ("12-inspection-record", f"/console/inspections/{inspection_id}"),
        ("13-admin-users", "/console/admin/users"),
        ("14-admin-sites", "/console/admin/sites"),
        ("15-plans", "/console/plans"),
        ("16-dashboard-city", "/console/dashboard"),
        ("17-not-found", "/console/hazards/00000000-0000-0000-0000-000000000000"),
    ]:
        page.goto(base + path)
        _shot(page, artifacts, name)
    page.goto(f"{base}/console/inspections/{inspection_id}")
    assert page.locator(f'img[src="/console/blobs/{sig["representative"]}"]').count() == 1
    assert "陈安全员" in page.content()
    page.emulate_media(media="print")
    _shot(page, artifacts, "18-inspection-record-print")
    page.emulate_media(media="screen")
    page.goto(f"{base}/console/lang/en?next=/console/queue")
    assert "Work queue" in page.content()
    _shot(page, artifacts, "19-queue-en")
    page.goto(f"{base}/console/hazards/{IN_REVIEW}")
    _shot(page, artifacts, "20-hazard-en")
    ctx.close()
