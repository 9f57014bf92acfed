"""Inspection plans (officers in their districts, admins) and inspection tasks (inspectors do
or skip them; officers and leaders follow them, the missed list included)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from server.api.deps import CallerDep, NowDep, SessionDep, SettingsDep, UnitOfWorkRoute
from server.api.errors import lang_of
from server.paging import check_window
from server.plans import service
from server.schemas import MAX_OFFSET, Cursor, Name, Patch, Sort, Text, UUIDStr, Window
from server.sites.service import name_items

router = APIRouter(tags=["inspection plans"], route_class=UnitOfWorkRoute)
Frequency = Literal["daily", "weekly", "monthly"]
TaskStatus = Literal["open", "done", "skipped", "missed", "cancelled"]
SiteIds = Annotated[list[Text(36, 1)], Field(min_length=1, max_length=500)]


class PlanPublic(BaseModel):
    id: str
    name: str
    district_id: str
    site_ids: list[str]
    template_id: str
    template_version: int
    frequency: str
    interval: int
    start_date: date
    end_date: date | None
    due_days: int | None
    assignee_user_id: str | None
    active: bool
    generated_until: date | None
    checklist_override: str | None = None
    created_by: str
    created_at: datetime
    updated_at: datetime


class PlanCreate(BaseModel):
    id: UUIDStr | None = None
    name: Name
    district_id: Text(32, 1) | None = None
    site_ids: SiteIds
    template_id: Text(64, 1) | None = Field(
        None, description="omit for the checklist the sites' type calls for (newest version)"
    )
    template_version: int | None = Field(None, ge=1, description="omit for the newest")
    checklist_override: Text(500) | None = Field(
        None, description="why a checklist that does not fit the sites' type is used"
    )
    frequency: Frequency
    interval: int = Field(1, ge=1, le=366)
    start_date: date
    end_date: date | None = None
    due_days: int | None = Field(None, ge=1, le=366)
    assignee_user_id: Text(36, 1) | None = Field(
        None, description="one inspector; omit to offer the tasks to every inspector in scope"
    )


class PlanUpdate(Patch):
    nullable = frozenset({"end_date", "due_days", "assignee_user_id"})
    name: Name | None = None
    site_ids: SiteIds | None = None
    end_date: date | None = None
    due_days: int | None = Field(None, ge=1, le=366)
    assignee_user_id: Text(36, 1) | None = None
    active: bool | None = None


class TaskPublic(BaseModel):
    id: str
    plan_id: str
    site_id: str
    site_name: str = ""
    district_id: str
    district_name: str = ""
    template_id: str
    template_version: int
    assignee_user_id: str | None
    scheduled_for: date
    due_at: datetime
    status: str
    late: bool
    done_at: datetime | None
    done_by: str | None
    inspection_id: str | None
    skip_reason: str | None
    skipped_by: str | None
    skipped_at: datetime | None
    missed_at: datetime | None
    updated_at: datetime


class TaskPage(BaseModel):
    items: list[TaskPublic]
    next_cursor: str | None = None
    total: int


class TaskDone(BaseModel):
    inspection_id: UUIDStr | None = None


class TaskSkip(BaseModel):
    reason: Text(1000, 1)


def _plan(p) -> PlanPublic:
    return PlanPublic.model_validate(p, from_attributes=True)


def _task(t) -> TaskPublic:
    late = t.missed_at is not None or (t.done_at is not None and t.done_at > t.due_at)
    return TaskPublic.model_validate(t.model_dump() | {"late": late})


class PlanPage(BaseModel):
    items: list[PlanPublic]
    next_cursor: str | None = None
    total: int


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
