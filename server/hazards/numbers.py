"""Allocating 隐患编号 (``shared.numbers``) on the server, safely under concurrency.

The next number is the district's and year's highest plus one, read by a range scan of the
unique index. On PostgreSQL a transaction-scoped advisory lock on the district and year makes
racing reports take turns (the second reads the first's number once it commits); SQLite has
one writer at a time. Should two still collide, ``ux_hazard_number`` refuses the second and its
unit of work runs again (``server.uow``): a number is never given twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from server.hazards.models import Hazard
from shared.clock import local_date
from shared.numbers import hazard_number, number_prefix, sequence_of


def next_number(session: Session, district_id: str, at: datetime, tz: str | None = None) -> str:
    year = local_date(at, tz).year
    prefix = number_prefix(district_id, year)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": prefix})
    last = session.exec(
        select(func.max(Hazard.number))
        .where(col(Hazard.number) >= prefix)
        .where(col(Hazard.number) < prefix + "~")
    ).one()
    return hazard_number(district_id, year, sequence_of(last) + 1 if last else 1)


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
