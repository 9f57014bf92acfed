"""Deadline jobs for hazards: plain functions of a session and ``now``, idempotent in data."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from sqlmodel import Session, col, select

from server.hazards import service
from server.hazards.models import Hazard
from server.jobs.pages import by_deadline
from server.jobs.registry import Every, job
from server.uow import RETRIES, run_unit
from shared.chain import DEADLINE_STATES, EventType, Refused, State
from shared.clock import to_iso

if TYPE_CHECKING:
    from server.settings import Settings

log = logging.getLogger("hazardchain.jobs")
T = TypeVar("T")
BATCH = 1000  # events per unit: big enough to amortise a round trip, small enough to retry


@job("flag_overdue", Every("overdue_minutes"))
def flag_overdue(session: Session, now: datetime, settings: Settings | None = None) -> int:
    """One ``overdue`` event per hazard per deadline. Reads only unflagged hazards in a
    deadline state (a partial index), so a run costs what falls due, not the table size;
    writes them ``BATCH`` at a time, each batch one unit (``service.append_many``). The
    officer's own step is flagged too: a hazard left unassigned (``flag_unassigned``)."""
    due = (
        select(Hazard.id, Hazard.deadline)
        .where(col(Hazard.state).in_([s.value for s in DEADLINE_STATES]))
        .where(col(Hazard.deadline) < now)
        .where(Hazard.overdue.is_(False))
    )
    events = (
        service.SystemEvent(
            hazard_id, EventType.overdue, {}, f"overdue:{hazard_id}:{to_iso(deadline)}"
        )
        for hazard_id, deadline in by_deadline(session, due)
    )
    flagged = append_in_batches(session, events, now, "overdue")
    if flagged:
        log.info("overdue flagged", extra={"count": flagged, "now": to_iso(now)})
    return flagged + flag_unassigned(session, now, settings.officer_assign_days if settings else 1)


def flag_unassigned(session: Session, now: datetime, assign_days: int) -> int:
    """A reported hazard nobody assigned within ``assign_days`` is overdue for the officer:
    the same ``overdue`` event, about the officer's step deadline, so it sorts first in the
    officers' queues and reaches them like an enterprise's overdue hazard reaches it."""
    due = (
        select(Hazard.id)
        .where(Hazard.state == State.reported.value)
        .where(Hazard.overdue.is_(False))
        .where(col(Hazard.reported_at) < now - timedelta(days=assign_days))
        .order_by(col(Hazard.reported_at), col(Hazard.id))
    )
    events = [
        service.SystemEvent(hazard_id, EventType.overdue, {}, f"overdue:{hazard_id}:unassigned")
        for hazard_id in session.exec(due)
    ]  # read whole first: the batches write the rows this query reads
    flagged = append_in_batches(session, events, now, "unassigned")
    if flagged:
        log.info("unassigned flagged", extra={"count": flagged, "now": to_iso(now)})
    return flagged


def append_in_batches(
    session: Session, events: Iterable[service.SystemEvent], now: datetime, what: str
) -> int:
    """A job's system events, ``BATCH`` per unit: one transaction per batch, the whole batch
    retried on a race with another writer (the retry reads the winner's events and refuses
    them as duplicates). A refused event (raced with a rectification, another replica) is
    logged and skipped alone. Returns how many were appended."""
    appended = 0
    for batch in _chunks(events, BATCH):
        results = run_unit(
            session,
            partial(service.append_many, session, batch, now=now),
            retries=RETRIES,
            what=what,
        )
        for e, done in zip(batch, results, strict=True):
            if isinstance(done, Refused):
                log.info(
                    f"{what} skipped", extra={"hazard_id": e.hazard_id, "code": done.refusal.code}
                )
            else:
                appended += 1
    return appended


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
