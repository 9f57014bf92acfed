"""daily_summary: at ``HAZARDCHAIN_SUMMARY_TIME`` (07:00) in the configured zone, store the
snapshots of the day that just ended (the last complete local day before ``now``), one per
scope, and tell the leaders it is waiting. Missing snapshots only: running twice adds nothing,
and a server that was down at 07:00 catches up when it starts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from server.jobs.days import local_date
from server.jobs.registry import DailyAt, job
from server.notifications.service import notify
from server.settings import Settings, get_settings
from server.summaries.service import build_daily
from server.tlog.checkpoints import sign_checkpoint
from server.users.models import User
from shared.roles import Role


@job("daily_summary", DailyAt("summary_time"))
def daily_summary(
    session: Session, now: datetime, settings: Settings | None = None
) -> dict[str, Any]:
    settings = settings or get_settings()
    day = local_date(now, settings.timezone) - timedelta(days=1)
    stored = build_daily(session, day, now, settings.timezone)
    leaders = session.exec(
        select(User.id).where(User.role == Role.leader, User.active.is_(True))
    ).all()
    notices = notify(
        session,
        leaders,
        kind="summary",
        title=f"风险日报 {day.isoformat()} 已生成",
        body=f"{day.isoformat()} 的风险日报已生成，请查阅。\nThe risk summary for {day} is ready.",
        key=f"summary:{day.isoformat()}",
        now=now,
    )
    session.flush()
    # the day's signed checkpoint: what the leader's 签阅 and the printed report carry
    signed = sign_checkpoint(session, now, settings, reason="daily")
    return {"date": day.isoformat(), "stored": stored, "notices": notices, "log_size": signed.size}
