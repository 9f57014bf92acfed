"""Notifications stored per user; channels (email, webhook) deliver them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from server.db import UTCDateTime


class Notification(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(foreign_key="user.id", index=True, max_length=36)
    kind: str = Field(max_length=32)
    title: str = Field(max_length=200)
    body: str = Field(default="", max_length=4000)
    hazard_id: str | None = Field(default=None, foreign_key="hazard.id", max_length=36)
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
