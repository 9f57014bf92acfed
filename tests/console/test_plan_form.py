"""The console's plan form takes the checklist the sites' type calls for: no coal-mine default
for malls and schools; another checklist needs a reason, shown with the plan. Over HTTP on
both databases, then in real Chromium (SQLite) with screenshots of the form and the record's
completion rate."""

from __future__ import annotations

import pytest
from console_helpers import MALL, browser_login, raise_inspection

from server.checklists.service import DEFAULT_ROOT, import_into
from server.demo import did
from shared.checklist import load_all

SCHOOL = did("site", "乌海市第一中学")
PIT = did("site", "千里山石灰石矿")
FORM = {"name": "商场学校周检", "frequency": "weekly", "start_date": "2026-03-02"}


def _latest(template_id: str) -> int:
    """The version the form offers (the newest published), whichever it is now."""
    return max(v for (i, v) in load_all(DEFAULT_ROOT) if i == template_id)


COAL = f"coal_mine@{_latest('coal_mine')}"


@pytest.fixture
def real(live_demo, clock):
    import_into(live_demo.app.state.engine, DEFAULT_ROOT, clock.now())
    return live_demo


def _plans(real) -> list[dict]:
    with real.login("officer") as api:
        return api.get("/plans", params={"limit": 500}).json()["items"]


def test_plan_form_takes_the_sites_checklist(real, console):
    officer = console("officer")
    page = officer.get("/console/plans").text
    choices = page.split('id="template-choices">')[1].split("</fieldset>")[0]
    assert (
        '<input type="radio" name="template" value="" checked> 按场所类型自动选择（推荐）'
        in choices
    )
    assert choices.count("checked") == 1  # nothing but the automatic choice is preselected
    assert "万达广场乌海店 · 商场" in page

    r = officer.post_form(
        "/console/plans",
        [*FORM.items(), ("template", ""), ("site_ids", MALL), ("site_ids", SCHOOL)],
        from_page="/console/plans",
    )
    assert r.status_code == 303, r.text[:500]
    assert [(p["name"], p["template_id"]) for p in _plans(real)] == [
        ("商场学校周检", "crowded_venue")
    ]

    coal = [*FORM.items(), ("template", COAL), ("site_ids", MALL)]
    r = officer.post_form("/console/plans", coal, from_page="/console/plans")
    assert r.status_code == 422
    assert "不适用于商场" in r.text and "人员密集场所消防安全检查表" in r.text
    assert f'value="{COAL}" checked>' in r.text  # the form keeps the choice
    assert len(_plans(real)) == 1

    reason = "地下车库试用煤矿通风检查项"
    r = officer.post_form(
        "/console/plans",
        [*coal, ("checklist_override", reason), ("name", "车库试点")],
        from_page="/console/plans",
    )
    assert r.status_code == 303
    assert f"例外理由：{reason}" in officer.get("/console/plans").text
    mixed = [*FORM.items(), ("template", ""), ("site_ids", MALL), ("site_ids", PIT)]
    r = officer.post_form("/console/plans", mixed, from_page="/console/plans")
    assert r.status_code == 422 and "所选场所适用不同的检查表" in r.text


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_plan_form_and_record_in_chromium(real, browser, artifacts, clock):
    base = real.url
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    browser_login(page, base, "officer")
    page.goto(f"{base}/console/plans")
    assert page.locator("input[name=template]:checked").get_attribute("value") == ""
    page.fill("input[name=name]", "商场每周检查")
    page.fill("input[name=start_date]", "2026-03-02")
    page.check(f"input[name=site_ids][value='{MALL}']")
    page.screenshot(path=str(artifacts / "40-plan-form.png"), full_page=True)
    page.click("form.form-grid button.primary")
    page.wait_for_load_state("networkidle")
    assert (
        f"人员密集场所消防安全检查表 v{_latest('crowded_venue')}"
        in page.locator("table.grid").inner_text()
    )  # its name, not its id

    page.fill("input[name=name]", "煤矿表误用")
    page.fill("input[name=start_date]", "2026-03-02")
    page.check(f"input[name=template][value='{COAL}']")
    page.check(f"input[name=site_ids][value='{SCHOOL}']")
    page.click("form.form-grid button.primary")
    page.wait_for_load_state("networkidle")
    assert "不适用于学校" in page.locator(".alert.error").inner_text()
    page.screenshot(path=str(artifacts / "41-plan-form-mismatch.png"), full_page=True)

    template = load_all(DEFAULT_ROOT)[("crowded_venue", 1)]
    skipped = [i for i in template.items() if i.applies_to("mall") and i.answer == "number"][:3]
    inspection_id, _ = raise_inspection(
        real.app.state.engine,
        clock,
        marks={i.id: "unchecked" for i in skipped},
        item_notes={i.id: "测温仪送检，下次补测" for i in skipped},
    )
    page.goto(f"{base}/console/inspections/{inspection_id}")
    assert "完成率" in page.locator("#completion").inner_text()
    page.screenshot(path=str(artifacts / "42-record-completion.png"), full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=str(artifacts / "43-record-completion-print.png"), full_page=True)
    ctx.close()
