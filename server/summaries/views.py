"""Daily risk summaries for officers, leaders and admins, within their scope."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from server.api.deps import NowDep, SessionDep, SettingsDep, UnitOfWorkRoute, require
from server.context import Caller
from server.summaries import service, signoff
from server.summaries.models import SummaryAck
from server.summaries.schemas import AckIn, AckOut, DailySummaryOut
from shared.roles import Role

router = APIRouter(tags=["summaries"], route_class=UnitOfWorkRoute)
ReaderDep = Annotated[Caller, Depends(require(Role.officer, Role.leader, Role.admin))]
LeaderDep = Annotated[Caller, Depends(require(Role.leader))]


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


def _ack_out(a: SummaryAck) -> AckOut:
    return AckOut(date=a.day, **a.model_dump(exclude={"day"}))


@router.get("/summaries/daily/acks", response_model=list[AckOut])
def acks(
    caller: ReaderDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    day: Annotated[date | None, Query(alias="date")] = None,
    district: Annotated[str | None, Query(max_length=32)] = None,
) -> list[AckOut]:
    """Who signed off a day's summary, in order; checked against the caller's scope."""
    s = signoff.day_summary(session, caller, day, district, now, settings.timezone)
    return [] if s.live else [_ack_out(a) for a in signoff.acks_for(session, s.district_id, s.day)]


@router.post("/summaries/daily/ack", response_model=AckOut, status_code=201)
def acknowledge(
    body: AckIn, caller: LeaderDep, session: SessionDep, settings: SettingsDep, now: NowDep
) -> AckOut:
    """A leader signs off a finished day's summary (the console's 签阅 button does the same);
    signing twice returns the first sign-off."""
    ack = signoff.acknowledge(
        session, caller, body.date, body.district_id, now, settings.timezone, body.comment
    )
    return _ack_out(ack)
