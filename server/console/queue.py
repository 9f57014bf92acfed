"""Each role's work queue: the hazard service's scoped filter, ordered for work.

Order: overdue first, then major, then the nearest deadline, then the oldest report, so the
top of the page is always what needs doing first. Tabs are presets of the same filter; the
Excel export runs exactly the query the page shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from server.context import Caller
from server.hazards.models import Hazard, HazardEvent
from server.hazards.overdue import overdue_clause
from server.hazards.service import HazardFilter, awaiting_clause, filtered_query
from server.scoping import scope_filter
from shared.chain import OPEN_STATES, State, overdue_now
from shared.deadlines import DEFAULT_POLICY, DeadlinePolicy, overdue_days
from shared.roles import Role
from shared.taxonomy import Industry, Severity

PAGE_SIZE = 50
OPEN = tuple(sorted(s.value for s in OPEN_STATES))
FINISHED = (State.closed.value, State.cancelled.value)
TABS: dict[str, dict[str, Any]] = {
    "open": {"state": OPEN},
    # the caller's own next steps, by ``shared.events.acts_next`` (one rule for every role)
    "next": {"state": OPEN, "awaiting": True},
    "mine": {"state": OPEN, "mine": True},
    "overdue": {"state": OPEN, "overdue": True},
    "major": {"state": OPEN, "severity": Severity.major.value},
    "done": {"state": FINISHED},
    # 自查自改: what enterprises found themselves, and their closures drawn for 抽查
    "self": {"origin": "self"},
    "spot": {"spot_check": "drawn"},
    "all": {},
}
TAB_NAMES = {
    "open": "待办隐患",
    "next": "待我处理",
    "mine": "我经手的",
    "overdue": "逾期",
    "major": "重大隐患",
    "done": "已办结",
    "self": "企业自查发现",
    "spot": "待抽查",
    "all": "全部隐患",
}
OLD_TABS = {"officer": "next"}  # bookmarks from before "待我处理" meant every role's own
# Roles that owe no step of any chain: "待我处理" would always be empty for them.
NO_STEPS = (Role.leader, Role.inspector)


def tabs_for(role: Role) -> dict[str, str]:
    return {
        k: v
        for k, v in TAB_NAMES.items()
        if not (k == "next" and role in NO_STEPS)
        and not (k == "spot" and role not in (Role.officer, Role.admin))
    }


overdue_expr = overdue_clause


@dataclass(frozen=True)
class QueueQuery:
    tab: str = "open"
    state: tuple[str, ...] = ()
    severity: str | None = None
    industry: str | None = None
    district: str | None = None
    site: str | None = None
    matter: str | None = None
    link: str | None = None
    overdue: bool | None = None
    escalated: bool | None = None
    q: str | None = None
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, Any] | Any) -> QueueQuery:
        """From the query string; unknown values are dropped (a stale bookmark still opens)."""

        def one(key: str, allowed: tuple[str, ...] | None = None, size: int = 64) -> str | None:
            value = (params.get(key) or "").strip()[:size]
            if not value or (allowed is not None and value not in allowed):
                return None
            return value

        def yes_no(key: str) -> bool | None:
            return {"yes": True, "no": False}.get(params.get(key) or "")

        states = tuple(s for s in params.getlist("state") if s in {x.value for x in State})
        try:
            page = max(1, min(int(params.get("page") or 1), 100_000))
        except ValueError:
            page = 1
        return cls(
            tab=OLD_TABS.get(params.get("tab") or "") or one("tab", tuple(TABS)) or "open",
            state=states,
            severity=one("severity", tuple(s.value for s in Severity)),
            industry=one("industry", tuple(i.value for i in Industry)),
            district=one("district", size=32),
            site=one("site", size=36),
            matter=one("matter"),
            link=one("link"),
            overdue=yes_no("overdue"),
            escalated=yes_no("escalated"),
            q=one("q", size=200),
            page=page,
        )

    def params(self) -> dict[str, Any]:
        """Back to query parameters (page left out)."""
        yn = {True: "yes", False: "no", None: None}
        return {
            "tab": self.tab,
            "state": list(self.state),
            "severity": self.severity,
            "industry": self.industry,
            "district": self.district,
            "site": self.site,
            "matter": self.matter,
            "link": self.link,
            "overdue": yn[self.overdue],
            "escalated": yn[self.escalated],
            "q": self.q,
        }

    def hazard_filter(self, caller: Caller) -> tuple[HazardFilter, bool]:
        """The service filter (explicit filters win over the tab's preset) and 'mine'."""
        preset = TABS[self.tab]
        f = HazardFilter(
            state=self.state or preset.get("state", ()),
            severity=self.severity or preset.get("severity"),
            industry=self.industry,
            district_id=self.district,
            site_id=self.site,
            matter_id=self.matter,
            link_id=self.link,
            overdue=self.overdue if self.overdue is not None else preset.get("overdue"),
            escalated=self.escalated,
            text=self.q,
            origin=preset.get("origin"),
            spot_check=preset.get("spot_check"),
            awaiting=caller if preset.get("awaiting") else None,
        )
        return f, bool(preset.get("mine"))


def queue_query(session: Session, caller: Caller, qq: QueueQuery, now: datetime):
    """The page's query, ordered for work, before paging."""
    f, mine = qq.hazard_filter(caller)
    q = filtered_query(session, caller, f, now)
    if mine:
        acted = select(HazardEvent.hazard_id).where(HazardEvent.actor_id == caller.user.id)
        q = q.where(col(Hazard.id).in_(acted))
    major = case((Hazard.severity == Severity.major.value, 0), else_=1)
    late = case((overdue_expr(now), 0), else_=1)
    return q.order_by(
        late,
        major,
        col(Hazard.deadline).is_(None),
        col(Hazard.deadline),
        col(Hazard.reported_at),
        col(Hazard.id),
    )


@dataclass(frozen=True)
class QueuePage:
    rows: list[Hazard]
    total: int
    page: int
    pages: int


def queue_page(
    session: Session,
    caller: Caller,
    qq: QueueQuery,
    now: datetime,
    counts: dict[str, int] | None = None,
) -> QueuePage:
    """One page of the queue. The sort runs over the narrow covering index (ids and sort keys
    only); the page's full rows are then read by id. A tab with no further filter takes its
    total from the tab counts instead of counting again."""
    q = queue_query(session, caller, qq, now)
    plain = qq == QueueQuery(tab=qq.tab, page=qq.page)
    if counts is not None and plain and qq.tab in counts:
        total = counts[qq.tab]
    else:
        total = session.exec(select(func.count()).select_from(q.order_by(None).subquery())).one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(qq.page, pages)
    ids = list(
        session.exec(q.with_only_columns(Hazard.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    )
    found = {h.id: h for h in session.exec(select(Hazard).where(col(Hazard.id).in_(ids)))}
    return QueuePage([found[i] for i in ids if i in found], total, page, pages)


def tab_counts(session: Session, caller: Caller, now: datetime) -> dict[str, int]:
    """Open hazards in scope by tab, in one pass (the badges next to the tabs)."""
    in_scope = scope_filter(caller.scope, Hazard.district_id, Hazard.site_id)
    one = lambda cond: func.coalesce(func.sum(case((cond, 1), else_=0)), 0)  # noqa: E731
    row = session.exec(
        select(
            func.count(),
            one(awaiting_clause(caller.role, caller.user.id)),
            one(overdue_expr(now)),
            one(Hazard.severity == Severity.major.value),
        )
        .select_from(Hazard)
        .where(in_scope, col(Hazard.state).in_(OPEN))
    ).one()
    return {"open": row[0], "next": row[1], "overdue": row[2], "major": row[3]}


def is_overdue(h: Hazard, now: datetime) -> bool:
    return overdue_now(h.state, h.deadline, h.overdue, now)


def days_overdue(h: Hazard, now: datetime, policy: DeadlinePolicy = DEFAULT_POLICY) -> int | None:
    """Whole days late (``shared.deadlines.overdue_days``); an unassigned hazard counts from
    the officer's step deadline."""
    if not is_overdue(h, now):
        return None
    if h.state == State.reported.value:
        return overdue_days(h.reported_at + timedelta(days=policy.assign_days), now)
    return overdue_days(h.deadline, now)
