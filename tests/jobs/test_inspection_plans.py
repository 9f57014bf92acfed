"""Recurring inspections: plans create tasks ahead, tasks are done or skipped (with a reason),
and a task whose day is over lands on the missed list, at local midnight in Wuhai."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from server.plans.models import InspectionPlan, InspectionTask
from server.plans.service import occurrences
from tests.jobs.world import HAIBOWAN, World
from tests.jobs.world import local as utc


def plan_body(world: World, **kw):
    body = {
        "name": "商场学校周检",
        "site_ids": [world.site_ids["mall"], world.site_ids["school"]],
        "template_id": "crowded_venue",
        "template_version": 1,
        "frequency": "weekly",
        "start_date": "2026-03-02",
    }
    return body | kw


def test_plans_make_tasks_that_inspectors_do_skip_or_miss(world: World, clock, live, run):
    officer, inspector, inspector2 = (live.login(u) for u in ("officer", "inspector", "inspector2"))
    r = officer.post("/plans", json=plan_body(world))
    assert r.status_code == 422 and "district_id" in r.json()["fields"]  # a street and a district
    r = officer.post("/plans", json=plan_body(world, district_id=HAIBOWAN))
    assert r.status_code == 201, r.text
    weekly = r.json()
    assert weekly["generated_until"] == "2026-03-09"  # a week ahead, for tablets going offline
    tasks = inspector.get("/tasks", params={"mine": "true", "plan": weekly["id"]}).json()
    assert tasks["total"] == 4  # 2 sites × (2 and 9 March), offered to every inspector
    assert {t["scheduled_for"] for t in tasks["items"]} == {"2026-03-02", "2026-03-09"}
    first = [t for t in tasks["items"] if t["scheduled_for"] == "2026-03-02"]
    assert {t["due_at"] for t in first} == {"2026-03-08T16:00:00Z"}  # local midnight, 9 March
    assert live.login("winspector").get("/tasks", params={"mine": "true"}).json()["total"] == 0

    daily = officer.post(
        "/plans",
        json=plan_body(
            world, name="商场日检", site_ids=[world.site_ids["mall"]], frequency="daily",
            assignee_user_id=world.user_ids["inspector"],
        ),
    ).json()  # fmt: skip
    assert (
        inspector.get("/tasks", params={"mine": "true", "plan": daily["id"]}).json()["total"] == 8
    )
    assert (
        inspector2.get("/tasks", params={"mine": "true", "plan": daily["id"]}).json()["total"] == 0
    )
    assert run("plan_tasks", clock.now()) == {"created": 0, "missed": 0}  # twice adds nothing

    # won't do: only with a reason
    a, b = first
    r = inspector.post(f"/tasks/{a['id']}/skip", json={"reason": "   "})
    assert r.status_code == 422
    r = inspector.post(f"/tasks/{a['id']}/skip", json={"reason": "场所停业装修"})
    assert r.status_code == 200 and r.json()["status"] == "skipped"
    assert r.json()["skip_reason"] == "场所停业装修"
    assert (
        inspector.post(f"/tasks/{a['id']}/skip", json={"reason": "场所停业装修"}).status_code == 200
    )
    r = inspector.post(f"/tasks/{a['id']}/complete", json={})
    assert r.status_code == 409 and r.json()["code"] == "invalid_state"
    done = inspector2.post(
        f"/tasks/{b['id']}/complete", json={"inspection_id": "4f6b3c1e-8a4e-4a8e-9c1a-2b3c4d5e6f70"}
    )
    assert (
        done.status_code == 200 and done.json()["status"] == "done" and done.json()["late"] is False
    )

    # day boundary: 23:59 the task still stands; 00:01 it is missed
    day2 = inspector.get("/tasks", params={"plan": daily["id"], "date_to": "2026-03-02"}).json()[
        "items"
    ][0]
    r = inspector2.post(f"/tasks/{day2['id']}/complete", json={})
    assert r.status_code == 403 and r.json()["code"] == "not_your_task"
    clock.set(utc(2, 23, 59))
    assert run("plan_tasks", clock.now()) == {"created": 0, "missed": 0}
    clock.set(utc(3, 0, 1))
    assert run("plan_tasks", clock.now()) == {"created": 1, "missed": 1}  # 10 March appears
    assert run("plan_tasks", clock.now()) == {"created": 0, "missed": 0}
    missed = officer.get("/tasks", params={"missed": "true"}).json()
    assert [(t["plan_id"], t["scheduled_for"], t["status"]) for t in missed["items"]] == [
        (daily["id"], "2026-03-02", "missed")
    ]
    late = inspector.post(f"/tasks/{day2['id']}/complete", json={}).json()
    assert late["status"] == "done" and late["late"] is True  # done late: still on the list
    assert officer.get("/tasks", params={"missed": "true"}).json()["total"] == 1
    notes = officer.get("/notifications").json()["items"]
    assert [n["kind"] for n in notes] == ["task_missed"]
    assert "万达广场" in notes[0]["title"] and "2026-03-02" in notes[0]["title"]

    # a new assignee takes the open tasks; stopping cancels what is still ahead
    r = officer.patch(
        f"/plans/{daily['id']}", json={"assignee_user_id": world.user_ids["inspector2"]}
    )
    assert r.status_code == 200
    mine2 = inspector2.get(
        "/tasks", params={"mine": "true", "plan": daily["id"], "status": "open"}
    ).json()
    assert mine2["total"] == 8  # 3…10 March
    stopped = officer.delete(f"/plans/{daily['id']}").json()
    assert stopped["active"] is False
    left = officer.get("/tasks", params={"plan": daily["id"], "status": "open"}).json()
    assert [t["scheduled_for"] for t in left["items"]] == ["2026-03-03"]  # today's stays
    assert run("plan_tasks", clock.now())["created"] == 0
    assert world.count(InspectionTask, InspectionTask.status == "cancelled") == 7


def test_plan_scope_and_roles(world: World, live):
    officer = live.login("officer")
    plan = officer.post("/plans", json=plan_body(world, district_id=HAIBOWAN)).json()
    wofficer = live.login("wofficer")
    assert wofficer.get(f"/plans/{plan['id']}").status_code == 404
    assert wofficer.patch(f"/plans/{plan['id']}", json={"name": "x"}).status_code == 404
    assert all(p["id"] != plan["id"] for p in wofficer.get("/plans").json()["items"])
    r = wofficer.post("/plans", json=plan_body(world, district_id=HAIBOWAN))
    assert r.status_code == 422 and "site_ids" in r.json()["fields"]
    r = live.login("inspector").post("/plans", json=plan_body(world, district_id=HAIBOWAN))
    assert r.status_code == 403
    assert live.login("inspector").get("/plans").status_code == 403
    assert [p["id"] for p in live.login("leader").get("/plans").json()["items"]] == [plan["id"]]
    assert (
        live.login("admin").post("/plans", json=plan_body(world, district_id=HAIBOWAN)).status_code
        == 201
    )
    assert live.login("enterprise").get("/tasks").status_code == 403
    task = officer.get("/tasks").json()["items"][0]
    assert live.login("winspector").get(f"/tasks/{task['id']}").status_code == 404
    assert (
        live.login("winspector").post(f"/tasks/{task['id']}/skip", json={"reason": "x"}).status_code
        == 404
    )
    r = officer.post(
        "/plans",
        json=plan_body(world, district_id=HAIBOWAN, assignee_user_id=world.user_ids["winspector"]),
    )
    assert r.status_code == 422 and "assignee_user_id" in r.json()["fields"]
    r = officer.post("/plans", json=plan_body(world, district_id=HAIBOWAN, frequency="hourly"))
    assert r.status_code == 422
    r = officer.post("/plans", json=plan_body(world, district_id=HAIBOWAN, end_date="2026-03-01"))
    assert r.status_code == 422 and "end_date" in r.json()["fields"]
    assert world.count(InspectionPlan) == 2


def _plan(**kw) -> InspectionPlan:
    base = dict(frequency="monthly", interval=1, start_date=date(2026, 1, 31), end_date=None)
    return InspectionPlan(**(base | kw))


def test_recurrence_arithmetic():
    monthly = _plan()
    assert [d for _k, d in occurrences(monthly, date(2026, 1, 1), date(2026, 5, 31))] == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31),
    ]  # fmt: skip
    quarterly = _plan(interval=3, start_date=date(2025, 11, 15))
    assert [d for _k, d in occurrences(quarterly, date(2026, 3, 1), date(2026, 12, 31))] == [
        date(2026, 5, 15), date(2026, 8, 15), date(2026, 11, 15),
    ]  # fmt: skip
    fortnightly = _plan(
        frequency="weekly", interval=2, start_date=date(2026, 3, 2), end_date=date(2026, 4, 1)
    )
    assert [d for _k, d in occurrences(fortnightly, date(2026, 3, 10), date(2026, 12, 1))] == [
        date(2026, 3, 16), date(2026, 3, 30),
    ]  # fmt: skip
    every3 = _plan(frequency="daily", interval=3, start_date=date(2026, 3, 2))
    assert [d.day for _k, d in occurrences(every3, date(2026, 3, 3), date(2026, 3, 12))] == [
        5,
        8,
        11,
    ]


def test_a_plan_that_fell_far_behind_catches_up_one_week(world: World, clock, live, run):
    """The jobs were stopped for two months: the next run does not bury officers under sixty
    days of tasks born missed, each with a notice; it keeps the last week (as missed) and the
    horizon ahead."""
    officer = live.login("officer")
    body = plan_body(
        world, name="商场日检", site_ids=[world.site_ids["mall"]], frequency="daily",
        district_id=HAIBOWAN,
    )  # fmt: skip
    daily = officer.post("/plans", json=body).json()
    assert daily["generated_until"] == "2026-03-09"
    clock.set(utc(2, 9) + timedelta(days=60))  # 1 May, 09:00 local
    result = run("plan_tasks", clock.now())
    # 24–30 April missed (7 days), 1 May open to 8 May ahead: 7 + 8 new tasks
    assert result == {"created": 15, "missed": 8 + 7}  # plus the first 8 days, never done
    officer = live.login("officer")  # two months on: a new login
    tasks = officer.get("/tasks", params={"plan": daily["id"], "limit": 200}).json()["items"]
    days = sorted(t["scheduled_for"] for t in tasks)
    assert days[8] == "2026-04-24" and days[-1] == "2026-05-08"
    assert not any("2026-03-10" <= d < "2026-04-24" for d in days)


def test_an_inspection_completes_the_task_it_fulfils(world: World, clock, live, run, engine):
    """The inspector does not tick tasks off by hand (a tablet offline cannot): submitting the
    site's checklist completes the task of that day; older missed ones stay missed, and a
    second inspection the same day fulfils the latest of those, done late."""
    from server.checklists.service import DEFAULT_ROOT, import_into
    from server.demo_inspections import answered_in_full
    from shared.checklist import load_all

    import_into(engine, DEFAULT_ROOT, clock.now())
    officer, inspector = live.login("officer"), live.login("inspector")
    body = plan_body(
        world, name="商场日检", site_ids=[world.site_ids["mall"]], frequency="daily",
        district_id=HAIBOWAN,
    )  # fmt: skip
    daily = officer.post("/plans", json=body).json()
    clock.set(utc(4, 10))  # 2 and 3 March were not done
    assert run("plan_tasks", clock.now())["missed"] == 2
    officer, inspector = live.login("officer"), live.login("inspector")

    venue = load_all(DEFAULT_ROOT)[("crowded_venue", 1)]
    answers = answered_in_full(venue, {}, "mall")  # a clean inspection: every item passes

    def inspect(minutes_ago: int) -> str:
        iid = str(uuid.uuid4())
        ended = clock.now() - timedelta(minutes=minutes_ago)
        r = inspector.post(
            "/inspections",
            json={
                "id": iid, "site_id": world.site_ids["mall"], "template_id": "crowded_venue",
                "template_version": 1, "profile": "mall", "answers": answers,
                "started_at": (ended - timedelta(hours=1)).isoformat(),
                "ended_at": ended.isoformat(),
            },
        )  # fmt: skip
        assert r.status_code == 201, r.text
        return iid

    first = inspect(30)
    tasks = {
        t["scheduled_for"]: t
        for t in officer.get("/tasks", params={"plan": daily["id"]}).json()["items"]
    }
    today = tasks["2026-03-04"]
    assert today["status"] == "done" and today["inspection_id"] == first and not today["late"]
    assert {tasks[d]["status"] for d in ("2026-03-02", "2026-03-03")} == {"missed"}
    assert tasks["2026-03-05"]["status"] == "open"  # tomorrow's is not done by today's visit

    second = inspect(5)
    tasks = {
        t["scheduled_for"]: t
        for t in officer.get("/tasks", params={"plan": daily["id"]}).json()["items"]
    }
    assert tasks["2026-03-03"]["inspection_id"] == second and tasks["2026-03-03"]["late"]
    assert tasks["2026-03-02"]["status"] == "missed"
