"""The hazards API's request and response shapes, apart from its routes: the console,
services and other areas use them without importing a router."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from server.schemas import LongText, ShortText, Text, UUIDStr
from shared.chain import EventType
from shared.geo import GpsStamp
from shared.taxonomy import Severity

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class HazardPublic(BaseModel):
    id: str
    number: str | None = Field(None, description="隐患编号, e.g. YH-150302-2026-000123")
    site_id: str
    site_name: str = ""
    district_id: str
    district_name: str = ""
    industry: str
    severity: str
    state: str
    title: str
    description: str
    reported_by: str
    reported_at: datetime
    responsible_unit: str | None
    responsible_person: str | None
    responsible_user_id: str | None
    deadline: datetime | None
    overdue: bool
    escalation_level: int
    plan_complete: bool
    matter_id: str | None
    link_id: str | None
    inspection_id: str | None
    origin: str = Field(description="who found it: self_inspection, self_report or regulator")
    self_closed: bool = Field(description="closed by the enterprise itself (自查自改)")
    spot_check: str | None = Field(description="抽查: drawn, passed, reopened (None: not drawn)")
    event_count: int
    updated_at: datetime
    closed_at: datetime | None
    acts_next: list[str] = Field(default_factory=list, description="roles owing the next step")
    instruction_awaits: list[str] = Field(
        default_factory=list, description="roles a leader's instruction (批示) awaits"
    )


class HazardPage(BaseModel):
    items: list[HazardPublic]
    next_cursor: str | None
    total: int


class EventPublic(BaseModel):
    id: str
    seq: int
    type: str
    actor_id: str
    actor_role: str
    at: str
    device_time: str | None
    payload: dict[str, Any]
    next_owner: dict[str, Any] | None
    next_deadline: str | None
    prev_hash: str
    hash: str


class HazardDetail(HazardPublic):
    events: list[EventPublic]
    plan: dict[str, str]
    plan_missing: list[str]
    evidence: list[str]
    photos: list[str]
    link_owner: dict[str, Any] | None
    link_deadline: str | None
    pending_extension: dict[str, Any] | None
    instructions: list[dict[str, Any]]
    supervision: dict[str, Any] | None
    awaits_me: bool
    allowed_events: list[str]
    chain_ok: bool


class HazardReport(BaseModel):
    id: UUIDStr | None = Field(None, description="client-generated UUID (idempotency)")
    site_id: Text(36, 1)
    title: Text(200, 1)
    description: LongText = ""
    severity: Severity
    photos: list[Sha256] = Field(default_factory=list, max_length=50)
    location: ShortText | None = None
    matter_id: Text(64) | None = None
    link_id: Text(64) | None = None
    device_time: Text(40) | None = None
    gps: GpsStamp | None = Field(None, description="where it was found (WGS-84), if known")
    photo_gps: dict[Sha256, GpsStamp] | None = Field(None, description="where each was taken")


class EventIn(BaseModel):
    id: UUIDStr | None = Field(None, description="client-generated event UUID (idempotency)")
    type: EventType
    payload: dict[str, Any] = Field(default_factory=dict)
    device_time: Text(40) | None = None


class VerifyOut(BaseModel):
    ok: bool
    broken_at: dict[str, Any] | None
