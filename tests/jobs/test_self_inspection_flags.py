"""Missed self-inspections (企业未按要求自查, issue 18), with the jobs' clock travel on both
databases: the mall's enterprise patrols every two hours while open on one day but misses one
patrol the day before; the job flags that day once to the enterprise and, after the grace
period, once to the district's officers; a day fully patrolled is never flagged. A chemical
plant owes a check at each level (daily, weekly, ...), each counted on its own."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
from sqlmodel import col, select

from server.checklists.service import DEFAULT_ROOT, import_into
from server.demo_inspections import answered_in_full
from server.notifications.models import Notification
from server.plans.self_inspection import KIND
from server.sites.models import Site
from server.uow import unit_of_work
from server.users.models import UserSite
from shared.checklist import Template, load_all
from shared.self_inspection import due_in, ended_periods
from shared.site_checklists import SelfCheck
from tests.jobs.world import World, local

PATROL = load_all(DEFAULT_ROOT)[("fire_patrol_daily", 1)]
CHEM = load_all(DEFAULT_ROOT)[("chemical_self_check", 1)]


def _flags(world: World, site_id: str) -> list[tuple[str, str]]:
    """(username, day) of each missed-self-inspection notice about ``site_id``."""
    names = {v: k for k, v in world.user_ids.items()}
    with world.session() as s:
        rows = s.exec(
            select(Notification)
            .where(Notification.kind == KIND)
            .where(col(Notification.dedupe_key).contains(site_id))
        ).all()
    return sorted((names[n.user_id], n.dedupe_key.split(":")[3]) for n in rows)


def test_a_missed_patrol_is_flagged_once_to_the_enterprise_then_to_the_officer(
    world: World, clock, live, run, engine
):
    import_into(engine, DEFAULT_ROOT, clock.now())  # 2 March 09:00: the rule applies from 3 March
    mall = world.site_ids["mall"]

    def patrol(at: datetime) -> None:
        ent = live.login("enterprise")
        r = ent.post(
            "/inspections",
            json={
                "id": str(uuid.uuid4()), "site_id": mall, "template_id": "fire_patrol_daily",
                "template_version": 1, "answers": answered_in_full(PATROL, {}, None),
                "started_at": (at - timedelta(minutes=15)).isoformat(), "ended_at": at.isoformat(),
            },
        )  # fmt: skip
        assert r.status_code == 201, r.text

    clock.set(local(3, 22))
    for hh in (9, 11, 13, 15, 17):  # 19:00–21:00 goes unpatrolled
        patrol(local(3, hh, 30))
    clock.set(local(4, 22))
    for hh in (9, 11, 13, 15, 17, 19):
        patrol(local(4, hh, 30))

    clock.set(local(4, 1))  # 3 March is over: the enterprise hears of it, the officer not yet
    assert run("self_inspections", clock.now())["flagged"] >= 1
    assert _flags(world, mall) == [("enterprise", "2026-03-03")]
    with world.session() as s:
        note = s.exec(select(Notification).where(Notification.kind == KIND)).first()
    assert "企业未按要求自查" in note.title
    assert run("self_inspections", clock.now() + timedelta(minutes=30))["flagged"] == 0
    assert _flags(world, mall) == [("enterprise", "2026-03-03")]

    clock.set(local(5, 1))  # a day of grace later: the officers; 4 March was done in full
    run("self_inspections", clock.now())
    run("self_inspections", clock.now() + timedelta(hours=1))  # again: nothing new
    assert _flags(world, mall) == [
        ("enterprise", "2026-03-03"),
        ("officer", "2026-03-03"),
        ("officer2", "2026-03-03"),
    ]
    with world.session() as s:  # chain-free: the job wrote no hazard events
        assert world.count(Notification, Notification.kind == KIND) >= 3
    assert not world.events(etype="self_inspection_missed")


def test_rhythms_turn_into_periods_on_the_local_calendar():
    since = local(1, 0)
    now = local(3, 1)
    two_hourly = ended_periods(
        SelfCheck("fire_patrol_daily", "every_2h_open"), since=since, now=now, tz="Asia/Shanghai"
    )
    assert [p.label for p in two_hourly] == ["2026-03-01", "2026-03-02"]
    assert [a.astimezone(UTC).hour for a, _ in two_hourly[-1].slots] == [1, 3, 5, 7, 9, 11]
    assert two_hourly[-1].missing([local(2, 9, 5), local(2, 20, 59)]) == list(
        two_hourly[-1].slots[1:5]
    )
    monthly = ended_periods(
        SelfCheck("fire_check_monthly", "monthly"),
        since=datetime(2026, 1, 1, tzinfo=UTC) - timedelta(hours=8),
        now=local(3, 1),
        tz="Asia/Shanghai",
    )
    assert [p.label for p in monthly] == ["2026-01", "2026-02"]
    assert monthly[-1].start.date() == date(2026, 2, 1) and monthly[-1].missing([]) != []


def test_weeks_and_quarters_are_periods_too():
    weekly = ended_periods(
        SelfCheck("chemical_self_check", "weekly", "weekly"),
        since=local(1, 0),
        now=local(17, 1),  # a Tuesday: the week of 9–15 March ended within the lookback
        tz="Asia/Shanghai",
    )
    assert [p.label for p in weekly] == ["2026-W11"]
    assert weekly[0].start == local(9, 0) and weekly[0].end == local(16, 0)
    quarterly = ended_periods(
        SelfCheck("chemical_self_check", "quarterly", "seasonal"),
        since=datetime(2025, 10, 1, tzinfo=UTC) - timedelta(hours=8),
        now=datetime(2026, 1, 2, tzinfo=UTC),
        tz="Asia/Shanghai",
    )
    assert [p.label for p in quarterly] == ["2025-Q4"]
    assert quarterly[0].end == datetime(2026, 1, 1, tzinfo=UTC) - timedelta(hours=8)
    assert [due_in(r, 30, ("09:00", "21:00")) for r in ("daily", "weekly", "quarterly")] == [
        30,
        4,
        0,
    ]


def test_a_chemical_plant_is_flagged_per_level_and_kept_to_its_own_checklists(
    world: World, clock, live, run, engine
):
    """A chemical plant's enterprise does its weekly check but not its daily ones: the days are
    flagged, the week is not; a week with no weekly check is. A regulator's checklist stays
    refused to it."""
    import_into(engine, DEFAULT_ROOT, clock.now())  # 2 March 09:00
    plant = world.site_ids["plant"]
    with unit_of_work(engine) as s:
        s.get(Site, plant).site_type = "chemical_plant"
        s.add(UserSite(user_id=world.user_ids["enterprise"], site_id=plant))
    ent = live.login("enterprise")

    def check(template: Template, profile: str | None, at: datetime) -> httpx.Response:
        return ent.post(
            "/inspections",
            json={
                "id": str(uuid.uuid4()), "site_id": plant, "template_id": template.id,
                "template_version": template.version, "profile": profile,
                "answers": answered_in_full(template, {}, profile),
                "started_at": (at - timedelta(minutes=40)).isoformat(), "ended_at": at.isoformat(),
            },
        )  # fmt: skip

    clock.set(local(14, 16))
    r = check(CHEM, "weekly", local(14, 15))  # the workshop's weekly check, on a Saturday
    assert r.status_code == 201, r.text
    regulators = load_all(DEFAULT_ROOT)[("hazardous_chemicals", 3)]
    refused = check(regulators, None, local(14, 15, 30))
    assert refused.status_code == 403 and refused.json()["code"] == "checklist_not_yours"

    clock.set(local(16, 1))  # Monday: last week is over
    run("self_inspections", clock.now())
    flags = {day for who, day in _flags(world, plant) if who == "enterprise"}
    # no daily check those days: the weekly one on the 14th is not the day's daily one
    assert {"2026-03-13", "2026-03-14", "2026-03-15"} <= flags
    assert "2026-W11" not in flags  # the weekly one was done

    clock.set(local(23, 1))  # the next week had none
    run("self_inspections", clock.now())
    assert "2026-W12" in {day for who, day in _flags(world, plant) if who == "enterprise"}
