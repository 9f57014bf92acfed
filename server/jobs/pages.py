"""Read the hazards a deadline job needs in keyset pages along ``(deadline, id)``.

Paging with a LIMIT does two things: memory stays flat, and PostgreSQL walks the jobs' partial
indexes (``server/hazards/models.py``) in deadline order and stops at ``now``. Without the LIMIT
the planner judges ``deadline < now`` by the whole table's statistics (most deadlines are in the
past, on closed hazards), expects thousands of rows and scans by state instead, which grows
with every open hazard rather than with the ones falling due.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import tuple_
from sqlmodel import Session, col

from server.hazards.models import Hazard

BATCH = 500


def by_deadline(session: Session, query: Any, batch: int | None = None) -> Iterator[Any]:
    """Rows of ``query`` (selecting at least ``Hazard.id`` and ``Hazard.deadline``), in order."""
    batch = batch or BATCH
    after = None
    while True:
        q = query
        if after is not None:
            q = q.where(tuple_(col(Hazard.deadline), col(Hazard.id)) > tuple_(*after))
        page = session.exec(q.order_by(Hazard.deadline, Hazard.id).limit(batch)).all()
        yield from page
        if len(page) < batch:
            return
        after = (page[-1].deadline, page[-1].id)
