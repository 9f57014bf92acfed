"""The leader's pages: the daily risk dashboard, its sign-off, the printable daily report and
the summary's Excel export. Officers and admins read them too; only leaders sign off."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session
from starlette.responses import RedirectResponse, Response

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.console import exports
from server.console import service as console
from server.console.chart import trend_chart
from server.console.pages import ConsoleRoute, render
from server.console.session import ConsoleCaller, FormDep, checked_form, lang_of, require_role
from server.context import Caller
from server.jobs.days import local_date
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
            status=422,
            fields={"date": "YYYY-MM-DD"},
        ) from None


def summary_context(
    request: Request, session: Session, caller: Caller, now, tz: str
) -> dict[str, Any]:
    require_role(caller, *READERS)
    today = local_date(now, tz)
    params = request.query_params
    summary = console.day_summary(
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
    acks = console.acks_for(session, summary.district_id, summary.day) if not summary.live else []
    return {
        "summary": summary,
        "figures": figures,
        "tiles": exports.kpis(figures),
        "chart": trend_chart(figures.get("trend", [])),
        "industries": industries,
        "pivot": pivot,
        "col_totals": col_totals,
        "picture": console.risk_picture(session, caller, summary.district_id),
        "scopes": console.scope_options(session, caller),
        "acks": acks,
        "my_ack": next((a for a in acks if a.user_id == caller.user.id), None),
        "can_ack": caller.role is Role.leader and not summary.live,
        "today": today,
        "yesterday": today - timedelta(days=1),
        "digest_now": console.figures_digest(figures),
    }


@router.get("/dashboard")
def dashboard(
    request: Request, caller: ConsoleCaller, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    ctx = summary_context(request, session, caller, now, settings.timezone)
    ctx["done"] = request.query_params.get("done")
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
        raise DomainError.of("invalid_input", "请指定日期", "date is required", status=422)
    district = str(form.get("district") or "")[:32]
    ack = console.acknowledge(session, caller, day, district, now, tz)
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
    return render(request, "daily_report.html", ctx, caller=caller)


@router.get("/export/daily.xlsx")
def export_daily(
    request: Request, caller: ConsoleCaller, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    tz = settings.timezone
    require_role(caller, *READERS)
    params = request.query_params
    summary = console.day_summary(
        session,
        caller,
        _day(params.get("date"), local_date(now, tz)),
        params.get("district") or None,
        now,
        tz,
    )
    acks = [] if summary.live else console.acks_for(session, summary.district_id, summary.day)
    data = exports.daily_workbook(summary.figures, acks, lang_of(request), tz, summary.stored)
    return exports.xlsx_response(
        data, f"daily-summary-{summary.district_id}-{summary.day.isoformat()}.xlsx"
    )
