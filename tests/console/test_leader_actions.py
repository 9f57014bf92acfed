"""Leaders lead from the console, over real HTTP on SQLite and PostgreSQL and in Chromium: the
leader's hazard page offers 批示 and 挂牌督办; a 批示 waits on its owner's queue (the officer's
or the enterprise's own "待我处理") and on the hazard page until they 签收 it; the dashboard
lists what is under 挂牌督办; the sign-off takes a comment; the printed report carries a 综述
and its 编制单位. Every role's queue is its own next steps; an enterprise works at its
企业工作台. Screenshots of each changed page land in artifacts/console/."""

from __future__ import annotations

import pytest
from console_helpers import IN_REVIEW, REPORTED, WUDA_MAJOR, hazard_rows
from sqlmodel import Session, select

from server.demo import did
from server.summaries.models import SummaryAck

EBIKE = did("hazard", "地下车库电动自行车违规充电")  # the mall's, assigned to the enterprise
YESTERDAY = "2026-03-01"


def test_leader_instructs_and_the_owner_acknowledges_from_the_console(console, live_demo):
    leader, ent, officer = console("leader"), console("enterprise"), console("officer")
    page = f"/console/hazards/{EBIKE}"
    html = leader.get(page).text
    assert 'class="action action-instructed"' in html and 'class="action action-supervised"' in html
    r = leader.post_form(f"{page}/act", {"action": "instructed"}, from_page=page)
    assert r.status_code == 422 and "请填写批示内容" in r.text  # the field, in words
    r = leader.post_form(
        f"{page}/act", {"action": "instructed", "text": "本周内完成充电桩改造"}, from_page=page
    )
    assert r.status_code == 303
    html = ent.get("/console/queue?tab=next").text
    assert EBIKE in hazard_rows(html) and "待签收批示" in html
    assert "企业工作台" in html and "监管工作台" not in html
    assert 'class="action action-acknowledged"' in ent.get(page).text
    assert 'id="instructions"' in officer.get(page).text  # everyone sees it pending
    assert 'class="action action-acknowledged"' not in officer.get(page).text  # not theirs
    r = officer.post_form(f"{page}/act", {"action": "acknowledged"}, from_page=page)
    assert r.status_code == 403 and "该批示须由企业" in r.text
    r = ent.post_form(f"{page}/act", {"action": "acknowledged", "comment": "收到"}, from_page=page)
    assert r.status_code == 303
    html = ent.get(page).text
    assert 'id="instructions"' not in html and "签收批示" in html  # now in the timeline
    assert "待签收批示" not in ent.get("/console/queue?tab=next").text
    detail = live_demo.login("enterprise").get(f"/hazards/{EBIKE}").json()
    assert [e["type"] for e in detail["events"]][-2:] == ["instructed", "acknowledged"]


def test_each_roles_next_steps_and_desk(console, live_demo):
    officer, ent, leader = console("officer"), console("enterprise"), console("leader")
    mine = hazard_rows(officer.get("/console/queue?tab=next").text)
    assert REPORTED in mine and IN_REVIEW in mine and EBIKE not in mine
    ours_html = ent.get("/console/queue?tab=next").text
    ours = hazard_rows(ours_html)
    assert EBIKE in ours and IN_REVIEW not in ours  # its 已交办 work, not the officer's review
    assert "<h1>企业工作台</h1>" in ours_html
    assert 'data-tab="next"' not in leader.get("/console/queue").text  # no steps of its own
    assert "监管工作台" in officer.get("/console/queue").text
    assert 'href="/console/queue"' in ours_html  # the enterprise's nav has its desk


def test_supervision_shows_on_the_hazard_and_the_dashboard(console):
    leader = console("leader")
    page = f"/console/hazards/{WUDA_MAJOR}"
    r = leader.post_form(f"{page}/act", {"action": "supervised", "level": "2"}, from_page=page)
    assert r.status_code == 422 and "请填写督办要求" in r.text
    r = leader.post_form(
        f"{page}/act",
        {"action": "supervised", "level": "2", "reason": "市政府挂牌督办，限10日内整改到位"},
        from_page=page,
    )
    assert r.status_code == 303
    html = leader.get(page).text
    assert 'id="supervision"' in html and "市政府挂牌督办，限10日内整改到位" in html
    assert "挂牌督办 · 市级督办" in html
    dash = leader.get("/console/dashboard").text
    section = dash.split('id="supervised"')[1].split("</section>")[0]
    assert WUDA_MAJOR in section and "挂牌督办" in section


def test_signoff_with_a_comment_and_the_printed_overview(console, live_demo):
    leader = console("leader")
    r = leader.post_form(
        "/console/dashboard/ack",
        {"date": YESTERDAY, "district": "150300", "comment": "逾期重大隐患本周内清零"},
        from_page="/console/dashboard",
    )
    assert r.status_code == 303
    html = leader.get(r.headers["location"]).text
    assert "签阅意见：逾期重大隐患本周内清零" in html
    with Session(live_demo.app.state.engine) as s:
        assert s.exec(select(SummaryAck)).one().comment == "逾期重大隐患本周内清零"
    report = leader.get(f"/console/reports/daily?date={YESTERDAY}&district=150300").text
    figures = (
        live_demo.login("leader")
        .get("/summaries/daily", params={"date": YESTERDAY, "district": "150300"})
        .json()["figures"]
    )
    overview = report.split('id="overview"')[1].split("</p>")[0]
    assert "综述" in overview
    assert f"在办隐患{figures['totals']['open']}项" in overview
    assert f"逾期未改{figures['totals']['overdue']}项" in overview
    assert 'id="compiled-by">乌海市应急管理局<' in report
    assert "逾期重大隐患本周内清零" in report
    en = console("leader", lang="en").get(f"/console/reports/daily?date={YESTERDAY}").text
    assert "Summary" in en and f"{figures['totals']['open']} were open" in en
    # a comment the database cannot hold is refused by field, nothing signed
    r = console("leader").post_form(
        "/console/dashboard/ack",
        {"date": "2026-02-28", "district": "150300", "comment": "x" * 1001},
        from_page="/console/dashboard",
    )
    assert r.status_code == 422


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_leader_and_enterprise_in_chromium(live_demo, browser, artifacts):
    base = live_demo.url

    def login(username: str):
        ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
        page = ctx.new_page()
        page.on("dialog", lambda d: d.accept())
        page.goto(f"{base}/console/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "demo-password")
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    def shot(page, name: str) -> None:
        page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)

    leader = login("leader")
    leader.goto(f"{base}/console/hazards/{WUDA_MAJOR}")
    forms = leader.locator("#actions summary").all_inner_texts()
    assert "批示" in forms and "挂牌督办" in forms
    leader.locator("details.action-instructed").evaluate("d => d.open = true")
    leader.locator("details.action-supervised").evaluate("d => d.open = true")
    shot(leader, "leader-hazard-forms")
    leader.locator("details.action-instructed textarea[name=text]").fill("三日内停产整顿并上报方案")
    leader.locator("details.action-instructed button[type=submit]").click()
    leader.wait_for_load_state("networkidle")
    assert "三日内停产整顿并上报方案" in leader.locator("#instructions").inner_text()
    leader.locator("details.action-supervised").evaluate("d => d.open = true")
    leader.locator("details.action-supervised select[name=level]").select_option("2")
    leader.locator("details.action-supervised textarea[name=reason]").fill("市级挂牌督办")
    leader.locator("details.action-supervised button[type=submit]").click()
    leader.wait_for_load_state("networkidle")
    assert "市级挂牌督办" in leader.locator("#supervision").inner_text()
    shot(leader, "leader-hazard-supervised")

    officer2 = login("officer2")  # the mine owes the next step: the 批示 is for it, seen by all
    officer2.goto(f"{base}/console/hazards/{WUDA_MAJOR}")
    assert "待签收批示" in officer2.locator("#instructions").inner_text()

    leader.goto(f"{base}/console/dashboard")
    assert leader.locator(f"#supervised tr[data-hazard='{WUDA_MAJOR}']").count() == 1
    leader.locator("textarea[name=comment]").fill("逾期重大隐患本周内清零")
    leader.locator("#ack-button").click()
    leader.wait_for_load_state("networkidle")
    assert "逾期重大隐患本周内清零" in leader.locator("#signoff").inner_text()
    shot(leader, "leader-dashboard-signed")
    leader.goto(f"{base}/console/reports/daily?date={YESTERDAY}&district=150300")
    assert "综述" in leader.locator("#overview").inner_text()
    assert leader.locator("#compiled-by").inner_text() == "乌海市应急管理局"
    shot(leader, "leader-daily-report")

    leader.goto(f"{base}/console/hazards/{EBIKE}")
    leader.locator("details.action-instructed").evaluate("d => d.open = true")
    leader.locator("details.action-instructed textarea[name=text]").fill("本周内完成充电桩改造")
    leader.locator("details.action-instructed button[type=submit]").click()
    leader.wait_for_load_state("networkidle")
    ent = login("enterprise")
    assert "/console/queue" in ent.url
    ent.goto(f"{base}/console/queue?tab=next")
    assert ent.locator("h1").inner_text() == "企业工作台"
    assert "企业工作台" in ent.locator("header .brand").inner_text()
    row = ent.locator(f"tr[data-hazard='{EBIKE}']")
    assert row.locator("[data-instruction]").inner_text() == "待签收批示"
    shot(ent, "enterprise-queue-instruction")
    ent.goto(f"{base}/console/hazards/{EBIKE}")
    ent.locator("details.action-acknowledged").evaluate("d => d.open = true")
    shot(ent, "enterprise-hazard-instruction")
    ent.locator("details.action-acknowledged input[name=comment]").fill("收到，周五前完成")
    ent.locator("details.action-acknowledged button[type=submit]").click()
    ent.wait_for_load_state("networkidle")
    assert ent.locator("#instructions").count() == 0
    assert "收到，周五前完成" in ent.locator(".timeline").inner_text()
