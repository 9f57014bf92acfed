"""plan_tasks: create the inspection tasks of every active plan up to the horizon, and move
tasks whose due time has passed onto the missed list, telling the plan's author once."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from server.jobs.registry import Every, job
from server.notifications.service import notify
from server.plans.models import InspectionPlan
from server.plans.service import generate_tasks, mark_missed
from server.settings import Settings, get_settings
from server.sites.models import Site
from server.uow import checkpoint


@job("plan_tasks", Every("plan_minutes"))
def plan_tasks(session: Session, now: datetime, settings: Settings | None = None) -> dict[str, int]:
    settings = settings or get_settings()
    created = 0
    for plan in session.exec(
        select(InspectionPlan).where(InspectionPlan.active.is_(True)).order_by(InspectionPlan.id)
    ).all():
        created += generate_tasks(session, plan, now, settings.timezone, settings.plan_horizon_days)
        checkpoint(session)
    missed = mark_missed(session, now)
    for task in missed:
        plan = session.get(InspectionPlan, task.plan_id)
        site = session.get(Site, task.site_id)
        where, day = (site.name if site else task.site_id), task.scheduled_for.isoformat()
        notify(
            session,
            [plan.created_by],
            kind="task_missed",
            title=f"检查任务逾期未完成：{where}（{day}）",
            body=(
                f"计划“{plan.name}”在{where}的{day}检查未按期完成。\n"
                f"The {day} inspection of {where} (plan “{plan.name}”) was missed."
            ),
            key=f"task_missed:{task.id}",
            now=now,
        )
    checkpoint(session)
    return {"created": created, "missed": len(missed)}
