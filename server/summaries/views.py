"""Daily risk summaries for officers, leaders and admins, within their scope."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from server.api.deps import NowDep, SessionDep, SettingsDep, UnitOfWorkRoute, require
from server.context import Caller
from server.summaries import service
from shared.roles import Role

router = APIRouter(tags=["summaries"], route_class=UnitOfWorkRoute)
ReaderDep = Annotated[Caller, Depends(require(Role.officer, Role.leader, Role.admin))]


class DailySummaryOut(BaseModel):
    date: date
    district_id: str
    stored: bool
    generated_at: datetime | None
    figures: dict[str, Any]


@router.get("/summaries/daily", response_model=DailySummaryOut)
def daily(
    caller: ReaderDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    day: Annotated[date | None, Query(alias="date")] = None,
    district: Annotated[str | None, Query(max_length=32)] = None,
) -> DailySummaryOut:
    s = service.daily_for(session, caller, day, district, now, settings.timezone)
    return DailySummaryOut(
        date=s.figures["date"],
        district_id=s.figures["scope"]["district_id"],
        stored=s.stored,
        generated_at=s.generated_at,
        figures=s.figures,
    )
