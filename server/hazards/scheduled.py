"""Deadline jobs for hazards: plain functions of a session and ``now``, idempotent in data."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from sqlmodel import Session, col, select

from server.context import SYSTEM_ACTOR
from server.hazards import service
from server.hazards.models import Hazard
from server.jobs.pages import by_deadline
from server.uow import RETRIES, run_unit
from shared.chain import DEADLINE_STATES, EventType, Refused
from shared.clock import to_iso

log = logging.getLogger("hazardchain.jobs")


def flag_overdue(session: Session, now: datetime) -> int:
    """One ``overdue`` event per hazard per deadline. Reads only unflagged hazards in a
    deadline state (a partial index), so a run costs what falls due, not the table size."""
    due = (
        select(Hazard.id, Hazard.deadline)
        .where(col(Hazard.state).in_([s.value for s in DEADLINE_STATES]))
        .where(col(Hazard.deadline) < now)
        .where(Hazard.overdue.is_(False))
    )
    flagged = 0
    for hazard_id, deadline in by_deadline(session, due):
        try:
            run_unit(  # each event its own unit, retried on a race with another writer
                session,
                partial(
                    service.append,
                    session,
                    actor=SYSTEM_ACTOR,
                    hazard_id=hazard_id,
                    event_type=EventType.overdue,
                    payload={},
                    now=now,
                    dedupe_key=f"overdue:{hazard_id}:{to_iso(deadline)}",
                ),
                retries=RETRIES,
                what="overdue",
            )
            flagged += 1
        except Refused as exc:  # raced with a rectification or another scheduler
            log.info("overdue skipped", extra={"hazard_id": hazard_id, "code": exc.refusal.code})
    if flagged:
        log.info("overdue flagged", extra={"count": flagged, "now": to_iso(now)})
    return flagged
