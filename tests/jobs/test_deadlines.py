"""The clock travels through deadlines: overdue is flagged once per deadline, reminders go out
once per threshold, escalation climbs district → city and tells that level's people."""

from __future__ import annotations

from datetime import timedelta

from server.hazards.models import Hazard
from server.notifications.models import HazardReminder, Notification
from tests.jobs.world import World


def notes(world: World, kind: str) -> dict[str, list[str]]:
    """username → titles of their notifications of this kind."""
    names = {v: k for k, v in world.user_ids.items()}
    with world.session() as s:
        from sqlmodel import select

        rows = s.exec(
            select(Notification).where(Notification.kind == kind).order_by(Notification.created_at)
        ).all()
    out: dict[str, list[str]] = {}
    for n in rows:
        out.setdefault(names[n.user_id], []).append(n.title)
    return out


def test_overdue_flagged_once_per_deadline(world: World, clock, run):
    hid = world.report("inspector", "mall", "疏散通道堵塞")
    world.assign(hid, days=2)
    deadline = clock.now() + timedelta(days=2)
    clock.set(deadline - timedelta(minutes=1))
    assert run("flag_overdue", clock.now()) == 0
    clock.set(deadline + timedelta(minutes=1))
    assert run("flag_overdue", clock.now()) == 1
    assert run("flag_overdue", clock.now()) == 0  # twice adds nothing
    overdue = world.events(hid, "overdue")
    assert len(overdue) == 1 and overdue[0].actor_role == "system"
    # a granted extension starts a new deadline; passing it is a second, separate flag
    world.event(
        "officer",
        hid,
        "extension_requested",
        new_deadline=(deadline + timedelta(days=5)).isoformat(),
        reason="等配件",
    )
    world.event("officer", hid, "extension_granted")
    clock.set(deadline + timedelta(days=5, minutes=1))
    assert run("flag_overdue", clock.now()) == 1
    assert run("flag_overdue", clock.now()) == 0
    assert [e.payload["deadline"][:10] for e in world.events(hid, "overdue")] == [
        deadline.date().isoformat(),
        (deadline + timedelta(days=5)).date().isoformat(),
    ]


def test_overdue_notice_goes_to_owner_and_district_officers(world: World, clock, run):
    hid = world.report("inspector", "mall", "消防栓无水")
    world.assign(hid, days=1, responsible_user_id=world.user_ids["enterprise"])
    clock.advance(days=1, minutes=5)
    run("flag_overdue", clock.now())
    assert run("remind", clock.now())["overdue_notices"] == 3
    assert run("remind", clock.now())["overdue_notices"] == 0
    got = notes(world, "overdue")
    assert set(got) == {"enterprise", "officer", "officer2"}  # not Wuda's, not the city's
    assert got["officer"] == ["隐患逾期：消防栓无水"]


def test_reminders_once_per_threshold(world: World, clock, run):
    hid = world.report("inspector", "mall", "灭火器过期")
    world.assign(hid, days=5, responsible_user_id=world.user_ids["enterprise"])
    deadline = clock.now() + timedelta(days=5)
    assert run("remind", clock.now())["reminders"] == 0
    clock.set(deadline - timedelta(days=3, minutes=-1))  # 2d 23h 59m left
    assert run("remind", clock.now())["reminders"] == 1
    assert run("remind", clock.now())["reminders"] == 0
    clock.set(deadline - timedelta(days=2))
    assert run("remind", clock.now())["reminders"] == 0
    clock.set(deadline - timedelta(hours=23))
    assert run("remind", clock.now())["reminders"] == 1
    assert run("remind", clock.now())["reminders"] == 0
    got = notes(world, "reminder")
    assert set(got) == {"enterprise", "officer", "officer2"}
    assert [t.split("（")[1] for t in got["enterprise"]] == ["剩余2天23小时）", "剩余23小时）"]
    clock.set(deadline + timedelta(minutes=1))  # past the deadline: no more reminders
    assert run("remind", clock.now())["reminders"] == 0


def test_a_late_assignment_gets_only_the_nearest_reminder(world: World, clock, run):
    hid = world.report("inspector", "mall", "应急照明损坏")
    world.assign(hid, days=0.5)
    assert run("remind", clock.now())["reminders"] == 1
    with world.session() as s:
        from sqlmodel import select

        rows = s.exec(select(HazardReminder).where(HazardReminder.hazard_id == hid)).all()
    assert sorted((r.threshold_days, r.sent) for r in rows) == [(1, True), (3, False)]
    assert len(notes(world, "reminder")["officer"]) == 1


def test_general_hazard_escalates_district_then_city(world: World, clock, run, job_settings):
    hid = world.report("inspector", "school", "教室电线老化")  # a street under Haibowan
    world.assign(hid, days=1)
    deadline = clock.now() + timedelta(days=1)
    clock.set(deadline + timedelta(days=3, minutes=-1))
    assert run("escalate", clock.now())["escalated"] == 0
    clock.set(deadline + timedelta(days=3, minutes=1))
    out = run("escalate", clock.now())
    assert out["escalated"] == 1 and out["notices"] == 3  # officer, officer2, hleader
    assert run("escalate", clock.now()) == {"escalated": 0, "notices": 0}
    clock.set(deadline + timedelta(days=6, minutes=1))
    out = run("escalate", clock.now())
    assert out["escalated"] == 1 and out["notices"] == 2  # leader and cityofficer
    assert run("escalate", clock.now()) == {"escalated": 0, "notices": 0}
    clock.advance(days=30)
    assert run("escalate", clock.now())["escalated"] == 0  # the city is the top
    levels = [(e.payload["level"], e.payload["supervising_level"], e.actor_role)
              for e in world.events(hid, "escalated")]  # fmt: skip
    assert levels == [(1, "district", "system"), (2, "city", "system")]
    assert "逾期3天" in world.events(hid, "escalated")[0].payload["reason"]
    got = notes(world, "escalated")
    assert set(got) == {"officer", "officer2", "hleader", "leader", "cityofficer"}
    assert got["leader"] == ["市级挂牌督办：教室电线老化"]
    assert got["officer"] == ["区县挂牌督办：教室电线老化"]
    # N is a setting
    assert job_settings.escalate_after_days == 3


def test_escalation_threshold_is_configurable(world: World, clock, run, job_settings):
    hid = world.report("inspector", "mall", "防火门常开")
    world.assign(hid, days=1)
    clock.advance(days=2, minutes=1)  # one day overdue
    assert run("escalate", clock.now())["escalated"] == 0
    quick = job_settings.model_copy(update={"escalate_after_days": 1})
    assert run("escalate", clock.now(), quick)["escalated"] == 1


def test_major_overdue_goes_to_city_at_once(world: World, clock, run):
    hid = world.report("winspector", "mine", "瓦斯超限作业", severity="major")
    world.assign(hid, days=2, who="wofficer")
    out = run("escalate", clock.now())  # the report's own level-1 escalation is announced
    assert out == {"escalated": 0, "notices": 1}  # wofficer (Wuda has no leader)
    clock.advance(days=2, minutes=1)
    assert run("escalate", clock.now())["escalated"] == 1
    assert run("escalate", clock.now())["escalated"] == 0
    with world.session() as s:
        assert s.get(Hazard, hid).escalation_level == 2
    assert set(notes(world, "escalated")) == {"wofficer", "leader", "cityofficer"}


def test_no_escalation_while_in_review_or_closed(world: World, clock, run):
    hid = world.report("inspector", "mall", "安全出口锁闭")
    world.assign(hid, days=1)
    world.event(
        "officer2",
        hid,
        "rectification_submitted",
        description="done",
        evidence=[world.evidence("x", "officer2")],
    )
    clock.advance(days=10)
    assert run("flag_overdue", clock.now()) == 0
    assert run("escalate", clock.now())["escalated"] == 0


def test_due_hazards_are_read_in_pages(world: World, clock, run, monkeypatch):
    import server.hazards.scheduled
    import server.jobs.pages

    monkeypatch.setattr(server.jobs.pages, "BATCH", 2)
    monkeypatch.setattr(server.hazards.scheduled, "BATCH", 3)  # units across pages
    ids = []
    for i in range(5):
        ids.append(world.report("inspector", "mall", f"隐患{i}"))
        world.assign(ids[-1], days=1 + i / 100)  # distinct deadlines
    tie = world.report("inspector", "mall", "同一期限")
    world.assign(tie, days=1)  # the same deadline as the first: the id breaks the tie
    clock.advance(days=10)
    assert run("flag_overdue", clock.now()) == 6
    assert run("escalate", clock.now())["escalated"] == 6
    assert run("flag_overdue", clock.now()) == 0
    assert run("escalate", clock.now())["escalated"] == 0
