"""Allocating 隐患编号 and 检查记录编号 (``shared.numbers``) on the server, safely under
concurrency.

The next number is the district's and year's highest plus one, read by a range scan of the
unique index. On PostgreSQL a transaction-scoped advisory lock on the kind, district and year
makes racing writers take turns (the second reads the first's number once it commits); SQLite
has one writer at a time. Should two still collide, the unique index (``ux_hazard_number``,
``ux_inspection_number``) refuses the second and its unit of work runs again (``server.uow``):
a number is never given twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from server.hazards.models import Hazard
from server.inspections.models import Inspection
from shared.clock import local_date
from shared.numbers import INSPECTION_PREFIX, PREFIX, hazard_number, number_prefix, sequence_of


def allocate(
    session: Session,
    column: Any,
    kind: str,
    district_id: str,
    at: datetime,
    tz: str | None = None,
) -> str:
    """The next free number of ``kind`` in ``column`` (a uniquely indexed number column) for
    the district and the local year of ``at``."""
    year = local_date(at, tz).year
    prefix = number_prefix(district_id, year, kind)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": prefix})
    last = session.exec(
        select(func.max(column)).where(col(column) >= prefix).where(col(column) < prefix + "~")
    ).one()
    return hazard_number(district_id, year, sequence_of(last) + 1 if last else 1, kind)


def next_number(session: Session, district_id: str, at: datetime, tz: str | None = None) -> str:
    return allocate(session, Hazard.number, PREFIX, district_id, at, tz)


def next_inspection_number(
    session: Session, district_id: str, at: datetime, tz: str | None = None
) -> str:
    """检查记录编号: numbered by the local year the inspection was carried out."""
    return allocate(session, Inspection.number, INSPECTION_PREFIX, district_id, at, tz)


class NumberBook:
    """隐患编号 for several reports staged in one unit before any is flushed (a sync push
    batch): the first of a district and year is read from the index, the rest count on from
    it in memory (a query would not see the staged rows). A write outside the book (a service
    that flushes its own report) makes it stale: ``forget`` then."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.last: dict[str, int] = {}

    def next(self, district_id: str, at: datetime, tz: str | None = None) -> str:
        year = local_date(at, tz).year
        prefix = number_prefix(district_id, year)
        if prefix in self.last:
            self.last[prefix] += 1
        else:
            self.last[prefix] = sequence_of(next_number(self.session, district_id, at, tz))
        return hazard_number(district_id, year, self.last[prefix])

    def forget(self) -> None:
        self.last.clear()
