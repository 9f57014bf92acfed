"""Inspection plans and the inspection tasks they create, one per site per occurrence."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.db import JSONType, UTCDateTime


class InspectionPlan(SQLModel, table=True):
    """A site or group of sites × a checklist template version × a recurrence, assigned to one
    inspector or (no assignee) to every inspector of the district."""

    __tablename__ = "inspection_plan"
    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    district_id: str = Field(foreign_key="district.id", index=True, max_length=32)
    site_ids: list[str] = Field(sa_column=Column(JSONType, nullable=False))
    template_id: str = Field(max_length=64)
    template_version: int
    frequency: str = Field(max_length=8)  # daily | weekly | monthly
    interval: int = 1
    start_date: date
    end_date: date | None = None
    due_days: int | None = None  # None: the task is due when the next occurrence starts
    assignee_user_id: str | None = Field(default=None, foreign_key="user.id", max_length=36)
    active: bool = True
    generated_until: date | None = None  # tasks exist for every occurrence up to this day
    # why a checklist that does not fit the sites' type is used (shared.site_checklists)
    checklist_override: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=36)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class InspectionTask(SQLModel, table=True):
    """One inspection owed at one site for one occurrence of a plan.

    status: open → done | skipped (won't do, with a reason) | missed (due passed; may still be
    done late or skipped) | cancelled (the plan was stopped or the site removed)."""

    __tablename__ = "inspection_task"
    __table_args__ = (
        UniqueConstraint(
            "plan_id", "site_id", "scheduled_for", name="uq_inspection_task_occurrence"
        ),
        Index("ix_inspection_task_status_due", "status", "due_at"),
    )
    id: str = Field(primary_key=True, max_length=36)
    plan_id: str = Field(foreign_key="inspection_plan.id", index=True, max_length=36)
    site_id: str = Field(foreign_key="site.id", index=True, max_length=36)
    district_id: str = Field(foreign_key="district.id", index=True, max_length=32)
    template_id: str = Field(max_length=64)
    template_version: int
    assignee_user_id: str | None = Field(default=None, index=True, max_length=36)
    scheduled_for: date = Field(index=True)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(default="open", max_length=16)
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    done_by: str | None = Field(default=None, max_length=36)
    inspection_id: str | None = Field(default=None, max_length=36)
    skip_reason: str | None = Field(default=None, max_length=1000)
    skipped_by: str | None = Field(default=None, max_length=36)
    skipped_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    missed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
