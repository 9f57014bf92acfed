"""A stored daily summary (figures as JSON, one row per scope district and local date) and a
leader's sign-off (签阅) of one."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, UniqueConstraint
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


class SummaryAck(SQLModel, table=True):
    """Who signed off which day's summary, when, and exactly which figures (their SHA-256 over
    the canonical JSON, so a later regeneration that changed them is visible)."""

    __tablename__ = "summary_ack"
    __table_args__ = (
        UniqueConstraint("district_id", "day", "user_id", name="uq_summary_ack_district_day_user"),
    )
    id: str = Field(primary_key=True, max_length=36)
    district_id: str = Field(foreign_key="district.id", index=True, max_length=32)
    day: date = Field(index=True)
    user_id: str = Field(foreign_key="user.id", max_length=36)
    user_name: str = Field(max_length=100)
    acknowledged_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    figures_sha256: str = Field(max_length=64)
    stored: bool = True  # the stored 07:00 snapshot (False: figures computed on demand)
    comment: str | None = Field(default=None, max_length=1000)  # the leader's words with it
    # the day's signed log checkpoint (server.tlog.checkpoints.day_checkpoint): the record as
    # the leader signed it off, which no later edit of the database can move
    checkpoint_size: int | None = Field(default=None, sa_column=Column(BigInteger))
    checkpoint_root: str | None = Field(default=None, max_length=64)
