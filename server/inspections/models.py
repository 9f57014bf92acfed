"""Inspections: one run of a pinned checklist version at a site, with the hazards it raised."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKeyConstraint, Index
from sqlmodel import Field, SQLModel

from server.db import JSONType, UTCDateTime
from shared.sync_wire import OpType, referenced_photos


class Inspection(SQLModel, table=True):
    """Written once, in the same transaction as its hazards; never edited afterwards.

    ``id`` is the client's UUID and the idempotency key; ``payload_sha256`` is the SHA-256 of
    the canonical submitted payload, so a retry is told apart from a reused id.
    ``findings`` keeps what evaluation produced, in order: ``{item_id, kind, severity,
    hazard_id}``. ``photos``, ``item_notes``, ``descriptions`` and ``signatures`` are kept as
    submitted.
    """

    __table_args__ = (
        ForeignKeyConstraint(
            ["template_id", "template_version"],
            ["checklist_template.id", "checklist_template.version"],
            name="fk_inspection_template_checklist_template",
        ),
        Index("ix_inspection_submitted_keyset", "submitted_at", "id"),
        Index("ux_inspection_number", "number", unique=True),
    )
    id: str = Field(primary_key=True, max_length=36)
    # 检查记录编号 (shared.numbers), allocated when accepted; never changes, never reused
    number: str | None = Field(default=None, max_length=32)
    site_id: str = Field(foreign_key="site.id", index=True, max_length=36)
    district_id: str = Field(foreign_key="district.id", index=True, max_length=32)
    template_id: str = Field(max_length=64, index=True)
    template_version: int
    template_digest: str = Field(max_length=64)
    profile: str | None = Field(default=None, max_length=64)
    inspector_id: str = Field(foreign_key="user.id", index=True, max_length=36)
    answers: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    photos: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    item_notes: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    descriptions: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSONType, nullable=False)
    )
    signatures: dict[str, str] | None = Field(default=None, sa_column=Column(JSONType))
    notes: str = Field(default="", max_length=4000)
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ended_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    location: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    submitted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finding_count: int = 0
    findings: list[dict[str, Any]] = Field(sa_column=Column(JSONType, nullable=False))
    payload_sha256: str = Field(max_length=64)
    # why a checklist or profile that does not fit the site's type was used (site_checklists)
    checklist_override: str | None = Field(default=None, max_length=500)


def inspection_blobs(photos: dict[str, Any] | None, signatures: dict[str, Any] | None) -> list[str]:
    """Every blob an inspection cites (item photos and signatures). The stored columns keep the
    payload's shape, so this is what the payload cited when it was submitted."""
    payload = {"photos": photos or {}, "signatures": signatures}
    return referenced_photos(OpType.inspection_submit, payload)
