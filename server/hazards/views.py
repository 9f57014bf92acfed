"""Hazards and their chains."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from server.api.deps import CallerDep, NowDep, SessionDep, UnitOfWorkRoute
from server.api.errors import lang_of
from server.hazards import service
from server.hazards.schemas import (
    EventIn,
    EventPublic,
    HazardDetail,
    HazardPage,
    HazardPublic,
    HazardReport,
    VerifyOut,
)
from server.paging import check_window, day_window
from server.schemas import Cursor, ShortText, Sort, Window
from server.sites.service import name_items
from server.tlog.verify import hazard_findings
from shared.chain import EventType, State, overdue_now
from shared.deadlines import DeadlinePolicy
from shared.errors import DomainError
from shared.events import awaits
from shared.taxonomy import Industry, Severity

router = APIRouter(tags=["hazards"], route_class=UnitOfWorkRoute)


def _policy(request: Request) -> DeadlinePolicy:
    return request.app.state.policy


def _public(h) -> HazardPublic:
    out = HazardPublic.model_validate(h, from_attributes=True)
    out.acts_next = h.next_roles.split()
    out.instruction_awaits = h.instruction_for.split()
    return out


def _detail(session, caller, hazard_id: str, now: datetime) -> HazardDetail:
    checked = service.checked_chain(session, caller, hazard_id)
    view = checked.view
    base = _public(checked.hazard).model_dump()
    base["overdue"] = view.is_overdue(now)
    return HazardDetail(
        **base,
        events=[EventPublic(**e.body(), hash=e.hash) for e in checked.events],
        plan=view.plan,
        plan_missing=view.plan_missing,
        evidence=view.evidence,
        photos=view.photos,
        link_owner=view.link_owner,
        link_deadline=view.link_deadline,
        pending_extension=view.pending_extension,
        instructions=view.instructions,
        supervision=view.supervision,
        awaits_me=awaits(view, caller.role, caller.user.id),
        # nothing can be added to a chain that does not replay
        allowed_events=service.allowed_for(view, caller.role) if checked.folded else [],
        chain_ok=checked.broken is None,
    )


@router.get("/hazards", response_model=HazardPage)
def list_hazards(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    now: NowDep,
    window: Annotated[Window, Depends()],  # reported on date_from..date_to
    state: Annotated[list[State] | None, Query()] = None,
    severity: Severity | None = None,
    industry: Industry | None = None,
    district: Annotated[str | None, Query(max_length=32)] = None,
    site: Annotated[str | None, Query(max_length=36)] = None,
    matter: Annotated[str | None, Query(max_length=64)] = None,
    link: Annotated[str | None, Query(max_length=64)] = None,
    overdue: bool | None = None,
    escalated: bool | None = None,
    origin: Annotated[
        Literal["self", "self_inspection", "self_report", "regulator"] | None,
        Query(description="who found it; self: the enterprise, either way"),
    ] = None,
    spot_check: Annotated[
        Literal["drawn", "passed", "reopened"] | None,
        Query(description="抽查 state; drawn: awaiting an officer's spot-check"),
    ] = None,
    mine: bool = False,
    awaiting: Annotated[
        bool, Query(description="only hazards whose next step is the caller's (待我处理)")
    ] = False,
    q: Annotated[ShortText | None, Query()] = None,
    sort: Sort(service.HAZARD_SORTS, "-reported_at") = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> HazardPage:
    check_window(window.date_from, window.date_to)
    start, end = day_window(window.date_from, window.date_to, request.app.state.settings.timezone)
    f = service.HazardFilter(
        state=[s.value for s in state or []],
        severity=severity,
        industry=industry,
        district_id=district,
        site_id=site,
        matter_id=matter,
        link_id=link,
        overdue=overdue,
        escalated=escalated,
        origin=origin,
        spot_check=spot_check,
        text=q,
        responsible_user_id=caller.user.id if mine else None,
        awaiting=caller if awaiting else None,
        reported_from=start,
        reported_to=end,
        updated_since=window.updated_since,
    )
    rows, nxt, total = service.list_page(
        session, caller, f, now, limit=limit, cursor=cursor, sort=sort
    )
    items = []
    for h in rows:
        item = _public(h)
        item.overdue = overdue_now(h.state, h.deadline, h.overdue, now)
        items.append(item)
    name_items(session, items, lang_of(request))
    return HazardPage(items=items, next_cursor=nxt, total=total)


@router.post("/hazards", response_model=HazardDetail, status_code=201)
def report_hazard(
    body: HazardReport, request: Request, caller: CallerDep, session: SessionDep, now: NowDep
) -> HazardDetail:
    payload = body.model_dump(exclude={"id", "device_time"}, exclude_none=True)
    done = service.report(
        session,
        caller,
        payload=payload,
        now=now,
        hazard_id=body.id,
        policy=_policy(request),
        device_time=body.device_time,
    )
    return _detail(session, caller, done.view.hazard_id, now)


@router.get("/hazards/{hazard_id}", response_model=HazardDetail)
def get_hazard(
    hazard_id: Annotated[str, Field(max_length=36)],
    caller: CallerDep,
    session: SessionDep,
    now: NowDep,
) -> HazardDetail:
    return _detail(session, caller, hazard_id, now)


@router.post("/hazards/{hazard_id}/events", response_model=HazardDetail, status_code=201)
def append_event(
    hazard_id: str,
    body: EventIn,
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    now: NowDep,
) -> HazardDetail:
    if body.type is EventType.reported:
        raise DomainError.of(
            "invalid_input",
            "请使用上报接口",
            "use POST /hazards to report",
            fields={"type": "use POST /hazards to report"},
        )
    service.append_by_caller(
        session,
        caller,
        hazard_id=hazard_id,
        event_type=body.type,
        payload=body.payload,
        now=now,
        policy=_policy(request),
        event_id=body.id,
        device_time=body.device_time,
    )
    return _detail(session, caller, hazard_id, now)


@router.get("/hazards/{hazard_id}/chain/verify", response_model=VerifyOut)
def verify(hazard_id: str, caller: CallerDep, session: SessionDep) -> VerifyOut:
    """The chain, then every projected field against its fold and each event against the
    transparency log (``server.tlog.verify``): the first finding is named."""
    brk = service.checked_chain(session, caller, hazard_id).broken
    if brk is None:
        found = hazard_findings(session, hazard_id)
        if not found:
            return VerifyOut(ok=True, broken_at=None)
        f = found[0]
        broken = {"seq": f.seq or 0, "event_id": f.event_id or "", "reason": f.reason}
        return VerifyOut(ok=False, broken_at={**broken, "detail": f.detail})
    return VerifyOut(
        ok=False, broken_at={"seq": brk.seq, "event_id": brk.event_id, "reason": brk.reason}
    )
