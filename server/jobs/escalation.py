"""escalate (挂牌督办): a general hazard overdue for N days (``HAZARDCHAIN_ESCALATE_AFTER_DAYS``,
3 by default) is supervised by the district, after 2N days by the city; an overdue major
hazard (already district-supervised from its report) goes to the city at once. The new level's
officers and leaders are notified of every ``escalated`` event, whoever appended it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from server.hazards import service
from server.hazards.models import Hazard, HazardEvent
from server.hazards.scheduled import append_in_batches
from server.jobs.notices import notify_events
from server.jobs.pages import by_deadline
from server.jobs.recipients import LEVEL_WORDS, supervisors
from server.jobs.registry import Every, job
from server.settings import Settings, get_settings
from server.sites.tree import DistrictTree
from shared.chain import DEADLINE_STATES, EventType
from shared.deadlines import overdue_days
from shared.taxonomy import Severity

log = logging.getLogger("hazardchain.jobs")
CITY = 2


def target_level(severity: str, overdue_for: timedelta, after_days: int) -> int:
    """The supervision level a hazard overdue for ``overdue_for`` should have reached."""
    if overdue_for <= timedelta(0):
        return 0
    if severity == Severity.major:
        return CITY
    return min(CITY, int(overdue_for / timedelta(days=after_days)))


def escalate_overdue(session: Session, now: datetime, after_days: int) -> int:
    # Only hazards past their deadline and below the city (a partial index holds just those).
    candidates = (
        select(Hazard.id, Hazard.severity, Hazard.deadline, Hazard.escalation_level)
        .where(col(Hazard.state).in_([s.value for s in DEADLINE_STATES]))
        .where(col(Hazard.deadline) < now)
        .where(Hazard.escalation_level < CITY)
    )
    return append_in_batches(
        session, _escalations(session, candidates, now, after_days), now, "escalation"
    )


def _escalations(
    session: Session, candidates: Any, now: datetime, after_days: int
) -> Iterator[service.SystemEvent]:
    for hazard_id, severity, deadline, level in by_deadline(session, candidates):
        overdue_for = now - deadline
        target = target_level(severity, overdue_for, after_days)
        if target <= level:
            continue
        zh, en = LEVEL_WORDS[target]
        days = overdue_days(deadline, now)
        if severity == Severity.major:
            reason = f"重大隐患逾期未整改，提级至{zh}督办 / major hazard overdue: {en} supervision"
        else:
            reason = f"逾期{days}天未整改，提级至{zh}督办 / overdue {days} days: {en} supervision"
        yield service.SystemEvent(
            hazard_id,
            EventType.escalated,
            {"level": target, "reason": reason},
            f"escalated:{hazard_id}:{target}",
        )


def _escalation_recipients(
    session: Session, tree: DistrictTree, hazard: Hazard, event: HazardEvent
) -> list[str]:
    return supervisors(session, tree, hazard.district_id, int(event.payload.get("level", 1)))


def _escalation_wording(hazard: Hazard, event: HazardEvent) -> tuple[str, str]:
    level = int(event.payload.get("level", 1))
    zh, en = LEVEL_WORDS.get(level, LEVEL_WORDS[CITY])
    reason = event.payload.get("reason", "")
    return (
        f"{zh}挂牌督办：{hazard.title}",
        f"隐患“{hazard.title}”已提级至{zh}督办。{reason}\n"
        f"“{hazard.title}” is now under {en}-level supervision.",
    )


@job("escalate", Every("escalate_minutes"))
def escalate(session: Session, now: datetime, settings: Settings | None = None) -> dict[str, int]:
    settings = settings or get_settings()
    escalated = escalate_overdue(session, now, settings.escalate_after_days)
    notices = notify_events(session, now, "escalated", _escalation_recipients, _escalation_wording)
    return {"escalated": escalated, "notices": notices}
