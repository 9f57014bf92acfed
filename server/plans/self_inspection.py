"""self_inspections: flag self-inspections an enterprise owed and did not do (企业未按要求自查).

The plans are the rules: each site's self-inspections and their rhythm follow from its sub-type
(``shared.site_checklists.SELF_CHECKS``), from the day the site and the checklist are both on
the server. A period that ended with a slot uncovered is told to the site's enterprise users at
once and, after the grace period, to the district's officers. Chain-free (notifications only)
and idempotent: each flag has its dedupe key, so reruns and replicas add nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from server.checklists.models import ChecklistTemplate
from server.inspections.models import Inspection
from server.jobs.recipients import supervisors
from server.jobs.registry import Every, job
from server.notifications.service import notify
from server.settings import Settings, get_settings
from server.sites.models import Site
from server.sites.tree import DistrictTree
from server.users.models import User, UserSite
from shared.roles import Role
from shared.self_inspection import Period, ended_periods
from shared.site_checklists import SELF_CHECKS, self_checks_for

log = logging.getLogger("hazardchain.jobs")
KIND = "self_inspection_missed"
RHYTHM_WORDS = {
    "every_2h_open": ("营业期间每两小时巡查", "a patrol every two hours while open"),
    "daily": ("每日巡查", "the daily check"),
    "weekly": ("每周检查", "the weekly check"),
    "monthly": ("每月检查", "the monthly check"),
    "quarterly": ("季节性（每季度）检查", "the seasonal (quarterly) check"),
}


def _owners(session: Session, site_id: str) -> list[str]:
    """The site's own accounts: active enterprise users bound to it."""
    return list(
        session.exec(
            select(User.id)
            .join(UserSite, col(UserSite.user_id) == col(User.id))
            .where(UserSite.site_id == site_id)
            .where(User.role == Role.enterprise.value)
            .where(User.active.is_(True))
            .order_by(User.id)
        ).all()
    )


def _text(
    site: Site, title: tuple[str, str], period: Period, gaps: int, late: bool
) -> tuple[str, str]:
    words = RHYTHM_WORDS[period.check.rhythm]
    slots = len(period.slots)
    done_zh = f"应巡查 {slots} 次，缺 {gaps} 次；" if slots > 1 else ""
    done_en = f"{gaps} of {slots} patrols missing; " if slots > 1 else ""
    who_zh = "已超过宽限期，请督促企业落实自查。" if late else "请尽快补做并按要求自查。"
    who_en = (
        "The grace period has passed: please see that it self-inspects."
        if late
        else ("Please do it now and keep to the rhythm the rules set.")
    )
    return (
        f"企业未按要求自查：{site.name}（{period.label} {title[0]}）",
        f"{site.name} {period.label} 未完成{words[0]}（{title[0]}）：{done_zh}{who_zh}\n"
        f"{site.name} did not do {words[1]} ({title[1]}) on {period.label}: {done_en}{who_en}",
    )


@job("self_inspections", Every("plan_minutes"))
def self_inspections(
    session: Session, now: datetime, settings: Settings | None = None
) -> dict[str, int]:
    settings = settings or get_settings()
    rows = session.exec(
        select(ChecklistTemplate.id, ChecklistTemplate.industry, ChecklistTemplate.title,
               ChecklistTemplate.title_en, func.min(ChecklistTemplate.imported_at))
        .group_by(ChecklistTemplate.id, ChecklistTemplate.industry, ChecklistTemplate.title,
                  ChecklistTemplate.title_en)
    ).all()  # fmt: skip
    industries = {r[0]: r[1] for r in rows}
    titles = {r[0]: (r[2], r[3] or r[2]) for r in rows}
    arrived = {r[0]: r[4] for r in rows}
    opens, _, closes = settings.venue_hours.partition("-")
    grace = timedelta(hours=settings.self_inspection_grace_hours)
    tree: DistrictTree | None = None
    counts = {"flagged": 0, "escalated": 0}
    sites = session.exec(
        select(Site)
        .where(Site.active.is_(True))
        .where(col(Site.site_type).in_(list(SELF_CHECKS)))
        .order_by(Site.id)
    ).all()
    for site in sites:
        owners: list[str] | None = None
        for check in self_checks_for(site.site_type, industries):
            periods = ended_periods(
                check,
                since=max(site.created_at, arrived[check.template_id]),
                now=now,
                tz=settings.timezone,
                hours=(opens, closes),
                lookback_days=settings.self_inspection_lookback_days,
            )
            if not periods:
                continue
            done_q = (
                select(Inspection.ended_at)
                .where(Inspection.site_id == site.id)
                .where(Inspection.template_id == check.template_id)
                .where(col(Inspection.ended_at) >= periods[0].start)
            )
            if check.profile is not None:  # a template owed at several rhythms, one per profile
                done_q = done_q.where(Inspection.profile == check.profile)
            done = session.exec(done_q).all()
            for period in periods:
                gaps = period.missing(done)
                if not gaps:
                    continue
                key = f"{KIND}:{site.id}:{check.template_id}:{period.label}"
                owners = _owners(session, site.id) if owners is None else owners
                title, body = _text(site, titles[check.template_id], period, len(gaps), False)
                counts["flagged"] += notify(
                    session, owners, kind=KIND, title=title, body=body, key=key, now=now
                )
                if now >= period.end + grace:
                    tree = tree or DistrictTree(session)
                    officers = supervisors(
                        session, tree, site.district_id, 1, roles=(Role.officer,)
                    )
                    title, body = _text(site, titles[check.template_id], period, len(gaps), True)
                    counts["escalated"] += notify(
                        session, officers, kind=KIND, title=title, body=body,
                        key=f"{key}:officer", now=now,
                    )  # fmt: skip
    session.flush()
    if counts["flagged"] or counts["escalated"]:
        log.info("self-inspections missed", extra={**counts, "site_types": len(SELF_CHECKS)})
    return counts


__all__ = ["KIND", "self_inspections"]
