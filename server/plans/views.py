"""Inspection plans (officers in their districts, admins) and inspection tasks (inspectors do
or skip them; officers and leaders follow them, the missed list included)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from server.api.deps import CallerDep, NowDep, SessionDep, SettingsDep, UnitOfWorkRoute
from server.api.errors import lang_of
from server.paging import check_window
from server.plans import service
from server.plans.schemas import (
    PlanCreate,
    PlanPage,
    PlanPublic,
    PlanUpdate,
    TaskDone,
    TaskPage,
    TaskPublic,
    TaskSkip,
)
from server.schemas import MAX_OFFSET, Cursor, Sort, Window
from server.sites.service import name_items

router = APIRouter(tags=["inspection plans"], route_class=UnitOfWorkRoute)
TaskStatus = Literal["open", "done", "skipped", "missed", "cancelled"]


def _plan(p) -> PlanPublic:
    return PlanPublic.model_validate(p, from_attributes=True)


def _task(t) -> TaskPublic:
    late = t.missed_at is not None or (t.done_at is not None and t.done_at > t.due_at)
    return TaskPublic.model_validate(t.model_dump() | {"late": late})


@router.get("/plans", response_model=PlanPage)
def list_plans(
    caller: CallerDep,
    session: SessionDep,
    active: bool | None = None,
    sort: Sort(service.PLAN_SORTS, "created_at") = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
) -> PlanPage:
    rows, nxt, total = service.plans_page(
        session, caller, active=active, sort=sort, limit=limit, cursor=cursor
    )
    return PlanPage(items=[_plan(p) for p in rows], next_cursor=nxt, total=total)


@router.post("/plans", response_model=PlanPublic, status_code=201)
def create_plan(
    body: PlanCreate, caller: CallerDep, session: SessionDep, settings: SettingsDep, now: NowDep
) -> PlanPublic:
    plan = service.create_plan(
        session, caller, body.model_dump(), now, settings.timezone, settings.plan_horizon_days
    )
    return _plan(plan)


@router.get("/plans/{plan_id}", response_model=PlanPublic)
def get_plan(plan_id: str, caller: CallerDep, session: SessionDep) -> PlanPublic:
    return _plan(service.get_plan(session, caller, plan_id))


@router.patch("/plans/{plan_id}", response_model=PlanPublic)
def update_plan(
    plan_id: str,
    body: PlanUpdate,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> PlanPublic:
    plan = service.update_plan(
        session,
        caller,
        plan_id,
        body.model_dump(exclude_unset=True),
        now,
        settings.timezone,
        settings.plan_horizon_days,
    )
    return _plan(plan)


@router.delete("/plans/{plan_id}", response_model=PlanPublic)
def stop_plan(
    plan_id: str, caller: CallerDep, session: SessionDep, settings: SettingsDep, now: NowDep
) -> PlanPublic:
    """Stops the plan: its future open tasks are cancelled; history stays."""
    plan = service.update_plan(
        session,
        caller,
        plan_id,
        {"active": False},
        now,
        settings.timezone,
        settings.plan_horizon_days,
    )
    return _plan(plan)


@router.get("/tasks", response_model=TaskPage)
def list_tasks(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    window: Annotated[Window, Depends()],  # scheduled for date_from..date_to
    mine: bool = False,
    status: Annotated[list[TaskStatus] | None, Query()] = None,
    missed: Annotated[
        bool | None, Query(description="true: the missed/late list (due passed before done)")
    ] = None,
    plan: Annotated[str | None, Query(max_length=36)] = None,
    site: Annotated[str | None, Query(max_length=36)] = None,
    district: Annotated[str | None, Query(max_length=32)] = None,
    updated_after: Annotated[
        datetime | None, Query(deprecated=True, description="use updated_since")
    ] = None,
    sort: Sort(service.TASK_SORTS, "scheduled_for") = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, deprecated=True, description="use cursor")
    ] = 0,
) -> TaskPage:
    check_window(window.date_from, window.date_to)
    f = service.TaskFilter(
        mine=mine,
        status=tuple(status or ()),
        missed=missed,
        plan_id=plan,
        site_id=site,
        district_id=district,
        date_from=window.date_from,
        date_to=window.date_to,
        updated_after=window.updated_since or updated_after,
    )
    rows, nxt, total = service.tasks_page(
        session, caller, f, sort=sort, limit=limit, cursor=cursor, offset=offset
    )
    items = [_task(t) for t in rows]
    name_items(session, items, lang_of(request))
    return TaskPage(items=items, next_cursor=nxt, total=total)


@router.get("/tasks/{task_id}", response_model=TaskPublic)
def get_task(task_id: str, caller: CallerDep, session: SessionDep) -> TaskPublic:
    return _task(service.get_task(session, caller, task_id))


@router.post("/tasks/{task_id}/complete", response_model=TaskPublic)
def complete_task(
    task_id: str, body: TaskDone, caller: CallerDep, session: SessionDep, now: NowDep
) -> TaskPublic:
    return _task(service.complete_task(session, caller, task_id, body.inspection_id, now))


@router.post("/tasks/{task_id}/skip", response_model=TaskPublic)
def skip_task(
    task_id: str, body: TaskSkip, caller: CallerDep, session: SessionDep, now: NowDep
) -> TaskPublic:
    return _task(service.skip_task(session, caller, task_id, body.reason, now))
