"""The daily summary against a data set built by hand through the services: every figure is
counted here on paper first. Times are Wuhai local (UTC+8) unless they say UTC."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest
from sqlmodel import Session, select

from server.db import metadata
from server.summaries import service
from server.summaries.models import DailySummary
from tests.jobs.world import CITY, HAIBOWAN, STREET, WUDA, World
from tests.jobs.world import local as utc

D = date(2026, 3, 5)


def _inspections(world: World, rows: list[tuple[str, datetime]]) -> None:
    """Inspections as the inspections domain stores them (the major-per-1,000 denominator)."""
    tpl, insp = metadata.tables["checklist_template"], metadata.tables["inspection"]
    with world.session() as s:
        s.execute(
            tpl.insert().values(
                id="crowded_venue", version=1, title="人员密集场所", title_en="", industry="crowded_venue",
                digest="0" * 64, item_count=1, major_count=0, content={}, imported_at=utc(1, 8),
            )
        )  # fmt: skip
        for site, at in rows:
            s.execute(
                insp.insert().values(
                    id=str(uuid.uuid4()), site_id=world.site_ids[site],
                    district_id=HAIBOWAN if site in ("mall", "plant") else WUDA,
                    template_id="crowded_venue", template_version=1, template_digest="0" * 64,
                    inspector_id=world.user_ids["inspector"], answers={}, photos={}, notes="",
                    started_at=at, ended_at=at, submitted_at=at, finding_count=0, findings=[],
                    payload_sha256="0" * 64,
                )
            )  # fmt: skip
        s.commit()


@pytest.fixture
def story(world: World, clock):
    """H1…H8 as in the module's plan; returns their ids."""
    h = {}
    clock.set(utc(2, 9))
    h["H1"] = world.report("inspector", "mall", "H1 疏散通道堵塞", inspection_id="insp-a")
    world.assign(h["H1"], days=2)  # due 4 March 09:00
    h["H2"] = world.report(
        "inspector", "plant", "H2 液氯储罐无SIS", "major", inspection_id="insp-a"
    )
    world.assign(h["H2"], days=30)
    h["H3"] = world.report("inspector", "school", "H3 教室电线老化")
    world.assign(h["H3"], days=5)
    h["H6"] = world.report("inspector", "mall", "H6 灭火器过期")
    world.assign(h["H6"], days=1)  # due 3 March 09:00
    h["H7"] = world.report("inspector", "mall", "H7 门锁")
    clock.set(utc(3, 10))
    world.close(h["H3"])  # on time
    world.event("officer", h["H7"], "cancelled", reason="误报")
    clock.set(utc(4, 23, 59))
    h["H5"] = world.report("winspector", "shop", "H5 货物堵塞通道")
    clock.set(utc(5, 0, 1))
    h["H4"] = world.report("winspector", "mine", "H4 皮带机无护罩", inspection_id="insp-b")
    clock.set(utc(5, 10))
    h["H8"] = world.report("winspector", "mine", "H8 瓦斯超限", "major")
    clock.set(utc(5, 12))
    world.close(h["H6"])  # late: due 3 March
    _inspections(
        world,
        [("mall", utc(2, 9)), ("mall", utc(2, 10)), ("plant", utc(2, 11)),
         ("mine", utc(5, 10)), ("mine", utc(6, 10))],
    )  # fmt: skip
    return h


def cell(figures, district, industry):
    rows = [
        r
        for r in figures["by_district_industry"]
        if (r["district_id"], r["industry"]) == (district, industry)
    ]
    assert len(rows) <= 1
    return (
        {k: v for k, v in rows[0].items() if k not in ("district_id", "district_name", "industry")}
        if rows
        else None
    )


def counts(new=0, closed=0, open=0, overdue=0, major_open=0, escalated=0, escalations=0):  # noqa: A002
    return dict(new=new, closed=closed, open=open, overdue=overdue, major_open=major_open,
                escalated=escalated, escalations=escalations)  # fmt: skip


def test_figures_match_the_hand_count(story, world: World, clock, run):
    clock.set(utc(5, 23, 59))
    assert (
        run("daily_summary", clock.now())["date"] == "2026-03-04"
    )  # 23:59: the 4th is the last whole day
    clock.set(utc(6, 0, 1))
    first = run("daily_summary", clock.now())
    assert (
        first["date"] == "2026-03-05" and first["stored"] == 3
    )  # city, Haibowan, Wuda (no street)
    assert run("daily_summary", clock.now())["stored"] == 0  # twice adds nothing
    with world.session() as s:
        stored = {
            r.district_id: r.figures
            for r in s.exec(select(DailySummary).where(DailySummary.day == D)).all()
        }
    assert set(stored) == {CITY, HAIBOWAN, WUDA}

    city = stored[CITY]
    assert city["date"] == "2026-03-05" and city["timezone"] == "Asia/Shanghai"
    assert city["period"] == {
        "start": "2026-03-04T16:00:00.000000Z",
        "end": "2026-03-05T16:00:00.000000Z",
    }
    assert city["totals"] == counts(
        new=2, closed=1, open=5, overdue=1, major_open=2, escalated=2, escalations=1
    )
    assert cell(city, HAIBOWAN, "crowded_venue") == counts(
        closed=1, open=1, overdue=1
    )  # H6 closed, H1 overdue
    assert cell(city, HAIBOWAN, "chemical") == counts(open=1, major_open=1, escalated=1)  # H2
    assert cell(city, WUDA, "mine") == counts(
        new=2, open=2, major_open=1, escalated=1, escalations=1
    )
    assert cell(city, WUDA, "crowded_venue") == counts(
        open=1
    )  # H5, reported at 23:59 the day before
    assert cell(city, STREET, "crowded_venue") is None  # the street rolls up into Haibowan
    rates = city["rates"]
    assert rates["on_time_closure"] == {"closed": 2, "on_time": 1, "rate": 0.5}
    assert rates["rectification"] == {
        "general": {"found": 5, "closed": 2, "rate": 0.4},  # H7 cancelled: not found
        "major": {"found": 2, "closed": 0, "rate": 0.0},
    }
    per = rates["major_per_1000_inspections"]
    assert (per["major"], per["inspections"], per["value"]) == (2, 4, 500.0)  # the 6th's is later
    assert per["inspections_source"].startswith("inspection table")
    assert city["sites_by_risk_colour"] == {"red": 2, "orange": 1, "yellow": 1, "blue": 1}
    [late] = city["longest_overdue"]
    assert (
        late["hazard_id"] == story["H1"] and late["days_overdue"] == 2
    )  # 4th 09:00 → 6th 00:00: 1.6 days, two begun
    assert late["site_name"] == "万达广场" and late["district_name"] == "海勃湾区"
    trend = {t["date"]: (t["new"], t["closed"], t["open"]) for t in city["trend"]}
    assert len(city["trend"]) == 30 and city["trend"][-1]["date"] == "2026-03-05"
    assert trend["2026-03-01"] == (0, 0, 0)
    assert trend["2026-03-02"] == (5, 0, 5)
    assert trend["2026-03-03"] == (0, 1, 3)  # H3 closed, H7 cancelled
    assert trend["2026-03-04"] == (1, 0, 4)
    assert trend["2026-03-05"] == (2, 1, 5)

    hb = stored[HAIBOWAN]
    assert hb["totals"] == counts(closed=1, open=2, overdue=1, major_open=1, escalated=1)
    assert cell(hb, STREET, "crowded_venue") is None  # H3 closed on the 3rd: nothing on the 5th
    assert hb["rates"]["rectification"]["general"] == {"found": 3, "closed": 2, "rate": 0.6667}
    assert hb["rates"]["major_per_1000_inspections"]["value"] == 333.3
    assert hb["sites_by_risk_colour"] == {"red": 1, "orange": 1, "yellow": 1, "blue": 0}
    wd = stored[WUDA]
    assert wd["totals"] == counts(new=2, open=3, major_open=1, escalated=1, escalations=1)
    assert wd["longest_overdue"] == [] and wd["rates"]["on_time_closure"]["rate"] is None

    # Later changes (H1 closed, a note on H2) do not rewrite history: regenerating the 5th
    # folds the changed chains back to the cut-off and gives the same figures.
    clock.set(utc(6, 10))
    world.close(story["H1"])
    world.event("leader", story["H2"], "note", text="请加快整改")
    with world.session() as s:
        again = service.compute(s, D, "Asia/Shanghai", [CITY, HAIBOWAN, WUDA])
        assert service.build_daily(s, D, clock.now(), "Asia/Shanghai", force=True) == 3
    assert again == stored


def test_fallback_counts_inspections_from_hazards(story, world: World, monkeypatch):
    """Without an inspection table: distinct hazard.inspection_id (H1+H2 one inspection, H4 another)."""
    from sqlalchemy import MetaData

    monkeypatch.setattr(service, "metadata", MetaData())
    with world.session() as s:
        per = service.compute(s, D, "Asia/Shanghai", [CITY])[CITY]["rates"][
            "major_per_1000_inspections"
        ]
    assert (per["major"], per["inspections"], per["value"]) == (2, 2, 1000.0)
    assert per["inspections_source"].startswith("distinct hazard.inspection_id")


def test_summary_api_scope_and_roles(story, world: World, clock, live, run):
    clock.set(utc(6, 7))
    run("daily_summary", clock.now())
    leader, hleader, wofficer = (live.login(u) for u in ("leader", "hleader", "wofficer"))
    r = leader.get("/summaries/daily", params={"date": "2026-03-05"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["district_id"] == CITY and body["stored"] is True  # the leader's widest scope
    assert body["figures"]["totals"]["open"] == 5
    r = hleader.get("/summaries/daily")  # default: yesterday, own district
    assert r.json()["district_id"] == HAIBOWAN and r.json()["date"] == "2026-03-05"
    assert hleader.get("/summaries/daily", params={"district": CITY}).status_code == 404
    assert wofficer.get("/summaries/daily", params={"district": HAIBOWAN}).status_code == 404
    assert wofficer.get("/summaries/daily", params={"district": "999999"}).status_code == 404
    assert wofficer.get("/summaries/daily").json()["district_id"] == WUDA
    # a past day never stored is computed on the fly, with the same rules
    r = leader.get("/summaries/daily", params={"date": "2026-03-03", "district": HAIBOWAN})
    assert r.status_code == 200 and r.json()["stored"] is False
    assert r.json()["figures"]["totals"]["closed"] == 1  # H3
    r = leader.get("/summaries/daily", params={"date": "2026-03-06"})
    assert r.status_code == 422 and r.json()["code"] == "day_not_over"
    assert live.login("admin").get("/summaries/daily").json()["district_id"] == CITY
    for who in ("inspector", "enterprise"):
        r = live.login(who).get("/summaries/daily")
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    with live.client() as anon:
        assert anon.get("/summaries/daily").status_code == 401


def test_leaders_are_told_the_summary_is_ready(story, world: World, clock, run):
    from server.notifications.models import Notification

    clock.set(utc(6, 7))
    assert run("daily_summary", clock.now())["notices"] == 2  # leader, hleader
    assert run("daily_summary", clock.now())["notices"] == 0
    with Session(world.engine) as s:
        titles = s.exec(select(Notification.title).where(Notification.kind == "summary")).all()
    assert titles == ["风险日报 2026-03-05 已生成"] * 2


def test_todays_live_figures_count_a_deadline_later_today_as_not_yet_overdue(world, clock):
    """Today's figures so far (the console's live view) stand at this moment: a hazard due at
    18:00 is overdue in the day's summary built tomorrow, not at 10:00 today."""
    clock.set(utc(5, 8))
    hid = world.report("inspector", "mall", "H9 消防通道临时堆物")
    world.assign(hid, days=10 / 24)  # due 5 March 18:00 local
    with world.session() as s:
        at_ten = service.compute(s, D, "Asia/Shanghai", [CITY], until=utc(5, 10))[CITY]["totals"]
        day = service.compute(s, D, "Asia/Shanghai", [CITY])[CITY]["totals"]
        evening = service.compute(s, D, "Asia/Shanghai", [CITY], until=utc(5, 19))[CITY]["totals"]
    assert at_ten["open"] == day["open"] == 1
    assert at_ten["overdue"] == 0
    assert day["overdue"] == evening["overdue"] == 1


def test_the_days_inspection_tasks_done_on_time_or_not(world, clock):
    """Planned inspections that fell due on 5 March: one done in time, one done the next
    morning (not on time), one skipped with a reason; a cancelled one and tomorrow's do not
    count."""
    from server.plans import service as plans
    from server.plans.models import InspectionTask

    clock.set(utc(4, 9))
    with world.session() as s:
        for name, sites in (("日检", ["mall", "plant"]), ("撤销的", ["mall"])):
            body = {
                "name": name,
                "site_ids": [world.site_ids[k] for k in sites],
                "template_id": "crowded_venue",
                "template_version": 1,
                "frequency": "daily",
                "start_date": D,
                "district_id": HAIBOWAN,
            }
            plans.create_plan(s, world.caller(s, "officer"), body, clock.now(), "Asia/Shanghai", 3)
        tasks = s.exec(select(InspectionTask).order_by(InspectionTask.plan_id)).all()
        on_d = [t for t in tasks if t.scheduled_for == D]
        assert len(on_d) == 3
        by_plan: dict[str, list] = {}
        for t in on_d:
            by_plan.setdefault(t.plan_id, []).append(t)
        daily, other = sorted(by_plan.values(), key=len, reverse=True)
        first, second = sorted(daily, key=lambda t: t.site_id)
        first.status, first.done_at = "done", utc(5, 15)
        second.status, second.done_at = "done", utc(6, 9)  # the next morning: late
        other[0].status = "cancelled"
        s.add_all([first, second, other[0]])
        s.commit()
    with world.session() as s:
        figures = service.compute(s, D, "Asia/Shanghai", [CITY])[CITY]
    assert figures["inspection_tasks"] == {
        "due": 2, "done_on_time": 1, "not_done": 1, "skipped": 0, "rate": 0.5,
    }  # fmt: skip
    with world.session() as s:
        second = s.get(InspectionTask, second.id)
        second.status, second.done_at = "skipped", None
        second.skip_reason, second.skipped_at = "停业", utc(5, 12)
        s.add(second)
        s.commit()
    with world.session() as s:
        figures = service.compute(s, D, "Asia/Shanghai", [CITY])[CITY]
    assert figures["inspection_tasks"] == {
        "due": 2, "done_on_time": 1, "not_done": 0, "skipped": 1, "rate": 1.0,
    }  # fmt: skip


def test_sign_off_through_the_api(story, world: World, clock, live, run):
    """签阅 over the API as the console does it: leaders only, in scope, once, with the
    figures' digest; today cannot be signed off; a bad comment is a field error."""
    clock.set(utc(6, 7))
    run("daily_summary", clock.now())
    hleader, officer = live.login("hleader"), live.login("officer")
    day = {"date": "2026-03-05", "district_id": HAIBOWAN}
    assert hleader.get("/summaries/daily/acks", params={"date": day["date"]}).json() == []
    r = hleader.post("/summaries/daily/ack", json={**day, "comment": "已阅，抓紧整改重大隐患"})
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["district_id"] == HAIBOWAN and first["date"] == "2026-03-05"
    assert first["comment"] == "已阅，抓紧整改重大隐患" and len(first["figures_sha256"]) == 64
    again = hleader.post("/summaries/daily/ack", json=day)
    assert again.status_code == 201 and again.json()["id"] == first["id"]
    listed = officer.get("/summaries/daily/acks", params={"date": day["date"]})
    assert [a["id"] for a in listed.json()] == [first["id"]]  # officers read who signed
    r = officer.post("/summaries/daily/ack", json=day)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = hleader.post("/summaries/daily/ack", json={**day, "district_id": CITY})
    assert r.status_code == 404  # out of the leader's scope
    r = hleader.post("/summaries/daily/ack", json={**day, "date": "2026-03-06"})
    assert r.status_code == 422 and r.json()["code"] == "day_not_over"
    r = hleader.post("/summaries/daily/ack", json={**day, "comment": "x" * 1001})
    assert r.status_code == 422 and "comment" in r.json()["fields"]
    r = hleader.post("/summaries/daily/ack", json={"district_id": HAIBOWAN})
    assert r.status_code == 422 and "date" in str(r.json()["fields"])
