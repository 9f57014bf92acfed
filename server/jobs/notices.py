"""Notices derived from chain events (overdue, escalated): whoever wrote the event — a job, an
officer, the report service — the people concerned hear of it once, keyed by the event id. A
re-run, or a run after a crash between the event and its notices, fills in only what is missing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from server.hazards.models import Hazard, HazardEvent
from server.notifications.service import notify
from server.sites.tree import DistrictTree
from shared.clock import to_iso

# Events older than this are history, not news: a new deployment does not replay old chains.
WINDOW = timedelta(days=7)

Recipients = Callable[[Session, DistrictTree, Hazard, HazardEvent], Iterable[str]]
Wording = Callable[[Hazard, HazardEvent], tuple[str, str]]


def notify_events(
    session: Session,
    now: datetime,
    event_type: str,
    recipients: Recipients,
    wording: Wording,
) -> int:
    rows = session.exec(
        select(HazardEvent, Hazard)
        .join(Hazard, col(Hazard.id) == col(HazardEvent.hazard_id))
        .where(HazardEvent.type == event_type)
        .where(col(HazardEvent.at) >= to_iso(now - WINDOW))
        .where(col(HazardEvent.at) <= to_iso(now))
        .order_by(HazardEvent.at)
    ).all()
    if not rows:
        return 0
    tree = DistrictTree(session)
    added = 0
    for event, hazard in rows:
        title, body = wording(hazard, event)
        added += notify(
            session,
            recipients(session, tree, hazard, event),
            kind=event_type,
            title=title,
            body=body,
            key=f"ev:{event.id}",
            now=now,
            hazard_id=hazard.id,
        )
    session.flush()
    return added
