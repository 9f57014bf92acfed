"""remind: before a deadline (3 days and 1 day by default) one reminder per hazard per
threshold, and a notice when a hazard is flagged overdue. Notifications are stored at once;
whether a user gets them in the daily digest or one by one is the delivery job's business."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from server.hazards.models import Hazard, HazardEvent
from server.jobs.idempotent import insert_many_once
from server.jobs.notices import notify_events
from server.jobs.recipients import active_user, supervisors
from server.jobs.registry import Every, job
from server.notifications.models import HazardReminder
from server.notifications.service import notify
from server.settings import Settings, get_settings
from server.sites.tree import DistrictTree
from server.uow import checkpoint
from shared.chain import DEADLINE_STATES
from shared.clock import DEFAULT_TIMEZONE, local_text, parse_iso, to_iso
from shared.deadlines import overdue_days
from shared.roles import Role

DAY = timedelta(days=1)
BATCH = 1000  # hazards per unit


def _responsible_and_officers(session: Session, tree: DistrictTree, hazard: Hazard) -> list[str]:
    """The unit that must rectify (its account, when bound) and the district's officers."""
    people = supervisors(session, tree, hazard.district_id, 1, roles=(Role.officer,))
    owner = active_user(session, hazard.responsible_user_id)
    return [owner, *people] if owner else people


def _left(deadline: datetime, now: datetime) -> str:
    hours = max(0, int((deadline - now).total_seconds() // 3600))
    return f"{hours // 24}天{hours % 24}小时" if hours >= 24 else f"{hours}小时"


def remind_before_deadlines(
    session: Session, now: datetime, thresholds: tuple[int, ...], tz: str = DEFAULT_TIMEZONE
) -> int:
    """Hazards whose deadline is within the largest threshold; only the nearest threshold
    crossed is sent, larger ones crossed at the same time are recorded as skipped."""
    if not thresholds:
        return 0
    horizon = now + DAY * max(thresholds)
    hazards = session.exec(
        select(Hazard)
        .where(col(Hazard.state).in_([s.value for s in DEADLINE_STATES]))
        .where(col(Hazard.deadline) > now)
        .where(col(Hazard.deadline) <= horizon)
        .order_by(Hazard.deadline)
    ).all()
    tree = DistrictTree(session) if hazards else None
    sent = 0
    for i in range(0, len(hazards), BATCH):  # one unit per batch, one insert for its reminders
        batch = hazards[i : i + BATCH]
        rows, nearest = [], {}
        for hazard in batch:
            crossed = sorted(t for t in thresholds if hazard.deadline - now <= DAY * t)
            if not crossed:
                continue
            nearest[hazard.id] = crossed[0]
            rows += [
                {
                    "key": _key(hazard, t),
                    "hazard_id": hazard.id,
                    "deadline": hazard.deadline,
                    "threshold_days": t,
                    "sent": t == crossed[0],
                    "created_at": now,
                }
                for t in crossed
            ]
        fresh = insert_many_once(session, HazardReminder, rows, ["key"])
        for hazard in batch:
            t = nearest.get(hazard.id)
            if t is None or _key(hazard, t) not in fresh:
                continue
            left = _left(hazard.deadline, now)
            sent += bool(
                notify(
                    session,
                    _responsible_and_officers(session, tree, hazard),
                    kind="reminder",
                    title=f"整改期限提醒：{hazard.title}（剩余{left}）",
                    body=(
                        f"隐患“{hazard.title}”的整改期限为 {local_text(hazard.deadline, tz)}，"
                        f"剩余{left}。\n"
                        f"Rectification of “{hazard.title}” is due "
                        f"{local_text(hazard.deadline, tz)} "
                        f"(within {t} day(s))."
                    ),
                    key=_key(hazard, t),
                    now=now,
                    hazard_id=hazard.id,
                )
            )
        checkpoint(session)
    return sent


def _key(hazard: Hazard, threshold: int) -> str:
    return f"remind:{hazard.id}:{to_iso(hazard.deadline)}:{threshold}d"


def _overdue_wording(
    hazard: Hazard, event: HazardEvent, tz: str = DEFAULT_TIMEZONE
) -> tuple[str, str]:
    """In local time and whole days; an unassigned hazard is the officer's own step late."""
    due = event.payload.get("deadline", "")
    deadline = local_text(due, tz)
    days = overdue_days(parse_iso(due), parse_iso(event.at)) if due else None
    late = f"，已逾期{days}天" if days else ""
    if hazard.state == "reported":
        return (
            f"隐患逾期未交办：{hazard.title}",
            f"隐患“{hazard.title}”应于 {deadline} 前交办，尚未交办{late}。\n"
            f"“{hazard.title}” should have been assigned by {deadline}.",
        )
    return (
        f"隐患逾期：{hazard.title}",
        f"隐患“{hazard.title}”已超过整改期限 {deadline}，尚未整改完成{late}。\n"
        f"“{hazard.title}” passed its rectification deadline {deadline}.",
    )


@job("remind", Every("remind_minutes"))
def remind(session: Session, now: datetime, settings: Settings | None = None) -> dict[str, int]:
    settings = settings or get_settings()
    tz = settings.timezone
    reminders = remind_before_deadlines(session, now, settings.remind_thresholds, tz)
    notices = notify_events(
        session,
        now,
        "overdue",
        lambda s, tree, hazard, _ev: _responsible_and_officers(s, tree, hazard),
        lambda hazard, event: _overdue_wording(hazard, event, tz),
    )
    return {"reminders": reminders, "overdue_notices": notices}
