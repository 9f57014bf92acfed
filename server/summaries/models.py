"""A stored daily summary: figures as JSON, one row per scope district and local date."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.db import JSONType, UTCDateTime


class DailySummary(SQLModel, table=True):
    __tablename__ = "daily_summary"
    __table_args__ = (UniqueConstraint("district_id", "day", name="uq_daily_summary_district_day"),)
    id: str = Field(primary_key=True, max_length=36)
    district_id: str = Field(foreign_key="district.id", index=True, max_length=32)
    day: date = Field(index=True)
    generated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    figures: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
