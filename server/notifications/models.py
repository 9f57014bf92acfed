"""Notifications stored per user; channels (email, webhook) deliver them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, text
from sqlmodel import Field, SQLModel

from server.db import JSONType, UTCDateTime


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


class NotificationPreference(SQLModel, table=True):
    """A user's choice: one daily digest (default) or each notification at once, and where."""

    __tablename__ = "notification_preference"
    user_id: str = Field(foreign_key="user.id", primary_key=True, max_length=36)
    mode: str = Field(default="digest", max_length=16)  # digest | immediate
    email: bool = True  # to the user's address, when the server has an SMTP relay
    webhook_url: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class NotificationDelivery(SQLModel, table=True):
    """Outbox of messages for external channels; the dedupe key makes enqueueing idempotent,
    and the id travels with the message so a receiver can drop a resend."""

    __tablename__ = "notification_delivery"
    __table_args__ = (Index("ix_notification_delivery_due", "status", "next_attempt_at"),)
    id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(foreign_key="user.id", index=True, max_length=36)
    channel: str = Field(max_length=16)  # email | webhook
    kind: str = Field(max_length=16)  # immediate | digest
    target: str = Field(max_length=500)
    subject: str = Field(max_length=200)
    body: str = Field(default="", max_length=20000)
    notification_ids: list[str] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    dedupe_key: str = Field(max_length=200, unique=True)
    status: str = Field(default="pending", max_length=16)  # pending | sent | failed
    attempts: int = 0
    last_error: str = Field(default="", max_length=1000)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class HazardReminder(SQLModel, table=True):
    """One row per hazard, deadline and threshold: the reminder was decided (sent, or skipped
    because a nearer threshold had already passed), so it never goes out twice."""

    __tablename__ = "hazard_reminder"
    key: str = Field(primary_key=True, max_length=200)
    hazard_id: str = Field(foreign_key="hazard.id", index=True, max_length=36)
    deadline: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    threshold_days: int
    sent: bool = True
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


# the delivery job's scan of notifications not yet handed over (migration 0003)
_UNDELIVERED = "delivered_at IS NULL"
notification_undelivered = Index(
    "ix_notification_undelivered",
    Notification.__table__.c.user_id,
    postgresql_where=text(_UNDELIVERED),
    sqlite_where=text(_UNDELIVERED),
)
