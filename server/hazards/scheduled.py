"""Deadline jobs for hazards: plain functions of a session and ``now``, idempotent in data."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from server.context import SYSTEM_ACTOR
from server.hazards import service
from server.hazards.models import Hazard
from server.jobs.pages import by_deadline
from server.uow import RETRIES, run_unit
from shared.chain import DEADLINE_STATES, EventType, Refused, State
from shared.clock import to_iso

if TYPE_CHECKING:
    from server.settings import Settings

log = logging.getLogger("hazardchain.jobs")


def flag_overdue(session: Session, now: datetime, settings: Settings | None = None) -> int:
    """One ``overdue`` event per hazard per deadline. Reads only unflagged hazards in a
    deadline state (a partial index), so a run costs what falls due, not the table size.
    The officer's own step is flagged too: a hazard left unassigned (``flag_unassigned``)."""
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
    flagged = 0
    for hazard_id in list(session.exec(due)):
        try:
            run_unit(
                session,
                partial(
                    service.append,
                    session,
                    actor=SYSTEM_ACTOR,
                    hazard_id=hazard_id,
                    event_type=EventType.overdue,
                    payload={},
                    now=now,
                    dedupe_key=f"overdue:{hazard_id}:unassigned",
                ),
                retries=RETRIES,
                what="overdue",
            )
            flagged += 1
        except Refused as exc:  # assigned meanwhile, or its step deadline is later
            log.info("unassigned skipped", extra={"hazard_id": hazard_id, "code": exc.refusal.code})
    if flagged:
        log.info("unassigned flagged", extra={"count": flagged, "now": to_iso(now)})
    return flagged
