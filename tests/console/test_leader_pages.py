"""The leader's dashboard, sign-off, printable report and summary export over real HTTP on
SQLite and PostgreSQL; the figures are the summaries service's own."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from console_helpers import VERIFIED
from openpyxl import load_workbook
from sqlmodel import Session, select

from server.summaries.models import SummaryAck
from server.summaries.service import build_daily
from server.uow import unit_of_work

YESTERDAY = "2026-03-01"  # the demo clock stands at 2026-03-02 09:00 in Wuhai
KPI = re.compile(
    r'data-kpi="(\w+)">\s*<div class="label">[^<]*</div>\s*<div class="value">([^<]+)</div>'
)


def kpis(html: str) -> dict[str, str]:
    return dict(KPI.findall(html))


def test_dashboard_shows_the_summary_services_figures(console, live_demo):
    leader = console("leader")
    html = leader.get("/console/dashboard").text
    figures = live_demo.login("leader").get("/summaries/daily").json()["figures"]
    assert figures["date"] == YESTERDAY
    tiles = kpis(html)
    for key in ("new", "closed", "open", "overdue", "major_open", "escalated"):
        assert tiles[key] == str(figures["totals"][key]), key
    rect = figures["rates"]["rectification"]["general"]["rate"]
    assert tiles["rect_general"] == ("—" if rect is None else f"{rect * 100:.1f}%")
    for row in figures["longest_overdue"]:
        assert f'href="/console/hazards/{row["hazard_id"]}"' in html
    assert '<svg class="trend"' in html and html.count('class="bar new"') >= 30
    assert "按当日数据即时计算" in html  # nothing stored yet
    for district in ("海勃湾区", "乌达区", "海南区"):
        assert f"<h3>{district}" in html  # the four-colour picture, by district


def test_todays_live_figures_follow_a_closure(console):
    leader, officer = console("leader"), console("officer")
    before = kpis(leader.get("/console/dashboard?date=today").text)
    page = f"/console/hazards/{VERIFIED}"
    r = officer.post_form(f"{page}/act", {"action": "closed"}, from_page=page)
    assert r.status_code == 303
    after = kpis(leader.get("/console/dashboard?date=today").text)
    assert int(after["closed"]) == int(before["closed"]) + 1
    assert int(after["open"]) == int(before["open"]) - 1


def test_leader_signs_off_once_with_time_and_name(console, live_demo, clock):
    leader = console("leader")
    r = leader.post_form(
        "/console/dashboard/ack",
        {"date": YESTERDAY, "district": "150300"},
        from_page="/console/dashboard",
    )
    assert r.status_code == 303
    html = leader.get(r.headers["location"]).text
    assert "已签阅" in html and "王局长" in html and 'id="ack-button"' not in html
    again = leader.post_form(
        "/console/dashboard/ack",
        {"date": YESTERDAY, "district": "150300"},
        from_page="/console/dashboard",
    )
    assert again.status_code == 303
    with Session(live_demo.app.state.engine) as s:
        acks = s.exec(select(SummaryAck)).all()
    assert len(acks) == 1
    ack = acks[0]
    assert ack.user_name == "王局长" and ack.day == date(2026, 3, 1) and ack.district_id == "150300"
    assert ack.acknowledged_at == clock.now() and len(ack.figures_sha256) == 64 and not ack.stored
    # the printed report carries the sign-off
    report = leader.get(f"/console/reports/daily?date={YESTERDAY}&district=150300").text
    assert "安全生产隐患排查治理日报" in report and "王局长" in report
    # officers read but do not sign; today cannot be signed; a district out of scope is 404
    officer = console("officer")
    assert 'id="ack-button"' not in officer.get("/console/dashboard").text
    r = officer.post_form(
        "/console/dashboard/ack",
        {"date": YESTERDAY, "district": "150302"},
        from_page="/console/dashboard",
    )
    assert r.status_code == 403 and "只有领导可以签阅日报" in r.text
    r = leader.post_form(
        "/console/dashboard/ack",
        {"date": "today", "district": "150300"},
        from_page="/console/dashboard",
    )
    assert r.status_code == 422 and "该日尚未结束" in r.text
    assert officer.get("/console/dashboard?district=150304").status_code == 404


def test_stored_snapshot_is_read_and_exported(console, live_demo, clock):
    with unit_of_work(live_demo.app.state.engine) as s:  # the test is the job's edge
        build_daily(s, date(2026, 3, 1), clock.now(), "Asia/Shanghai")
        s.commit()  # the test is the edge (services only flush since #12)
    leader = console("leader")
    html = leader.get(f"/console/dashboard?date={YESTERDAY}&district=150302").text
    assert "07:00 定时生成的存档" in html and "海勃湾区" in html
    figures = (
        live_demo.login("leader")
        .get("/summaries/daily", params={"date": YESTERDAY, "district": "150302"})
        .json()["figures"]
    )
    r = leader.get(f"/console/export/daily.xlsx?date={YESTERDAY}&district=150302")
    assert r.status_code == 200 and "spreadsheetml" in r.headers["content-type"]
    wb = load_workbook(io.BytesIO(r.content))
    overview = {row[0]: row[1] for row in wb.worksheets[0].iter_rows(values_only=True) if row}
    assert overview["在办隐患总数"] == figures["totals"]["open"]
    assert overview["逾期未改"] == figures["totals"]["overdue"]
    longest = list(wb.worksheets[2].iter_rows(values_only=True))[1:]
    # 隐患编号, not UUIDs; whole days; supervision in words
    assert [row[-1] for row in longest] == [r["number"] for r in figures["longest_overdue"]]
    assert all(re.fullmatch(r"YH-\d{6}-\d{4}-\d{6}", row[-1]) for row in longest) and longest
    assert all(
        isinstance(row[5], int) and row[6] in (None, "区县督办", "市级督办") for row in longest
    )
    trend = list(wb.worksheets[3].iter_rows(values_only=True))[1:]
    assert len(trend) == 30 and trend[-1][0] == YESTERDAY
    assert [row[3] for row in trend] == [d["open"] for d in figures["trend"]]


def test_dates_are_checked(console):
    leader = console("leader")
    assert leader.get("/console/dashboard?date=not-a-date").status_code == 422
    r = leader.get("/console/dashboard?date=2099-01-01")
    assert r.status_code == 422 and "未来" in r.text
    assert (
        leader.get(f"/console/dashboard?date={(date(2026, 3, 1) - timedelta(days=90))}").status_code
        == 200
    )
