"""The one rule of which task an inspection fulfils (shared.tasks), which the server applies
and the tablet guesses with: the latest actionable task of that site and checklist up to the
inspection's day, the inspector's or everyone's; never a later one, never someone else's."""

from __future__ import annotations

from datetime import date

from shared.tasks import TaskRef, fulfilled_task

D = date(2026, 12, 3)


def _task(tid: str, day: int, assignee: str | None = None, status: str = "open", **kw) -> TaskRef:
    return TaskRef(
        tid,
        kw.get("site", "mall"),
        kw.get("template", "crowded_venue"),
        date(2026, 12, day),
        assignee,
        status,
    )


def _pick(tasks, inspector="me", day=D, **kw):
    got = fulfilled_task(
        tasks,
        site_id=kw.get("site", "mall"),
        template_id=kw.get("template", "crowded_venue"),
        inspector_id=inspector,
        day=day,
    )
    return got.id if got else None


def test_the_latest_task_up_to_the_day_is_fulfilled():
    tasks = [_task("a", 1, status="missed"), _task("b", 2), _task("c", 4)]
    assert _pick(tasks) == "b"  # not tomorrow's; the older missed one stays missed


def test_someone_elses_and_finished_tasks_are_never_taken():
    tasks = [_task("x", 3, assignee="other"), _task("y", 3, status="done"), _task("z", 2, "me")]
    assert _pick(tasks) == "z"
    assert _pick(tasks, inspector="other") == "x"
    assert _pick([_task("s", 3, status="skipped")]) is None


def test_another_site_or_checklist_is_not_this_inspections():
    tasks = [_task("a", 3, site="school"), _task("b", 3, template="town_gas")]
    assert _pick(tasks) is None
    assert _pick(tasks, site="school") == "a"


def test_two_plans_on_one_day_give_the_same_answer_on_both_sides():
    tasks = [_task("b-plan", 3), _task("a-plan", 3)]
    assert _pick(tasks) == _pick(list(reversed(tasks))) == "b-plan"
