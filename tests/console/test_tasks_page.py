"""The inspection tasks page (检查任务) on SQLite and PostgreSQL: plans made through the API, the
clock moved past their due days, and the page read over HTTP and in real Chromium. What the
page calls 逾期未检 must be exactly the tasks still owed past their due time."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from console_helpers import MALL, browser_login, raise_inspection

from server.console import i18n
from server.console.tasks import STATUS_NAMES, TAB_NAMES
from server.demo import HAIBOWAN, SITES, WUDA, did
from server.scheduler import run_job

SCHOOL = did("site", "乌海市第一中学")
STORE = did("site", "乌海百货大楼")
ROW = re.compile(r'data-task="([0-9a-f-]{36})" data-status="(\w+)"')
# 2026-03-04 09:00 in Wuhai: the daily tasks of 2 and 3 March are over
DAY3 = datetime(2026, 3, 4, 1, 0, tzinfo=UTC)


def rows(html: str) -> list[tuple[str, str]]:
    return ROW.findall(html)


def tab_count(html: str, tab: str) -> int:
    m = re.search(rf'data-tab="{tab}">[^<]*<span class="count">(\d+)</span>', html)
    assert m, f"no count on tab {tab}"
    return int(m.group(1))


def plan(officer, **kw) -> dict:
    body = {
        "name": "商场学校日检",
        "site_ids": [MALL, SCHOOL],
        "template_id": "crowded_venue",
        "template_version": 1,
        "frequency": "daily",
        "start_date": "2026-03-02",
    } | kw
    r = officer.post("/plans", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def api_tasks(api, **params) -> list[dict]:
    return api.get("/tasks", params={"limit": 500, **params}).json()["items"]


def with_missed_tasks(live, clock, inspector_id: str) -> dict[str, object]:
    """Two plans; two days later four daily tasks were missed: one is then done late, one
    skipped with a reason, and one of today's done on time with a real inspection."""
    officer, inspector = live.login("officer"), live.login("inspector")
    daily = plan(officer)
    plan(
        officer, name="百货大楼周检", site_ids=[STORE], frequency="weekly",
        assignee_user_id=inspector_id,
    )  # fmt: skip
    clock.set(DAY3)
    settings = live.app.state.settings
    assert run_job(live.app.state.engine, "plan_tasks", clock.now(), settings)["missed"] == 4
    tasks = {(t["site_id"], t["scheduled_for"]): t for t in api_tasks(officer, plan=daily["id"])}
    late = tasks[(MALL, "2026-03-03")]
    assert inspector.post(f"/tasks/{late['id']}/complete", json={}).json()["late"] is True
    skipped = tasks[(SCHOOL, "2026-03-02")]
    r = inspector.post(f"/tasks/{skipped['id']}/skip", json={"reason": "学校放假停课"})
    assert r.status_code == 200
    inspection_id, _ = raise_inspection(live.app.state.engine, clock)
    on_time = tasks[(MALL, "2026-03-04")]
    r = inspector.post(f"/tasks/{on_time['id']}/complete", json={"inspection_id": inspection_id})
    assert r.json()["late"] is False
    return {"officer": officer, "inspection_id": inspection_id, "late": late["id"]}


def inspector_id(live) -> str:
    return live.login("inspector").get("/me").json()["id"]


def test_missed_tab_lists_exactly_the_missed_tasks(console, live_demo, clock):
    made = with_missed_tasks(live_demo, clock, inspector_id(live_demo))
    api = made["officer"]
    missed = {t["id"] for t in api_tasks(api, status="missed")}
    assert len(missed) == 2  # mall 2 March, school 3 March

    officer = console("officer")
    page = officer.get("/console/tasks")
    assert page.status_code == 200
    html = page.text
    assert 'class="active" data-tab="missed"' in html  # the default tab
    assert {i for i, _ in rows(html)} == missed
    assert {s for _, s in rows(html)} == {"missed"}
    assert tab_count(html, "missed") == 2 and re.search(r'id="task-total">2<', html)
    assert "万达广场乌海店" in html and "乌海市第一中学" in html and "海勃湾区" in html
    assert "人员密集场所消防安全检查表" in html and "全部检查员" in html
    assert "逾期未检" in html and "2026-03-02" in html

    opened = {t["id"] for t in api_tasks(api, status="open")}
    assert len(opened) == 17  # daily 4…11 March × 2 less the one done, weekly 2 and 9 March
    html = officer.get("/console/tasks?tab=open").text
    assert {i for i, _ in rows(html)} == opened and tab_count(html, "open") == 17
    assert "张检查" in html  # the weekly plan's own inspector
    assert "乌海百货大楼" in html

    html = officer.get("/console/tasks?tab=done").text
    assert [s for _, s in rows(html)] == ["done", "done"]
    assert "迟交" in html  # the missed one done late left the missed tab for this one
    assert html.count("迟交") == 1
    assert f'href="/console/inspections/{made["inspection_id"]}"' in html
    html = officer.get("/console/tasks?tab=skipped").text
    assert len(rows(html)) == 1 and "学校放假停课" in html
    html = officer.get("/console/tasks?tab=all").text
    assert len(rows(html)) == tab_count(html, "all") == 22
    assert [tab_count(html, t) for t in ("missed", "open", "done", "skipped")] == [2, 17, 2, 1]

    # filters: a district, a day, a window before the plans began
    html = officer.get(f"/console/tasks?tab=all&district={HAIBOWAN}&date_to=2026-03-02").text
    assert sorted(s for _, s in rows(html)) == ["missed", "open", "skipped"]  # 2 March's
    assert f'value="{HAIBOWAN}" selected' in html
    nowhere = officer.get(f"/console/tasks?district={WUDA}").text  # not the officer's: ignored
    assert {i for i, _ in rows(nowhere)} == missed
    empty = officer.get("/console/tasks?date_from=2026-01-01&date_to=2026-01-31")
    assert rows(empty.text) == [] and "该条件下没有检查任务。" in empty.text

    # the leader reads the whole city; the other district's officer sees none of it
    leader = console("leader")
    assert {i for i, _ in rows(leader.get("/console/tasks").text)} == missed
    assert rows(leader.get(f"/console/tasks?tab=all&district={WUDA}").text) == []
    assert rows(console("officer2").get("/console/tasks").text) == []


def test_roles_bad_input_and_english(console, live_demo, clock):
    with_missed_tasks(live_demo, clock, inspector_id(live_demo))
    for who in ("inspector", "enterprise"):
        page = console(who).get("/console/tasks")
        assert page.status_code == 403 and "您的角色无权访问此页面。" in page.text
    assert 'href="/console/tasks"' not in console("inspector").get("/console/inspections").text
    assert 'href="/console/tasks"' in console("leader").get("/console/plans").text

    officer = console("officer")
    for bad in (
        "?date_from=xx&tab=zzz",
        "?date_to=2026-13-45&offset=-5&district=nowhere",
        "?offset=abc&tab=",
        "?offset=99999999999999&tab=all",
        "?date_from=%00&date_to=" + "9" * 300,
    ):
        page = officer.get("/console/tasks" + bad)
        assert page.status_code == 200, bad
        assert 'class="active" data-tab="' in page.text
    garbage = officer.get("/console/tasks?date_from=xx&tab=zzz").text
    assert 'class="active" data-tab="missed"' in garbage and len(rows(garbage)) == 2
    assert 'value="2026-02-02"' in garbage and 'value="2026-03-11"' in garbage  # −30 / +7 days

    i18n.EN_MISSING.clear()
    en = console("officer", lang="en")
    for tab in TAB_NAMES:
        html = en.get(f"/console/tasks?tab={tab}").text
        assert "Inspection tasks" in html and "Missed" in html
    assert "Every inspector" in en.get("/console/tasks").text
    assert "Late" in en.get("/console/tasks?tab=done").text
    assert not i18n.EN_MISSING
    words = set(TAB_NAMES.values()) | set(STATUS_NAMES.values()) | {"检查任务"}
    assert not [w for w in words if w not in i18n.EN]  # labels the template passes by name


def test_a_hundred_per_page(console, live_demo, clock):
    officer = live_demo.login("officer")
    haibowan = [did("site", name) for name, _, _, district, _ in SITES if district == HAIBOWAN]
    # every kind of site on one fire-safety checklist: an exception, so it says why
    plan(officer, name="海勃湾全域日检", site_ids=haibowan, checklist_override="全域消防专项检查")
    total = len(haibowan) * 8  # 2…9 March
    assert total > 100
    page = console("officer")
    first = page.get("/console/tasks?tab=open").text
    assert len(rows(first)) == 100 and f'id="task-total">{total}<' in first
    assert "offset=100" in first and "上一页" not in first
    second = page.get("/console/tasks?tab=open&offset=100").text
    assert len(rows(second)) == min(100, total - 100) and "上一页" in second
    assert ("下一页" in second) == (total > 200)
    assert not {i for i, _ in rows(first)} & {i for i, _ in rows(second)}
    last = page.get(f"/console/tasks?tab=open&offset={(total - 1) // 100 * 100}").text
    assert len(rows(last)) == total - (total - 1) // 100 * 100 and "下一页" not in last
    beyond = page.get("/console/tasks?tab=open&offset=5000").text  # a stale link: the last page
    assert rows(beyond) == rows(last)


def test_tasks_page_in_chromium(live_demo, browser, artifacts, clock):
    with_missed_tasks(live_demo, clock, inspector_id(live_demo))
    base = live_demo.url
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    browser_login(page, base, "officer")

    page.click("header.top nav a[href='/console/tasks']")
    page.wait_for_load_state("networkidle")
    assert page.locator("nav.tabs a.active").get_attribute("data-tab") == "missed"
    assert page.locator("table.tasks tbody tr.late").count() == 2
    assert page.locator("table.tasks tbody tr").count() == 2
    page.click("nav.tabs a[data-tab=all]")
    page.wait_for_load_state("networkidle")
    assert page.locator("table.tasks tbody tr").count() == 22
    assert page.locator(".badge.late").count() == 2
    page.screenshot(path=str(artifacts / "tasks.png"), full_page=True)

    page.fill("input[name=date_from]", "2026-03-02")
    page.fill("input[name=date_to]", "2026-03-02")
    page.click("form.filters button.primary")
    page.wait_for_load_state("networkidle")
    assert page.locator("table.tasks tbody tr").count() == 3
    page.fill("input[name=date_to]", "2026-03-01")
    page.click("form.filters button.primary")
    page.wait_for_load_state("networkidle")
    assert "该条件下没有检查任务。" in page.locator(".empty").inner_text()

    page.goto(f"{base}/console/lang/en?next=/console/tasks%3Ftab%3Dall")
    assert page.locator("h1").inner_text() == "Inspection tasks"
    assert "Missed" in page.locator("nav.tabs").inner_text()
    page.screenshot(path=str(artifacts / "tasks-en.png"), full_page=True)
    ctx.close()


def test_stopping_a_plan_cancels_its_future_tasks_and_the_tabs_add_up(console, live_demo, clock):
    made = with_missed_tasks(live_demo, clock, inspector_id(live_demo))
    api = made["officer"]
    daily = next(
        p
        for p in api.get("/plans", params={"limit": 500}).json()["items"]
        if p["name"] == "商场学校日检"
    )
    officer = console("officer")
    r = officer.post_form(
        f"/console/plans/{daily['id']}/active", {"active": "no"}, from_page="/console/plans"
    )
    assert r.status_code == 303, r.text
    tasks = api_tasks(api, plan=daily["id"])
    future = [t for t in tasks if t["scheduled_for"] > "2026-03-04"]
    assert len(future) == 14 and {t["status"] for t in future} == {"cancelled"}
    # today's task stays to be done; what was done, skipped or missed stays as it was
    today = {t["site_id"]: t["status"] for t in tasks if t["scheduled_for"] == "2026-03-04"}
    assert today == {MALL: "done", SCHOOL: "open"}
    html = officer.get("/console/tasks?tab=all").text
    counts = {tab: tab_count(html, tab) for tab in TAB_NAMES}
    assert counts == {
        "missed": 2, "open": 3, "done": 2, "skipped": 1, "cancelled": 14, "all": 22,
    }  # fmt: skip
    assert sum(n for tab, n in counts.items() if tab != "all") == counts["all"]
    html = officer.get("/console/tasks?tab=cancelled").text
    assert len(rows(html)) == 14 and {s for _, s in rows(html)} == {"cancelled"}
    assert "已取消" in html
