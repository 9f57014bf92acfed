"""The leader's 企业自查成效 in real Chromium (issue 18, point 5): with the demo's month of
self-inspections, the dashboard's tiles say how much of the patrolling owed was done, who found
the hazards, which sites never self-report, and flag the store the inspector keeps finding
things at; an enterprise's new finding and an officer's 抽查 that reopens a self-closure move the
figures. SQLite only, as test_browser.py explains (the figures' SQL runs on both databases in
test_self_found_console.py). Screenshots: artifacts/console/self-inspection-*.png."""

from __future__ import annotations

import pytest
from console_helpers import browser_login, kpi
from sqlmodel import Session, col, select

from server.checklists.service import DEFAULT_ROOT, import_into
from server.demo import did
from server.demo_self_inspections import load_demo_self_inspections
from server.hazards.models import Hazard

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
MALL = did("site", "万达广场乌海店")
STORE = did("site", "乌海百货大楼")


def _cell(page, table: str, row: str, column: str) -> str:
    """A cell of the self-inspection tables, by row key and column header."""
    grid = page.locator(f"table[data-table={table}]")
    heads = [h.strip() for h in grid.locator("thead th").all_inner_texts()]
    return grid.locator(f"tbody tr[{row}] td").nth(heads.index(column)).inner_text().strip()


def test_the_leader_sees_which_enterprises_really_inspect_themselves(
    live_demo, browser, artifacts, clock
):
    engine = live_demo.app.state.engine
    import_into(engine, DEFAULT_ROOT, clock.now())
    with Session(engine, expire_on_commit=False) as s:
        added = load_demo_self_inspections(
            s, now=clock.now(), store=live_demo.app.state.blobs, password="demo-password"
        )
        s.commit()
        closed = s.exec(
            select(Hazard.id)
            .where(Hazard.site_id == MALL, col(Hazard.self_closed).is_(True))
            .where(col(Hazard.spot_check).is_(None))
        ).all()
    assert added > 200 and len(closed) == 1

    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    browser_login(page, live_demo.url, "leader")
    page.goto(f"{live_demo.url}/console/dashboard?date=today")
    rate = kpi(page, "self_inspection_rate")
    assert rate.endswith("%") and 0 < float(rate.rstrip("%")) < 100
    assert "近30日" in page.locator("[data-kpi=self_inspection_rate] .detail").inner_text()
    found, regulator = int(kpi(page, "self_found")), int(kpi(page, "regulator_found"))
    assert found == 3 and regulator > 0  # the mall's two and the restaurant's one
    flagged = page.locator("[data-kpi=flagged_sites]")
    assert int(kpi(page, "flagged_sites")) >= 1 and "tile-alert" in flagged.get_attribute("class")
    assert int(kpi(page, "silent_sites")) >= int(kpi(page, "flagged_sites"))
    store = page.locator(f"table[data-table=self-inspection-sites] tr[data-site='{STORE}']")
    assert "flagged" in store.get_attribute("class")
    assert "监管常查出而企业不自报" in store.inner_text()
    # the mall's district (the sites' list shows those to look at first: a diligent mall is
    # below the mines and plants that never self-report, so its figures are read by district)
    mall = "data-district='150302'"
    found_before = int(_cell(page, "self-inspection-districts", mall, "企业自查发现隐患"))
    assert found_before >= 2  # the mall's two at least
    closed_before = int(_cell(page, "self-inspection-districts", mall, "自查自改销号"))
    page.screenshot(path=str(artifacts / "self-inspection-dashboard.png"), full_page=True)
    page.locator("#self-inspection").screenshot(path=str(artifacts / "self-inspection-table.png"))

    # the mall's safety manager reports a finding of its own: the leader's figure moves
    with live_demo.login("enterprise") as ent:
        body = {"site_id": MALL, "title": "安全出口指示灯损坏", "severity": "general"}
        assert ent.post("/hazards", json=body).status_code == 201
    # the officer's 抽查 of the mall's self-closure finds it not done and reopens it
    officer_ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    officer = officer_ctx.new_page()
    browser_login(officer, live_demo.url, "officer")
    officer.goto(f"{live_demo.url}/console/hazards/{closed[0]}")
    # the self-closure's photos: before on the left, after on the right, once each
    assert officer.locator("img[alt^='整改前']").count() == 1
    assert officer.locator("img[alt^='整改后']").count() == 1
    found_by = officer.locator("dd[data-origin]").inner_text()
    assert "企业自查发现" in found_by and "自查自改销号" in found_by
    action = officer.locator("details.action-reopened")
    assert action.locator("summary").inner_text() == "抽查不合格（重新整改）"
    assert officer.locator("details.action-spot_checked").count() == 1
    action.evaluate("d => d.open = true")
    action.locator("textarea[name=reason]").fill("灭火器压力仍不足")
    action.locator("button[type=submit]").click()
    officer.wait_for_load_state("networkidle")
    assert "操作已记录" in officer.locator(".alert.ok").inner_text()
    assert "不合格，重新整改" in officer.locator("dd[data-origin]").inner_text()
    entry = officer.locator("li.event.ev-reopened").first.inner_text()
    assert "灭火器压力仍不足" in entry
    officer.screenshot(path=str(artifacts / "self-inspection-reopened.png"), full_page=True)

    page.reload()
    assert int(kpi(page, "self_found")) == found + 1
    assert (
        int(_cell(page, "self-inspection-districts", mall, "企业自查发现隐患")) == found_before + 1
    )
    after = int(_cell(page, "self-inspection-districts", mall, "自查自改销号"))
    assert after == closed_before - 1  # a reopened closure is no self-closure
    officer_ctx.close()
    ctx.close()
