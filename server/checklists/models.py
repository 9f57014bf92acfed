"""Checklist template versions as served: one immutable row per (id, version).

The YAML files under ``checklists/`` are the source; ``content`` is the template's canonical
JSON (what ``shared.checklist.template_digest`` hashes), so an old version stays servable and
an inspection pinned to it can be evaluated again even after its file is gone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from server.db import JSONType, UTCDateTime


class ChecklistTemplate(SQLModel, table=True):
    __tablename__ = "checklist_template"

    id: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    title: str = Field(max_length=200)  # Chinese title (the text of record)
    title_en: str = Field(default="", max_length=200)
    industry: str = Field(max_length=32, index=True)
    digest: str = Field(max_length=64)
    item_count: int = 0
    major_count: int = 0
    content: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    imported_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
