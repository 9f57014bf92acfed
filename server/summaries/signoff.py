"""What leaders read and sign, on top of the summaries service: which scopes a user may pick, a
day's summary (stored, computed, or today's figures so far), the sign-off (签阅), and the
four-colour picture of sites. The API (``server/summaries/views.py``) and the console's leader
pages both call it; it knows nothing of HTTP."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from server.context import Caller
from server.hazards.models import Hazard
from server.jobs.days import local_date
from server.scoping import scope_filter
from server.sites.models import Site
from server.sites.tree import DistrictTree
from server.summaries import service as summaries
from server.summaries.models import SummaryAck
from server.tlog.checkpoints import day_checkpoint
from shared.chain import OPEN_STATES, canonical_json
from shared.errors import DomainError, not_found
from shared.roles import Role
from shared.text import clean, text_problem

COLOURS = ("red", "orange", "yellow", "blue")


def scope_options(session: Session, caller: Caller) -> list[tuple[str, str]]:
    """(district id, name) of the summary scopes (city, districts) this user may read, widest
    first."""
    tree = DistrictTree(session)
    ids = [
        d
        for d in summaries.scope_districts(session)
        if caller.scope.covers(district_id=d, site_id=None)
    ]
    ids.sort(key=lambda d: (len(tree.chain(d)), d))
    return [(d, tree.name(d)) for d in ids]


@dataclass(frozen=True)
class DaySummary:
    day: date
    district_id: str
    figures: dict[str, Any]
    stored: bool
    generated_at: datetime | None
    live: bool  # today's figures so far: nothing to sign off yet


def day_summary(
    session: Session,
    caller: Caller,
    day: date | None,
    district_id: str | None,
    now: datetime,
    tz: str,
) -> DaySummary:
    """The stored snapshot of a past day (or the same figures computed, when none was stored);
    for today, the figures so far."""
    options = scope_options(session, caller)
    if not options:
        raise not_found("辖区", "district")
    district_id = district_id or options[0][0]
    if district_id not in {d for d, _ in options}:
        raise not_found("辖区", "district")
    today = local_date(now, tz)
    day = day or today - timedelta(days=1)
    if day > today:
        raise DomainError.of(
            "day_not_over",
            "不能查看未来日期的日报",
            "that day has not come yet",
            fields={"date": "must not be after today"},
        )
    if day == today:
        # counted afresh on every view, no cache: the aggregates read the open hazards and
        # those finished this year from two indexes, and fold the ones changed since now (none)
        figures = summaries.compute(session, day, tz, [district_id], until=now)[district_id]
        return DaySummary(day, district_id, figures, False, None, True)
    s = summaries.daily_for(session, caller, day, district_id, now, tz)
    return DaySummary(day, district_id, s.figures, s.stored, s.generated_at, False)


def figures_digest(figures: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(figures)).hexdigest()


def acks_for(session: Session, district_id: str, day: date) -> list[SummaryAck]:
    return list(
        session.exec(
            select(SummaryAck)
            .where(SummaryAck.district_id == district_id, SummaryAck.day == day)
            .order_by(SummaryAck.acknowledged_at)
        ).all()
    )


MAX_ACK_COMMENT = 1000


def _ack_comment(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    problem = text_problem(value)
    if problem or len(clean(value)) > MAX_ACK_COMMENT:
        en = problem or f"too long (max {MAX_ACK_COMMENT} characters)"
        raise DomainError.of(
            "invalid_input",
            f"签阅意见无效（最多{MAX_ACK_COMMENT}字，不含控制字符）",
            f"comment is {en}",
            fields={"comment": en},
        )
    return clean(value)


def acknowledge(
    session: Session,
    caller: Caller,
    day: date,
    district_id: str,
    now: datetime,
    tz: str,
    comment: str | None = None,
) -> SummaryAck:
    """The leader signs off a finished day's summary, with a comment if they have one; a
    second sign-off returns the first."""
    if caller.role is not Role.leader:
        raise DomainError.of(
            "forbidden", "只有领导可以签阅日报", "only leaders sign off the summary"
        )
    comment = _ack_comment(comment)
    summary = day_summary(session, caller, day, district_id, now, tz)
    if summary.live:
        raise DomainError.of(
            "day_not_over",
            "该日尚未结束，日报次日生成后方可签阅",
            "that day is not over yet; sign it off once its summary is built",
        )

    def existing() -> SummaryAck | None:
        return session.exec(
            select(SummaryAck).where(
                SummaryAck.district_id == summary.district_id,
                SummaryAck.day == summary.day,
                SummaryAck.user_id == caller.user.id,
            )
        ).first()

    found = existing()
    if found is not None:
        return found
    ack = SummaryAck(
        id=str(uuid.uuid4()),
        district_id=summary.district_id,
        day=summary.day,
        user_id=caller.user.id,
        user_name=caller.user.display_name,
        acknowledged_at=now,
        figures_sha256=figures_digest(summary.figures),
        stored=summary.stored,
        comment=comment,
    )
    closing = day_checkpoint(session, summary.day, tz)
    if closing is not None:
        ack.checkpoint_size, ack.checkpoint_root = closing.size, closing.root
    session.add(ack)
    # a double click on two replicas collides here: the request's unit runs again, and the
    # first one stands (``existing`` above)
    session.flush()
    return ack


@dataclass
class DistrictPicture:
    district_id: str
    name: str
    counts: dict[str, int]
    sites: list[dict[str, Any]]


def risk_picture(session: Session, caller: Caller, district_id: str) -> list[DistrictPicture]:
    """Active sites by district and risk colour, red first, each with its open and major open
    hazards now (colours are today's: their history is not kept)."""
    tree = DistrictTree(session)
    root = tree.by_id.get(district_id)
    sites = session.exec(
        select(Site.id, Site.name, Site.district_id, Site.risk_colour)
        .where(Site.active.is_(True))
        .where(scope_filter(caller.scope, Site.district_id, Site.id))
    ).all()
    major = case((Hazard.severity == "major", 1), else_=0)
    # A hazard lies in its site's district, so the sites' scope filter is the hazards' too;
    # counting per site over (site_id, state, severity) is then an index-only scan.
    open_counts = {
        sid: (n, int(m or 0))
        for sid, n, m in session.exec(
            select(Hazard.site_id, func.count(), func.sum(major))
            .where(col(Hazard.state).in_([s.value for s in OPEN_STATES]))
            .group_by(Hazard.site_id)
        ).all()
    }
    groups: dict[str, DistrictPicture] = {}
    order = {c: i for i, c in enumerate(COLOURS)}
    for sid, name, did, colour in sites:
        chain = [d.id for d in tree.chain(did)]
        if root is None or root.id not in chain:
            continue
        # group under the scope's child on the way down (a 区 under the city), or the scope
        idx = chain.index(root.id)
        gid = chain[idx - 1] if idx > 0 else root.id
        g = groups.setdefault(
            gid, DistrictPicture(gid, tree.name(gid), dict.fromkeys(COLOURS, 0), [])
        )
        g.counts[colour] = g.counts.get(colour, 0) + 1
        n_open, n_major = open_counts.get(sid, (0, 0))
        g.sites.append(
            {"id": sid, "name": name, "colour": colour, "open": n_open, "major": n_major}
        )
    for g in groups.values():
        g.sites.sort(key=lambda s: (order.get(s["colour"], 9), -s["open"], s["name"]))
    return sorted(groups.values(), key=lambda g: g.district_id)
