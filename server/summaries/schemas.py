"""The summaries API's request and response shapes, apart from its routes: the console,
services and other areas use them without importing a router."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class DailySummaryOut(BaseModel):
    date: date
    district_id: str
    stored: bool
    generated_at: datetime | None
    figures: dict[str, Any]


class AckOut(BaseModel):
    """One leader's sign-off (签阅): which figures (their digest) and which log checkpoint."""

    id: str
    date: date
    district_id: str
    user_id: str
    user_name: str
    acknowledged_at: datetime
    figures_sha256: str
    stored: bool
    comment: str | None
    checkpoint_size: int | None
    checkpoint_root: str | None


class AckIn(BaseModel):
    date: date
    district_id: str = Field(max_length=32)
    comment: str | None = Field(None, max_length=4000)  # the service says why a long one fails
