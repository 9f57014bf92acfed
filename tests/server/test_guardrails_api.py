"""The guard-rails over real HTTP on both databases: separation of duties at 销号 of a major
hazard, and an unassigned hazard flagged overdue for the officer by the overdue job, in the
lists and in a notification written in local time and whole days."""

from __future__ import annotations

from test_hazard_chain import PLANT, event, report, upload

from server.scheduler import run_job


def test_the_officer_who_verified_a_major_hazard_may_not_close_it(live_demo):
    inspector, officer, officer3 = (
        live_demo.login(u) for u in ("inspector", "officer", "officer3")
    )
    hid = report(inspector, site=PLANT, severity="major", title="职责分离测试")["id"]
    event(officer, hid, "assigned", responsible_unit="氯碱化工", responsible_person="吴厂长")
    plan = dict(responsibility="厂长", measures="加装SIS", funds="80万", deadline="30日",
                contingency="双人巡检")  # fmt: skip
    event(officer3, hid, "plan_submitted", **plan)
    sha = upload(officer3, "separation")
    event(officer3, hid, "rectification_submitted", description="已加装", evidence=[sha])
    assert event(officer, hid, "verified")["state"] == "verified"
    refused = event(officer, hid, "closed", expect=409)
    assert refused["code"] == "closer_is_verifier"
    assert "复查人不能同时销号" in refused["message"]
    assert live_demo.login("officer").get(f"/hazards/{hid}").json()["state"] == "verified"
    closed = event(officer3, hid, "closed", comment="另一名监管人员销号")
    assert closed["state"] == "closed"


def test_an_unassigned_hazard_becomes_overdue_for_the_officer(live_demo, clock):
    inspector, officer = live_demo.login("inspector"), live_demo.login("officer")
    h = report(inspector, title="无人交办的隐患")
    hid = h["id"]
    assert h["link_deadline"] and not h["overdue"]
    engine, settings = live_demo.app.state.engine, live_demo.app.state.settings
    clock.advance(hours=20)
    run_job(engine, "flag_overdue", clock.now(), settings)
    assert not officer.get(f"/hazards/{hid}").json()["overdue"]  # within the officer's day

    clock.advance(days=2)
    run_job(engine, "flag_overdue", clock.now(), settings)
    got = officer.get(f"/hazards/{hid}").json()
    assert got["overdue"] and got["state"] == "reported"
    assert got["events"][-1]["type"] == "overdue"
    assert got["events"][-1]["payload"]["deadline"] == h["link_deadline"]
    listed = officer.get("/hazards", params={"overdue": "true", "limit": 200}).json()["items"]
    assert hid in {x["id"] for x in listed}
    run_job(engine, "flag_overdue", clock.now(), settings)  # once per step deadline
    assert len(officer.get(f"/hazards/{hid}").json()["events"]) == len(got["events"])

    run_job(engine, "remind", clock.now(), settings)
    notes = officer.get("/notifications", params={"limit": 100}).json()["items"]
    [note] = [n for n in notes if n["hazard_id"] == hid]
    assert note["title"] == "隐患逾期未交办：无人交办的隐患"
    assert "Z" not in note["body"].split("\n")[0] and "T" not in note["body"].split("\n")[0]
    assert "已逾期" in note["body"] and "天" in note["body"]

    assigned = event(officer, hid, "assigned", responsible_unit="万达广场", responsible_person="陈")
    assert not assigned["overdue"]  # a new deadline starts clean
