"""The leader's pages: the daily risk dashboard, its sign-off, the printable daily report and
the summary's Excel export. Officers and admins read them too; only leaders sign off."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from sqlmodel import Session, col, select
from starlette.responses import RedirectResponse, Response

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.console import exports
from server.console.chart import trend_chart
from server.console.pages import ConsoleRoute, render
from server.console.queue import OPEN
from server.console.session import ConsoleCaller, FormDep, checked_form, lang_of, require_role
from server.context import Caller
from server.hazards.models import Hazard
from server.hazards.service import HazardFilter, filtered_query
from server.jobs.days import local_date
from server.summaries import signoff
from server.tlog.checkpoints import checkpoint_qr, day_checkpoint
from shared.errors import DomainError
from shared.roles import Role

router = APIRouter(
    prefix="/console",
    route_class=ConsoleRoute,
    dependencies=[Depends(checked_form)],
    include_in_schema=False,
)
READERS = (Role.leader, Role.officer, Role.admin)


def _day(value: str | None, today: date) -> date | None:
    if not value:
        return None
    if value == "today":
        return today
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise DomainError.of(
            "invalid_input",
            "日期格式无效",
            "not a valid date",
            fields={"date": "YYYY-MM-DD"},
        ) from None


def summary_context(
    request: Request, session: Session, caller: Caller, now, tz: str
) -> dict[str, Any]:
    require_role(caller, *READERS)
    today = local_date(now, tz)
    params = request.query_params
    summary = signoff.day_summary(
        session, caller, _day(params.get("date"), today), params.get("district") or None, now, tz
    )
    figures = summary.figures
    rows = figures.get("by_district_industry", [])
    industries = sorted({r["industry"] for r in rows})
    pivot: dict[str, dict[str, Any]] = {}
    for r in rows:
        p = pivot.setdefault(
            r["district_id"], {"name": r["district_name"], "cells": {}, "open": 0, "overdue": 0}
        )
        p["cells"][r["industry"]] = r
        p["open"] += r["open"]
        p["overdue"] += r["overdue"]
    col_totals = {
        i: {k: sum(r[k] for r in rows if r["industry"] == i) for k in ("open", "overdue", "new")}
        for i in industries
    }
    acks = signoff.acks_for(session, summary.district_id, summary.day) if not summary.live else []
    return {
        "summary": summary,
        "figures": figures,
        "tiles": exports.kpis(figures),
        "chart": trend_chart(figures.get("trend", [])),
        "industries": industries,
        "pivot": pivot,
        "col_totals": col_totals,
        "picture": signoff.risk_picture(session, caller, summary.district_id),
        "scopes": signoff.scope_options(session, caller),
        "acks": acks,
        "my_ack": next((a for a in acks if a.user_id == caller.user.id), None),
        "can_ack": caller.role is Role.leader and not summary.live,
        "today": today,
        "yesterday": today - timedelta(days=1),
        "digest_now": signoff.figures_digest(figures),
    }


SUPERVISED_SHOWN = 20


def supervised_now(session: Session, caller: Caller, district_id: str, now) -> list[Any]:
    """The open hazards under 挂牌督办 in the scope now, city level and the longest overdue
    first (the dashboard's list; the day's count is in the figures)."""
    f = HazardFilter(state=OPEN, district_id=district_id, escalated=True)
    q = filtered_query(session, caller, f, now).order_by(
        col(Hazard.escalation_level).desc(),
        col(Hazard.deadline).is_(None),
        col(Hazard.deadline),
        col(Hazard.id),
    )
    # the page's ids from the index of open hazards alone, then their rows (as the queue does)
    ids = list(session.exec(q.with_only_columns(Hazard.id).limit(SUPERVISED_SHOWN)))
    found = {h.id: h for h in session.exec(select(Hazard).where(col(Hazard.id).in_(ids)))}
    return [found[i] for i in ids if i in found]


def compiling_unit(figures: dict[str, Any], lang: str) -> str:
    """编制单位 when the settings name none: the scope's emergency management bureau."""
    name = figures.get("scope", {}).get("name", "")
    return f"{name} Emergency Management Bureau" if lang == "en" else f"{name}应急管理局"


def overview(figures: dict[str, Any], lang: str) -> str:
    """综述: the day in one paragraph a leader can read aloud, from the same figures as the
    tiles (so the words never disagree with the numbers)."""
    t = figures.get("totals", {})
    n = {k: int(t.get(k, 0) or 0) for k in ("new", "closed", "open", "major_open", "overdue")}
    n["escalated"] = int(t.get("escalated", 0) or 0)
    name = figures.get("scope", {}).get("name", "")
    worst = (figures.get("longest_overdue") or [None])[0]
    if lang == "en":
        text = (
            f"On this day {name} found {n['new']} new hazard(s) and closed {n['closed']}. "
            f"At the end of the day {n['open']} were open, {n['major_open']} of them major; "
            f"{n['overdue']} were overdue and {n['escalated']} under supervision."
        )
        if worst:
            text += (
                f" The longest overdue is “{worst['title']}” at {worst['site_name']}, "
                f"{worst['days_overdue']} days past its deadline."
            )
        text += (
            " Responsible units must rectify the overdue and major hazards without delay."
            if n["overdue"] or n["major_open"]
            else " Rectification is on track."
        )
        return text
    text = (
        f"当日{name}新增隐患{n['new']}项，销号{n['closed']}项；截至日终在办隐患{n['open']}项，"
        f"其中重大隐患{n['major_open']}项，逾期未改{n['overdue']}项，挂牌督办{n['escalated']}项。"
    )
    if worst:
        text += (
            f"逾期最久的是{worst['site_name']}“{worst['title']}”，已逾期{worst['days_overdue']}天。"
        )
    text += (
        "请各责任单位对逾期和重大隐患立即整改，监管部门加强督促。"
        if n["overdue"] or n["major_open"]
        else "隐患整改总体平稳。"
    )
    return text


@router.get("/dashboard")
def dashboard(
    request: Request, caller: ConsoleCaller, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    ctx = summary_context(request, session, caller, now, settings.timezone)
    ctx["done"] = request.query_params.get("done")
    ctx["supervised"] = supervised_now(session, caller, ctx["summary"].district_id, now)
    return render(request, "dashboard.html", ctx, caller=caller)


@router.post("/dashboard/ack")
def acknowledge(
    request: Request,
    caller: ConsoleCaller,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    tz = settings.timezone
    day = _day(str(form.get("date") or ""), local_date(now, tz))
    if day is None:
        raise DomainError.of("invalid_input", "请指定日期", "date is required")
    district = str(form.get("district") or "")[:32]
    comment = form.get("comment")
    ack = signoff.acknowledge(
        session, caller, day, district, now, tz, comment if isinstance(comment, str) else None
    )
    return RedirectResponse(
        f"/console/dashboard?date={ack.day.isoformat()}&district={ack.district_id}&done=ack",
        status_code=303,
    )


@router.get("/reports/daily")
def daily_report(
    request: Request, caller: ConsoleCaller, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    """The day's summary laid out for paper (A4), to print or save as PDF."""
    ctx = summary_context(request, session, caller, now, settings.timezone)
    ctx["printed_at"] = now
    lang = lang_of(request)
    ctx["overview"] = overview(ctx["figures"], lang)
    ctx["compiled_by"] = settings.report_unit or compiling_unit(ctx["figures"], lang)
    summary = ctx["summary"]
    cp = None if summary.live else day_checkpoint(session, summary.day, settings.timezone)
    ctx["checkpoint"] = cp
    ctx["checkpoint_qr"] = Markup(checkpoint_qr(cp.note) or "") if cp else ""
    return render(request, "daily_report.html", ctx, caller=caller)


@router.get("/export/daily.xlsx")
def export_daily(
    request: Request, caller: ConsoleCaller, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    tz = settings.timezone
    require_role(caller, *READERS)
    params = request.query_params
    summary = signoff.day_summary(
        session,
        caller,
        _day(params.get("date"), local_date(now, tz)),
        params.get("district") or None,
        now,
        tz,
    )
    acks = [] if summary.live else signoff.acks_for(session, summary.district_id, summary.day)
    data = exports.daily_workbook(summary.figures, acks, lang_of(request), tz, summary.stored)
    return exports.xlsx_response(
        data, f"daily-summary-{summary.district_id}-{summary.day.isoformat()}.xlsx"
    )
