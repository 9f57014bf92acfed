"""一件事 views: every link of a matter with its department and scoped open/overdue counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from server.checklists.models import ChecklistTemplate
from server.checklists.service import template_of
from server.context import Caller
from server.hazards.models import Hazard
from server.inspections.models import Inspection
from server.matters.models import HazardMatter, Matter, MatterLink
from server.scoping import scope_filter
from server.sites.models import Site
from shared.chain import DEADLINE_STATES, OPEN_STATES
from shared.clock import ensure_utc
from shared.errors import not_found
from shared.matters import MATTERS, link_id
from shared.site_checklists import links_of


def seed_catalogue(session: Session) -> list[str]:
    """Add the catalogue's matters and links the database lacks; returns the ids added.

    Rows already there are left as they are (a city may have reassigned a link's department),
    so running it on every ``db upgrade`` is safe.
    """
    added: list[str] = []
    for m in MATTERS:
        if session.get(Matter, m.id) is None:
            session.add(Matter(id=m.id, name=m.zh, name_en=m.en, lead_department=m.lead_department))
            added.append(m.id)
        for pos, link in enumerate(m.links, start=1):
            lid = link_id(m.id, link.stage)
            if session.get(MatterLink, lid) is None:
                session.add(
                    MatterLink(
                        id=lid,
                        matter_id=m.id,
                        position=pos,
                        stage=link.stage,
                        name=link.zh,
                        name_en=link.en,
                        department=link.department,
                    )
                )
                added.append(lid)
    session.flush()
    return added


def _counts(session: Session, caller: Caller, now: datetime, group_col: Any, matter_id: str | None):
    open_states = [s.value for s in OPEN_STATES]
    overdue = case(
        (
            col(Hazard.state).in_([s.value for s in DEADLINE_STATES])
            & (col(Hazard.deadline) < now),
            1,
        ),
        else_=0,
    )
    major = case((Hazard.severity == "major", 1), else_=0)
    q = (
        select(group_col, func.count(), func.sum(overdue), func.sum(major))
        .select_from(HazardMatter)
        .join(Hazard, Hazard.id == HazardMatter.hazard_id)
        .where(col(Hazard.state).in_(open_states))
        .where(scope_filter(caller.scope, Hazard.district_id, Hazard.site_id))
        .group_by(group_col)
    )
    if matter_id:
        q = q.where(HazardMatter.matter_id == matter_id)
    return {
        key: {"open": n, "overdue": int(od or 0), "major_open": int(mj or 0)}
        for key, n, od, mj in session.exec(q).all()
    }


NO_SITES = {"sites": 0, "inspected_30d": 0, "inspected_90d": 0}


def _link_coverage(session: Session, caller: Caller, now: datetime) -> dict[str, dict[str, int]]:
    """Per link: the sites in scope that belong to it (by their checklists' chains, the rule
    that tags their hazards: ``shared.site_checklists.links_of``) and how many of them were
    inspected in the last 30 and 90 days. A link no site belongs to is a gap in the chain."""
    newest: dict[str, ChecklistTemplate] = {}
    for row in session.exec(select(ChecklistTemplate)).all():
        if row.id not in newest or row.version > newest[row.id].version:
            newest[row.id] = row
    templates = {tid: template_of(row) for tid, row in newest.items()}
    sites = session.exec(
        select(Site.id, Site.site_type)
        .where(col(Site.active))
        .where(scope_filter(caller.scope, Site.district_id, Site.id))
    ).all()
    by_type: dict[str, set[str]] = {}
    members: dict[str, set[str]] = {}
    for site_id, site_type in sites:
        if site_type not in by_type:
            by_type[site_type] = links_of(site_type, templates)
        for link in by_type[site_type]:
            members.setdefault(link, set()).add(site_id)
    linked = set().union(*members.values()) if members else set()
    last = (
        dict(
            session.exec(
                select(Inspection.site_id, func.max(Inspection.ended_at))
                .where(col(Inspection.site_id).in_(linked))
                .where(col(Inspection.ended_at) >= now - timedelta(days=90))
                .group_by(Inspection.site_id)
            ).all()
        )
        if linked
        else {}
    )
    month = now - timedelta(days=30)
    return {
        link: {
            "sites": len(ids),
            "inspected_30d": sum(1 for i in ids if i in last and ensure_utc(last[i]) >= month),
            "inspected_90d": sum(1 for i in ids if i in last),
        }
        for link, ids in members.items()
    }


def list_matters(session: Session, caller: Caller, now: datetime) -> list[dict[str, Any]]:
    counts = _counts(session, caller, now, HazardMatter.matter_id, None)
    out = []
    for m in session.exec(select(Matter).order_by(Matter.id)).all():
        out.append(
            {**m.model_dump(), **counts.get(m.id, {"open": 0, "overdue": 0, "major_open": 0})}
        )
    return out


def matter_detail(
    session: Session, caller: Caller, matter_id: str, now: datetime
) -> dict[str, Any]:
    matter = session.get(Matter, matter_id)
    if matter is None:
        raise not_found("事项", "matter")
    counts = _counts(session, caller, now, HazardMatter.link_id, matter_id)
    empty = {"open": 0, "overdue": 0, "major_open": 0}
    links = session.exec(
        select(MatterLink).where(MatterLink.matter_id == matter_id).order_by(MatterLink.position)
    ).all()
    coverage = _link_coverage(session, caller, now)
    link_rows = [
        {**link.model_dump(), **counts.get(link.id, empty), **coverage.get(link.id, NO_SITES)}
        for link in links
    ]
    totals = {k: sum(r[k] for r in link_rows) + counts.get(None, empty)[k] for k in empty}
    return {**matter.model_dump(), **totals, "links": link_rows}
