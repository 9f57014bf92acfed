"""Sync tables: the change feed with its one-row clock, and each device's op log.

``sync_clock`` is a single row; every change takes ``value + 1`` by updating it inside the
writing transaction, so the row lock orders writers and feed positions follow commit order
(a sequence taken at insert could commit late and be skipped by a reader).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from server.db import JSONType, UTCDateTime


class SyncClock(SQLModel, table=True):
    """The feed's position (``value``) and identity (``epoch``, renewed when the feed can no
    longer be trusted by devices, e.g. after a restore from backup)."""

    __tablename__ = "sync_clock"
    id: int = Field(primary_key=True)
    value: int = Field(sa_column=Column(BigInteger, nullable=False))
    epoch: str = Field(max_length=32)


SHARED = "district_id IS NULL AND site_id IS NULL"  # a change every user may pull


class SyncChange(SQLModel, table=True):
    """One feed entry: which entity changed, at which position, and the scope it belongs to
    (``district_id``/``site_id``; both empty for data every user gets)."""

    __tablename__ = "sync_change"
    __table_args__ = (
        Index("ix_sync_change_district_seq", "district_id", "seq"),
        Index("ix_sync_change_site_seq", "site_id", "seq"),
        # the rows every user gets, in seq order: PostgreSQL cannot read ``district_id IS
        # NULL`` from the index above in seq order (it sorts), so a pull page needs its own
        Index(
            "ix_sync_change_shared_seq",
            "seq",
            postgresql_where=text(SHARED),
            sqlite_where=text(SHARED),
        ),
    )
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    kind: str = Field(max_length=16)
    entity_id: str = Field(max_length=128)
    hazard_id: str | None = Field(default=None, max_length=36, index=True)
    district_id: str | None = Field(default=None, max_length=32)
    site_id: str | None = Field(default=None, max_length=36)
    op: str = Field(default="put", max_length=8)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class SyncDevice(SQLModel, table=True):
    """What the server knows of a device's sync: the last op number it recorded and what the
    device last said about itself."""

    __tablename__ = "sync_device"
    device_id: str = Field(primary_key=True, foreign_key="device.id", max_length=64)
    user_id: str = Field(foreign_key="user.id", index=True, max_length=36)
    last_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    last_pull_seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    schema_version: int = 0
    app_version: str = Field(default="", max_length=32)
    skew_seconds: float | None = None
    last_pull_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_seen: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class SyncOp(SQLModel, table=True):
    """The stored result of one op: a retry with the same payload hash gets it back."""

    __tablename__ = "sync_op"
    __table_args__ = (UniqueConstraint("device_id", "device_seq", name="uq_sync_op_device_seq"),)
    op_id: str = Field(primary_key=True, max_length=36)
    device_id: str = Field(foreign_key="sync_device.device_id", max_length=64)
    user_id: str = Field(max_length=36, index=True)
    device_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    type: str = Field(max_length=32)
    v: int = 1
    payload_sha256: str = Field(max_length=64)
    status: str = Field(max_length=16)  # applied | rejected
    code: str | None = Field(default=None, max_length=64)
    message_zh: str | None = Field(default=None, max_length=2000)
    message_en: str | None = Field(default=None, max_length=2000)
    fields: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    server_seq: int | None = Field(default=None, sa_column=Column(BigInteger))
    data: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    # kept for rejected ops only, so a supervisor can review what a device tried to do
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    device_time: str | None = Field(default=None, max_length=40)
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
