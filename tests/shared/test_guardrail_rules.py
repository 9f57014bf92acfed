"""The guard-rails regulators expect, as chain rules in shared/: separation of duties at 销号,
the officer's own step deadline flagged like the enterprise's, and one rounding of overdue
days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.chain import Actor, EventType, HazardView, Refused, State, decide, seal_event
from shared.deadlines import DEFAULT_POLICY, DeadlinePolicy, overdue_days
from shared.events import fold_one, offered
from shared.roles import Role

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
SHA = "cd" * 32
INSPECTOR = Actor("insp-1", Role.inspector)
ENTERPRISE = Actor("ent-1", Role.enterprise)
OFFICER_A = Actor("off-a", Role.officer)
OFFICER_B = Actor("off-b", Role.officer)
SYSTEM = Actor("system", Role.system)
PLAN = {p: "已落实" for p in ("responsibility", "measures", "funds", "deadline", "contingency")}


def step(
    view: HazardView | None,
    actor: Actor,
    etype: EventType,
    payload: dict,
    at: datetime,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> HazardView:
    decision = decide(view, etype, actor, payload, at, policy)
    n = view.event_count if view else 0
    ev = seal_event(
        event_id=f"e{n}", hazard_id="h1", decision=decision, actor=actor, at=at, prev=view
    )
    return fold_one(view, ev)


def verified_major(verifier: Actor = OFFICER_A) -> HazardView:
    v = step(None, INSPECTOR, EventType.reported,
             {"site_id": "s1", "title": "排土场边坡裂缝", "severity": "major"}, T0)  # fmt: skip
    v = step(v, OFFICER_A, EventType.assigned,
             {"responsible_unit": "矿山公司", "responsible_person": "张三"}, T0)  # fmt: skip
    v = step(v, ENTERPRISE, EventType.plan_submitted, PLAN, T0)
    v = step(v, ENTERPRISE, EventType.rectification_submitted,
             {"description": "已削坡", "evidence": [SHA]}, T0)  # fmt: skip
    return step(v, verifier, EventType.verified, {}, T0)


def test_verifier_of_a_major_hazard_may_not_close_it() -> None:
    view = verified_major()
    with pytest.raises(Refused) as refused:
        decide(view, EventType.closed, OFFICER_A, {}, T0)
    assert refused.value.refusal.code == "closer_is_verifier"
    assert "复查人不能同时销号" in refused.value.refusal.zh
    assert EventType.closed not in offered(view, OFFICER_A)
    # a second officer closes it
    assert EventType.closed in offered(view, OFFICER_B)
    assert step(view, OFFICER_B, EventType.closed, {}, T0).state is State.closed


def test_separation_is_a_setting() -> None:
    view = verified_major()
    lax = DeadlinePolicy.with_overrides(None, separate_verify_close=False)
    assert EventType.closed in offered(view, OFFICER_A, lax)
    assert step(view, OFFICER_A, EventType.closed, {}, T0, lax).state is State.closed


def test_general_hazard_may_be_verified_and_closed_by_one_officer() -> None:
    v = step(None, INSPECTOR, EventType.reported,
             {"site_id": "s1", "title": "灭火器过期", "severity": "general"}, T0)  # fmt: skip
    v = step(v, OFFICER_A, EventType.assigned,
             {"responsible_unit": "商场", "responsible_person": "李四"}, T0)  # fmt: skip
    v = step(v, ENTERPRISE, EventType.rectification_submitted,
             {"description": "已更换", "evidence": [SHA]}, T0)  # fmt: skip
    v = step(v, OFFICER_A, EventType.verified, {}, T0)
    assert step(v, OFFICER_A, EventType.closed, {}, T0).state is State.closed


def test_unassigned_hazard_is_overdue_for_the_officer() -> None:
    v = step(None, INSPECTOR, EventType.reported,
             {"site_id": "s1", "title": "排土场边坡裂缝", "severity": "major"}, T0)  # fmt: skip
    with pytest.raises(Refused) as early:
        decide(v, EventType.overdue, SYSTEM, {}, T0 + timedelta(hours=23))
    assert early.value.refusal.code == "not_overdue"
    late = step(v, SYSTEM, EventType.overdue, {}, T0 + timedelta(days=20))
    assert late.overdue and late.state is State.reported
    # assigning gives a new deadline, which starts clean
    assigned = step(late, OFFICER_A, EventType.assigned,
                    {"responsible_unit": "矿山公司", "responsible_person": "张三"},
                    T0 + timedelta(days=20))  # fmt: skip
    assert not assigned.overdue


@pytest.mark.parametrize(
    ("late_by", "days"),
    [
        (timedelta(0), None),
        (-timedelta(hours=5), None),
        (timedelta(minutes=1), 1),
        (timedelta(hours=23), 1),
        (timedelta(days=1), 1),
        (timedelta(days=1, seconds=1), 1),  # 16:00 in Wuhai: one calendar day later
        (timedelta(days=1, hours=8), 2),  # midnight in Wuhai: the second day has begun
        (timedelta(days=19, hours=3), 19),
    ],
)
def test_overdue_days_are_local_calendar_days(late_by: timedelta, days: int | None) -> None:
    assert overdue_days(T0, T0 + late_by) == days
    assert overdue_days(None, T0) is None
