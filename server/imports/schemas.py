"""The imports API's request and response shapes, apart from its routes: the console,
services and other areas use them without importing a router."""

from __future__ import annotations

from pydantic import BaseModel


class ProblemOut(BaseModel):
    row: int
    column: str
    column_label: str
    message: str
    zh: str
    en: str


class ImportReportOut(BaseModel):
    kind: str
    dry_run: bool
    rows: int
    written: int
    problems: list[ProblemOut]
