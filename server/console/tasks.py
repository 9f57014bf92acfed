"""The inspection tasks page (检查任务): what the plans asked for, and above all what was
missed, for officers, admins and leaders to read. The plans service scopes and filters; this
module only turns a query string into its filter, forgivingly, so a stale or mangled link still
opens a page instead of an error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session
from starlette.responses import Response

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.console.pages import ConsoleRoute, render
from server.console.session import ConsoleCaller, checked_form, require_role
from server.console.views import checklist_rows, district_map, site_names, user_names
from server.context import Caller
from server.jobs.days import local_date
from server.plans import service as plans
from server.sites import service as sites
from shared.roles import Role

router = APIRouter(
    prefix="/console",
    route_class=ConsoleRoute,
    dependencies=[Depends(checked_form)],
    include_in_schema=False,
)

PAGE_SIZE = 100
DAYS_BACK, DAYS_AHEAD = 30, 7
# "逾期未检" is what is still owed past its due time: once done late or skipped with a reason it
# leaves this tab (done late shows as 迟交 under 已完成), so the count is the work left undone.
TABS: dict[str, plans.TaskFilter] = {
    "missed": plans.TaskFilter(status=(plans.MISSED,)),
    "open": plans.TaskFilter(status=(plans.OPEN,)),
    "done": plans.TaskFilter(status=(plans.DONE,)),
    "skipped": plans.TaskFilter(status=(plans.SKIPPED,)),
    # a stopped plan's future tasks (and a removed site's): their own tab, so the tabs add up
    "cancelled": plans.TaskFilter(status=(plans.CANCELLED,)),
    "all": plans.TaskFilter(),
}
TAB_NAMES = {
    "missed": "逾期未检",
    "open": "待检",
    "done": "已完成",
    "skipped": "已跳过",
    "cancelled": "已取消",
    "all": "全部",
}
STATUS_NAMES = {
    plans.OPEN: "待检",
    plans.DONE: "已完成",
    plans.SKIPPED: "已跳过",
    plans.MISSED: "逾期未检",
    plans.CANCELLED: "已取消",
}


@dataclass(frozen=True)
class TaskQuery:
    tab: str
    district: str | None
    date_from: date
    date_to: date
    offset: int = 0

    @classmethod
    def parse(cls, params: Mapping[str, Any], today: date, districts: set[str]) -> TaskQuery:
        """Anything unreadable falls back to its default rather than refusing the page."""

        def day(key: str, default: date) -> date:
            try:
                return date.fromisoformat((params.get(key) or "").strip()[:10])
            except ValueError:
                return default

        tab = params.get("tab") or "missed"
        district = params.get("district") or None
        raw_offset = (params.get("offset") or "0").strip()[:9]
        return cls(
            tab=tab if tab in TABS else "missed",
            district=district if district in districts else None,
            date_from=day("date_from", today - timedelta(days=DAYS_BACK)),
            date_to=day("date_to", today + timedelta(days=DAYS_AHEAD)),
            offset=int(raw_offset) if raw_offset.isascii() and raw_offset.isdigit() else 0,
        )

    def task_filter(self, tab: str) -> plans.TaskFilter:
        return replace(
            TABS[tab],
            district_id=self.district,
            date_from=self.date_from,
            date_to=self.date_to,
        )

    def params(self) -> dict[str, Any]:
        return {
            "tab": self.tab,
            "district": self.district,
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "offset": self.offset or None,
        }


def tasks_context(
    request: Request, session: Session, caller: Caller, now: datetime, tz: str
) -> dict[str, Any]:
    districts = [
        d
        for d in sites.list_districts(session)
        if caller.scope.covers(district_id=d.id, site_id=None)
    ]
    tq = TaskQuery.parse(request.query_params, local_date(now, tz), {d.id for d in districts})
    counts = {
        tab: plans.list_tasks(session, caller, tq.task_filter(tab), limit=1, offset=0)[1]
        for tab in TABS
    }
    total = counts[tq.tab]
    if tq.offset and tq.offset >= total:
        tq = replace(tq, offset=max(0, (total - 1) // PAGE_SIZE * PAGE_SIZE))
    rows, total = plans.list_tasks(
        session, caller, tq.task_filter(tq.tab), limit=PAGE_SIZE, offset=tq.offset
    )
    return {
        "tq": tq,
        "params": tq.params(),
        "rows": rows,
        "total": total,
        "counts": counts,
        "tabs": TAB_NAMES,
        "status_names": STATUS_NAMES,
        "page_size": PAGE_SIZE,
        "district_options": districts,
        "districts": district_map(session),
        "sites": site_names(session, {t.site_id for t in rows}),
        "people": user_names(session, {t.assignee_user_id or "" for t in rows}),
        "checklists": checklist_rows(session, rows),
    }


@router.get("/tasks")
def task_list(
    request: Request,
    caller: ConsoleCaller,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    require_role(caller, Role.officer, Role.admin, Role.leader)
    ctx = tasks_context(request, session, caller, now, settings.timezone)
    return render(request, "tasks.html", ctx, caller=caller)
