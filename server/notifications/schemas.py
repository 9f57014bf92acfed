"""The notifications API's request and response shapes, apart from its routes: the console,
services and other areas use them without importing a router."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AnyHttpUrl, BaseModel


class NotificationPublic(BaseModel):
    id: str
    kind: str
    title: str
    body: str
    hazard_id: str | None
    created_at: datetime
    read_at: datetime | None
    delivered_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationPublic]
    next_cursor: str | None = None
    total: int
    unread: int


class PreferencePublic(BaseModel):
    mode: Literal["digest", "immediate"]
    email: bool
    webhook_url: str | None
    updated_at: datetime | None


class PreferenceIn(BaseModel):
    mode: Literal["digest", "immediate"] | None = None
    email: bool | None = None
    webhook_url: AnyHttpUrl | None = None
