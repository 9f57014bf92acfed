"""The checklists API's request and response shapes, apart from its routes: the console,
services and other areas use them without importing a router."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class LocalizedOut(BaseModel):
    zh: str
    en: str


class ProfileOut(LocalizedOut):
    id: str


class StandardOut(BaseModel):
    key: str
    title: LocalizedOut
    edition: str


class ChecklistSummary(BaseModel):
    id: str
    version: int
    versions: list[int]
    title: LocalizedOut
    industry: str
    digest: str
    item_count: int
    major_count: int
    general_count: int
    count_rule_count: int
    section_count: int
    profiles: list[ProfileOut]
    standards: list[StandardOut]
    imported_at: datetime
    # who may inspect with it: regulator, enterprise (a self-inspection, 自查), or both
    inspectors: list[str] = ["regulator"]


class ChecklistList(BaseModel):
    items: list[ChecklistSummary]
