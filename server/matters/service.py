"""一件事 views: every link of a matter with its department and scoped open/overdue counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from server.context import Caller
from server.hazards.models import Hazard
from server.matters.models import HazardMatter, Matter, MatterLink
from server.scoping import scope_filter
from shared.chain import DEADLINE_STATES, OPEN_STATES
from shared.errors import not_found
from shared.matters import MATTERS, link_id


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
    link_rows = [{**link.model_dump(), **counts.get(link.id, empty)} for link in links]
    totals = {k: sum(r[k] for r in link_rows) + counts.get(None, empty)[k] for k in empty}
    return {**matter.model_dump(), **totals, "links": link_rows}
