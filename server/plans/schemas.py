"""The plans API's request and response shapes, apart from its routes: the console,
services and other areas use them without importing a router."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from server.schemas import Name, Patch, Text, UUIDStr

Frequency = Literal["daily", "weekly", "monthly"]
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


class PlanPage(BaseModel):
    items: list[PlanPublic]
    next_cursor: str | None = None
    total: int
