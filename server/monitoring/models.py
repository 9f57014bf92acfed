"""The scheduler's heartbeat: written by whichever process runs the jobs, read by every web
replica's /readyz (the scheduler may be a process of its own)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel

from server.db import UTCDateTime


class Heartbeat(SQLModel, table=True):
    __tablename__ = "heartbeat"
    name: str = Field(primary_key=True, max_length=32)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    host: str = Field(default="", max_length=128)
    pid: int = 0
