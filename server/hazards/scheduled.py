"""Deadline jobs for hazards: plain functions of a session and ``now``, idempotent in data."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import partial
from typing import TypeVar

from sqlmodel import Session, col, select

from server.hazards import service
from server.hazards.models import Hazard
from server.jobs.pages import by_deadline
from server.uow import RETRIES, run_unit
from shared.chain import DEADLINE_STATES, EventType, Refused
from shared.clock import to_iso

log = logging.getLogger("hazardchain.jobs")
T = TypeVar("T")
BATCH = 1000  # events per unit: big enough to amortise a round trip, small enough to retry


def flag_overdue(session: Session, now: datetime) -> int:
    """One ``overdue`` event per hazard per deadline. Reads only unflagged hazards in a
    deadline state (a partial index), so a run costs what falls due, not the table size;
    writes them ``BATCH`` at a time, each batch one unit (``service.append_many``)."""
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
