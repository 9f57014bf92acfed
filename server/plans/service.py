"""Inspection plans (officers in their districts, admins anywhere) and the tasks they create.

Occurrences are local days in the configured zone: a plan starting on 1 March recurring every
week has occurrences on 1, 8, 15 March …; a monthly one on the 31st falls on the last day of
shorter months. A task is due, by default, when the next occurrence starts (local midnight), or
``due_days`` after its day. Tasks are created ``plan_horizon_days`` ahead so tablets hold them
before they go offline; ``generated_until`` remembers how far, so each run only adds new days.
"""

from __future__ import annotations

import calendar
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from server import paging
from server.auth.scope import descendants, scope_of
from server.checklists.fit import catalogue, check_fit, site_default
from server.context import Caller
from server.jobs.days import day_start, local_date
from server.jobs.idempotent import insert_once
from server.plans.models import InspectionPlan, InspectionTask
from server.scoping import scope_filter
from server.sites.models import Site
from server.users.models import User
from shared.errors import DomainError, not_found
from shared.roles import Role
from shared.tasks import ACTIONABLE, CANCELLED, DONE, MISSED, OPEN, SKIPPED, TaskRef, fulfilled_task

log = logging.getLogger("hazardchain.plans")
# how far back a plan that fell behind is caught up (see generate_tasks)
MAX_CATCHUP_DAYS = 7

FREQUENCIES = ("daily", "weekly", "monthly")
TEMPLATE_ID = re.compile(r"^[a-z0-9_]{1,64}$")


def _invalid(field_name: str, zh: str, en: str) -> DomainError:
    return DomainError.of("invalid_input", zh, en, fields={field_name: en})


# ------------------------------------------------------------------ recurrence


def add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def occurrence(plan: InspectionPlan, k: int) -> date:
    """The k-th occurrence (k ≥ 0), always computed from the start so months do not drift."""
    if plan.frequency == "monthly":
        return add_months(plan.start_date, k * plan.interval)
    step = plan.interval * (7 if plan.frequency == "weekly" else 1)
    return plan.start_date + timedelta(days=k * step)


def occurrences(plan: InspectionPlan, lo: date, hi: date) -> Iterator[tuple[int, date]]:
    """(k, day) for every occurrence with lo ≤ day ≤ hi (and within the plan's end date)."""
    if plan.end_date is not None:
        hi = min(hi, plan.end_date)
    if plan.frequency == "monthly":
        months = (lo.year - plan.start_date.year) * 12 + lo.month - plan.start_date.month
        k = max(0, months // plan.interval - 1)
    else:
        step = plan.interval * (7 if plan.frequency == "weekly" else 1)
        k = max(0, (lo - plan.start_date).days // step)
    while (day := occurrence(plan, k)) <= hi:
        if day >= lo:
            yield k, day
        k += 1


def due_at(plan: InspectionPlan, k: int, tz: str) -> datetime:
    day = occurrence(plan, k)
    end = day + timedelta(days=plan.due_days) if plan.due_days else occurrence(plan, k + 1)
    return day_start(end, tz)


def generate_tasks(
    session: Session, plan: InspectionPlan, now: datetime, tz: str, horizon_days: int
) -> int:
    """Create the tasks of every occurrence from the last generated day to the horizon."""
    if not plan.active:
        return 0
    today = local_date(now, tz)
    until = today + timedelta(days=horizon_days)
    first = plan.generated_until + timedelta(days=1) if plan.generated_until else plan.start_date
    earliest = today - timedelta(days=MAX_CATCHUP_DAYS)
    if first < earliest:
        # the jobs were stopped for long (or a backup was restored): tasks for those days
        # would only be born missed, each with a notice; the record starts a week back
        log.warning(
            "plan catch-up bounded",
            extra={"plan_id": plan.id, "from": first.isoformat(), "to": earliest.isoformat()},
        )
        first = earliest
    if first > until:
        return 0
    sites = {
        s.id: s
        for s in session.exec(select(Site).where(col(Site.id).in_(plan.site_ids))).all()
        if s.active
    }
    added = 0
    for k, day in occurrences(plan, first, until):
        due = due_at(plan, k, tz)
        if due <= plan.created_at:
            continue  # occurrences already over when the plan was made
        for site_id in plan.site_ids:
            site = sites.get(site_id)
            if site is None:
                continue
            added += insert_once(
                session,
                InspectionTask,
                {
                    "id": str(uuid.uuid4()),
                    "plan_id": plan.id,
                    "site_id": site.id,
                    "district_id": site.district_id,
                    "template_id": plan.template_id,
                    "template_version": plan.template_version,
                    "assignee_user_id": plan.assignee_user_id,
                    "scheduled_for": day,
                    "due_at": due,
                    "status": OPEN,
                    "created_at": now,
                    "updated_at": now,
                },
                ["plan_id", "site_id", "scheduled_for"],
            )
    plan.generated_until = min(until, plan.end_date) if plan.end_date else until
    session.add(plan)
    return added


def mark_missed(session: Session, now: datetime) -> list[InspectionTask]:
    """Open tasks whose due time has passed join the missed list (they may still be done late)."""
    rows = session.exec(
        select(InspectionTask)
        .where(InspectionTask.status == OPEN)
        .where(col(InspectionTask.due_at) <= now)
        .order_by(InspectionTask.due_at)
    ).all()
    for t in rows:
        t.status = MISSED
        t.missed_at = now
        t.updated_at = now
        session.add(t)
    return list(rows)


# ------------------------------------------------------------------ plans


def _manage_check(caller: Caller) -> None:
    if caller.role not in (Role.officer, Role.admin):
        raise DomainError.of(
            "forbidden", "您的角色无权管理检查计划", "only officers and admins manage plans"
        )


def _sites_in_scope(session: Session, caller: Caller, site_ids: list[str]) -> list[Site]:
    if not site_ids:
        raise _invalid("site_ids", "请至少选择一个场所", "at least one site is required")
    sites = session.exec(select(Site).where(col(Site.id).in_(site_ids))).all()
    found = {s.id: s for s in sites}
    missing = [
        s
        for s in site_ids
        if s not in found or not caller.scope.covers(district_id=found[s].district_id, site_id=s)
    ]
    if missing:
        raise _invalid(
            "site_ids", "场所不存在或不在您的辖区", "unknown site: " + ", ".join(missing)
        )
    return [found[s] for s in dict.fromkeys(site_ids)]


def _plan_district(
    session: Session, caller: Caller, district_id: str | None, sites: list[Site]
) -> str:
    if district_id is None:
        districts = {s.district_id for s in sites}
        if len(districts) != 1:
            raise _invalid(
                "district_id",
                "场所分属多个辖区，请指定计划所属辖区",
                "sites lie in several districts: name the plan's district",
            )
        district_id = districts.pop()
    if not caller.scope.covers(district_id=district_id, site_id=None):
        raise _invalid("district_id", "辖区不在您的管辖范围", "district not in your scope")
    below = descendants(session, {district_id})
    outside = [s.id for s in sites if s.district_id not in below]
    if outside:
        raise _invalid(
            "site_ids",
            "场所不在计划所属辖区内",
            "sites outside the plan's district: " + ", ".join(outside),
        )
    return district_id


def _check_assignee(session: Session, user_id: str | None, sites: list[Site]) -> None:
    if user_id is None:
        return
    user = session.get(User, user_id)
    ok = user is not None and user.active and user.role == Role.inspector
    if ok:
        scope = scope_of(session, user)
        ok = all(scope.covers(district_id=s.district_id, site_id=s.id) for s in sites)
    if not ok:
        raise _invalid(
            "assignee_user_id",
            "检查员不存在或其辖区不含计划的全部场所",
            "assignee must be an active inspector covering every site of the plan",
        )


def _check_schedule(data: dict[str, Any]) -> None:
    if not TEMPLATE_ID.match(str(data.get("template_id", ""))):
        raise _invalid("template_id", "检查表编号无效", "template_id must be a lower-case slug")
    if data.get("frequency") not in FREQUENCIES:
        raise _invalid(
            "frequency", "周期必须是每天、每周或每月", "frequency: daily, weekly or monthly"
        )
    end = data.get("end_date")
    if end is not None and end < data["start_date"]:
        raise _invalid("end_date", "结束日期不能早于开始日期", "end_date is before start_date")


def _with_template(session: Session, data: dict[str, Any], sites: list[Site]) -> dict[str, Any]:
    """No template named: the one the sites' type calls for (shared.site_checklists), in its
    newest version; sites that call for different ones need a plan each (or a named template)."""
    if data.get("template_id"):
        if not data.get("template_version"):
            latest = catalogue(session).latest.get(data["template_id"])
            data = {**data, "template_version": latest or 1}
        return data
    defaults = {s.id: site_default(session, s) for s in sites}
    ids = {f.template_id if f else None for f in defaults.values()}
    if len(ids) != 1 or None in ids:
        raise _invalid(
            "template_id",
            "所选场所适用不同的检查表，请分别建立计划或指定检查表",
            "the sites call for different checklists: make a plan for each, or name one",
        )
    template_id = ids.pop()
    return {
        **data,
        "template_id": template_id,
        "template_version": catalogue(session).latest[template_id],
    }


def create_plan(
    session: Session,
    caller: Caller,
    data: dict[str, Any],
    now: datetime,
    tz: str,
    horizon_days: int,
) -> InspectionPlan:
    _manage_check(caller)
    sites = _sites_in_scope(session, caller, list(data["site_ids"]))
    data = _with_template(session, data, sites)
    _check_schedule(data)
    override = (data.get("checklist_override") or "").strip() or None
    check_fit(session, sites, data["template_id"], None, override, check_profile=False)
    district_id = _plan_district(session, caller, data.get("district_id"), sites)
    _check_assignee(session, data.get("assignee_user_id"), sites)
    plan = InspectionPlan(
        id=data.get("id") or str(uuid.uuid4()),
        name=data["name"],
        district_id=district_id,
        site_ids=[s.id for s in sites],
        template_id=data["template_id"],
        template_version=data["template_version"],
        frequency=data["frequency"],
        interval=data.get("interval", 1),
        start_date=data["start_date"],
        end_date=data.get("end_date"),
        due_days=data.get("due_days"),
        assignee_user_id=data.get("assignee_user_id"),
        checklist_override=override,
        created_by=caller.user.id,
        created_at=now,
        updated_at=now,
    )
    if session.get(InspectionPlan, plan.id) is not None:
        raise DomainError.of(
            "already_exists", "计划编号已存在", "plan id exists", {"id": "already exists"}
        )
    session.add(plan)
    session.flush()
    generate_tasks(session, plan, now, tz, horizon_days)
    session.flush()
    return plan


def _plan_read_check(caller: Caller) -> None:
    if caller.role not in (Role.officer, Role.leader, Role.admin):
        raise DomainError.of("forbidden", "您的角色无权查看检查计划", "role may not see plans")


def _plans_query(caller: Caller, active: bool | None) -> Any:
    _plan_read_check(caller)
    q = select(InspectionPlan).where(scope_filter(caller.scope, InspectionPlan.district_id, None))
    if active is not None:
        q = q.where(InspectionPlan.active.is_(active))
    return q


def list_plans(session: Session, caller: Caller, *, active: bool | None) -> list[InspectionPlan]:
    q = _plans_query(caller, active)
    return list(session.exec(q.order_by(InspectionPlan.created_at, InspectionPlan.id)).all())


PLAN_SORTS = {
    "created_at": InspectionPlan.created_at,
    "name": InspectionPlan.name,
    "start_date": InspectionPlan.start_date,
}


def plans_page(
    session: Session,
    caller: Caller,
    *,
    active: bool | None,
    sort: str | None = None,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[InspectionPlan], str | None, int]:
    """The plans a page at a time (``server.paging``), oldest first unless ``sort`` says."""
    order = paging.parse_sort(sort, PLAN_SORTS, "created_at")
    q = _plans_query(caller, active)
    return paging.page(session, q, order, InspectionPlan.id, limit=limit, cursor=cursor)


def get_plan(session: Session, caller: Caller, plan_id: str) -> InspectionPlan:
    _plan_read_check(caller)
    plan = session.get(InspectionPlan, plan_id)
    if plan is None or not caller.scope.covers(district_id=plan.district_id, site_id=None):
        raise not_found("检查计划", "inspection plan")
    return plan


def _cancel_open(session: Session, where: Any, now: datetime) -> int:
    rows = session.exec(select(InspectionTask).where(InspectionTask.status == OPEN, where)).all()
    for t in rows:
        t.status = CANCELLED
        t.updated_at = now
        session.add(t)
    return len(rows)


def update_plan(
    session: Session,
    caller: Caller,
    plan_id: str,
    changes: dict[str, Any],
    now: datetime,
    tz: str,
    horizon_days: int,
) -> InspectionPlan:
    """Name, sites, end date, due days, assignee and active may change; the recurrence and the
    template may not (make a new plan). Open tasks follow the change; done ones never move."""
    _manage_check(caller)
    plan = get_plan(session, caller, plan_id)
    today = local_date(now, tz)
    of_plan = col(InspectionTask.plan_id) == plan.id
    site_ids = changes.get("site_ids", plan.site_ids)
    sites = _sites_in_scope(session, caller, list(site_ids))
    _plan_district(session, caller, plan.district_id, sites)
    if "assignee_user_id" in changes:
        _check_assignee(session, changes["assignee_user_id"], sites)
    elif "site_ids" in changes:
        _check_assignee(session, plan.assignee_user_id, sites)
    if "end_date" in changes and changes["end_date"] and changes["end_date"] < plan.start_date:
        raise _invalid("end_date", "结束日期不能早于开始日期", "end_date is before start_date")
    if "name" in changes:
        plan.name = changes["name"]
    if "due_days" in changes:
        plan.due_days = changes["due_days"]  # applies to tasks created from now on
    if "site_ids" in changes:
        kept = [s.id for s in sites]
        removed = [s for s in plan.site_ids if s not in kept]
        if removed:
            _cancel_open(session, of_plan & col(InspectionTask.site_id).in_(removed), now)
        if set(kept) - set(plan.site_ids) and plan.generated_until:
            plan.generated_until = min(plan.generated_until, today - timedelta(days=1))
        plan.site_ids = kept
    if "assignee_user_id" in changes:
        plan.assignee_user_id = changes["assignee_user_id"]
        for t in session.exec(
            select(InspectionTask).where(of_plan, col(InspectionTask.status).in_(ACTIONABLE))
        ).all():
            t.assignee_user_id = plan.assignee_user_id
            t.updated_at = now
            session.add(t)
    if "end_date" in changes:
        plan.end_date = changes["end_date"]
        if plan.end_date is not None:
            _cancel_open(
                session, of_plan & (col(InspectionTask.scheduled_for) > plan.end_date), now
            )
            if plan.generated_until and plan.generated_until > plan.end_date:
                plan.generated_until = plan.end_date
    if "active" in changes and changes["active"] != plan.active:
        plan.active = changes["active"]
        if plan.active:
            yesterday = today - timedelta(days=1)
            plan.generated_until = max(plan.generated_until or yesterday, yesterday)
        else:
            _cancel_open(session, of_plan & (col(InspectionTask.scheduled_for) > today), now)
    plan.updated_at = now
    session.add(plan)
    session.flush()
    generate_tasks(session, plan, now, tz, horizon_days)
    session.flush()
    return plan


# ------------------------------------------------------------------ tasks


def _read_check(caller: Caller) -> None:
    if caller.role == Role.enterprise:
        raise DomainError.of("forbidden", "您的角色无权查看检查任务", "role may not see tasks")


@dataclass(frozen=True)
class TaskFilter:
    mine: bool = False
    status: tuple[str, ...] = ()
    missed: bool | None = None
    plan_id: str | None = None
    site_id: str | None = None
    district_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    updated_after: datetime | None = None


def _mine(caller: Caller) -> Any:
    me = col(InspectionTask.assignee_user_id) == caller.user.id
    if caller.role == Role.inspector:
        return or_(me, col(InspectionTask.assignee_user_id).is_(None))
    return me


def _task_query(session: Session, caller: Caller, f: TaskFilter) -> Any:
    _read_check(caller)
    q = select(InspectionTask).where(
        scope_filter(caller.scope, InspectionTask.district_id, InspectionTask.site_id)
    )
    if f.mine:
        q = q.where(_mine(caller))
    if f.status:
        q = q.where(col(InspectionTask.status).in_(list(f.status)))
    if f.missed is not None:
        late = col(InspectionTask.missed_at).is_not(None) | (
            (InspectionTask.status == DONE)
            & (col(InspectionTask.done_at) > col(InspectionTask.due_at))
        )
        q = q.where(late if f.missed else ~late)
    if f.plan_id:
        q = q.where(InspectionTask.plan_id == f.plan_id)
    if f.site_id:
        q = q.where(InspectionTask.site_id == f.site_id)
    if f.district_id:
        q = q.where(col(InspectionTask.district_id).in_(descendants(session, {f.district_id})))
    if f.date_from:
        q = q.where(col(InspectionTask.scheduled_for) >= f.date_from)
    if f.date_to:
        q = q.where(col(InspectionTask.scheduled_for) <= f.date_to)
    if f.updated_after:
        q = q.where(col(InspectionTask.updated_at) > f.updated_after)
    return q


def list_tasks(
    session: Session, caller: Caller, f: TaskFilter, *, limit: int, offset: int
) -> tuple[list[InspectionTask], int]:
    q = _task_query(session, caller, f)
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    rows = session.exec(
        q.order_by(InspectionTask.scheduled_for, InspectionTask.site_id, InspectionTask.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), total


TASK_SORTS = {
    "scheduled_for": InspectionTask.scheduled_for,
    "due_at": InspectionTask.due_at,
    "updated_at": InspectionTask.updated_at,
}


def tasks_page(
    session: Session,
    caller: Caller,
    f: TaskFilter,
    *,
    sort: str | None = None,
    limit: int,
    cursor: str | None = None,
    offset: int = 0,
) -> tuple[list[InspectionTask], str | None, int]:
    """The tasks a page at a time (``server.paging``), by day unless ``sort`` says."""
    order = paging.parse_sort(sort, TASK_SORTS, "scheduled_for")
    q = _task_query(session, caller, f)
    return paging.page(
        session, q, order, InspectionTask.id, limit=limit, cursor=cursor, offset=offset
    )


def get_task(session: Session, caller: Caller, task_id: str) -> InspectionTask:
    _read_check(caller)
    task = session.get(InspectionTask, task_id)
    if task is None or not caller.scope.covers(district_id=task.district_id, site_id=task.site_id):
        raise not_found("检查任务", "inspection task")
    return task


def _act_check(caller: Caller, task: InspectionTask) -> None:
    if caller.role in (Role.officer, Role.admin):
        return
    if caller.role == Role.inspector and task.assignee_user_id in (None, caller.user.id):
        return
    raise DomainError.of(
        "not_your_task", "该检查任务未分配给您", "this inspection task is not assigned to you"
    )


def _state_check(task: InspectionTask) -> None:
    if task.status not in ACTIONABLE:
        raise DomainError.of(
            "invalid_state",
            f"任务状态为{task.status}，不能再处理",
            f"the task is {task.status}; it can no longer change",
        )


def complete_task(
    session: Session, caller: Caller, task_id: str, inspection_id: str | None, now: datetime
) -> InspectionTask:
    task = get_task(session, caller, task_id)
    _act_check(caller, task)
    if (
        task.status == DONE
        and task.done_by == caller.user.id
        and task.inspection_id == inspection_id
    ):
        return task  # a retried request
    _state_check(task)
    task.status = DONE
    task.done_at = now
    task.done_by = caller.user.id
    task.inspection_id = inspection_id
    task.updated_at = now
    session.add(task)
    session.flush()
    return task


def _ref(task: InspectionTask) -> TaskRef:
    return TaskRef(
        task.id,
        task.site_id,
        task.template_id,
        task.scheduled_for,
        task.assignee_user_id,
        task.status,
    )


def complete_by_inspection(
    session: Session,
    *,
    site_id: str,
    template_id: str,
    inspector_id: str,
    inspection_id: str,
    ended_at: datetime,
    tz: str,
    now: datetime,
) -> InspectionTask | None:
    """The plan's task an inspection fulfils (``shared.tasks.fulfilled_task``: the tablet
    guesses with the same rule), marked done in the caller's transaction. The inspector should
    not have to tick it off by hand (and a tablet offline cannot). Done after its due time, it
    stays on the missed list as done late."""
    day = local_date(ended_at, tz)
    candidates = session.exec(
        select(InspectionTask)
        .where(
            InspectionTask.site_id == site_id,
            InspectionTask.template_id == template_id,
            col(InspectionTask.status).in_(ACTIONABLE),
            col(InspectionTask.scheduled_for) <= day,
        )
        .with_for_update()
    ).all()
    refs = {t.id: t for t in candidates}
    chosen = fulfilled_task(
        (_ref(t) for t in candidates),
        site_id=site_id,
        template_id=template_id,
        inspector_id=inspector_id,
        day=day,
    )
    if chosen is None:
        return None
    task = refs[chosen.id]
    task.status = DONE
    task.done_at = ended_at
    task.done_by = inspector_id
    task.inspection_id = inspection_id
    task.updated_at = now
    session.add(task)
    return task


def skip_task(
    session: Session, caller: Caller, task_id: str, reason: str, now: datetime
) -> InspectionTask:
    """ "Won't do": allowed while open or missed, and only with a reason."""
    task = get_task(session, caller, task_id)
    _act_check(caller, task)
    reason = (reason or "").strip()
    if not reason:
        raise _invalid("reason", "请填写不执行的原因", "a reason is required")
    if task.status == SKIPPED and task.skipped_by == caller.user.id and task.skip_reason == reason:
        return task
    _state_check(task)
    task.status = SKIPPED
    task.skip_reason = reason
    task.skipped_by = caller.user.id
    task.skipped_at = now
    task.updated_at = now
    session.add(task)
    session.flush()
    return task
