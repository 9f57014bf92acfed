"""Inspections: submit (inspector, officer, admin) and read within scope."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from server.api.deps import CallerDep, NowDep, SessionDep, UnitOfWorkRoute, require
from server.api.errors import lang_of
from server.context import Caller
from server.hazards.views import HazardPublic
from server.inspections import service
from server.inspections.models import Inspection
from server.inspections.schemas import InspectionSubmit, Signatures
from server.paging import check_window, day_window
from server.schemas import Cursor, Sort, Window
from server.sites.service import name_items

router = APIRouter(tags=["inspections"], route_class=UnitOfWorkRoute)
InspectorDep = Annotated[Caller, Depends(require(*service.INSPECTING_ROLES))]


class InspectionSummary(BaseModel):
    id: str
    number: str | None = Field(
        None, description="检查记录编号 (JC-<district>-<year>-<seq>), what paper and lists show"
    )
    site_id: str
    site_name: str = ""
    district_id: str
    district_name: str = ""
    template_id: str
    template_version: int
    template_digest: str
    profile: str | None
    inspector_id: str
    notes: str
    started_at: datetime
    ended_at: datetime
    location: dict[str, Any] | None
    submitted_at: datetime
    finding_count: int


class InspectionPage(BaseModel):
    items: list[InspectionSummary]
    next_cursor: str | None
    total: int


class CompletionPublic(BaseModel):
    """完成率: (answered + 不适用) / items that apply; 未检查 lowers it (shared.completion)."""

    applicable: int
    answered: int
    not_applicable: int
    unchecked: int
    unanswered: list[str]
    rate: float | None


class InspectionDetail(InspectionSummary):
    answers: dict[str, Any]
    photos: dict[str, list[str]]
    item_notes: dict[str, str]
    descriptions: dict[str, str]
    signatures: Signatures | None
    findings: list[dict[str, Any]]
    payload_sha256: str
    checklist_override: str | None
    completion: CompletionPublic | None
    hazards: list[HazardPublic]


def _detail(session, inspection: Inspection, hazards=None) -> InspectionDetail:
    hazards = service.hazards_of(session, inspection) if hazards is None else hazards
    c = service.completion_of(session, inspection)
    return InspectionDetail(
        **InspectionSummary.model_validate(inspection, from_attributes=True).model_dump(),
        answers=inspection.answers,
        photos=inspection.photos,
        item_notes=inspection.item_notes,
        descriptions=inspection.descriptions,
        signatures=inspection.signatures,
        findings=inspection.findings,
        payload_sha256=inspection.payload_sha256,
        checklist_override=inspection.checklist_override,
        completion=None if c is None else CompletionPublic(**asdict(c), rate=c.rate),
        hazards=[HazardPublic.model_validate(h, from_attributes=True) for h in hazards],
    )


@router.post(
    "/inspections",
    response_model=InspectionDetail,
    status_code=201,
    responses={200: {"description": "a retry of an inspection already stored"}},
)
def submit_inspection(
    body: InspectionSubmit,
    request: Request,
    response: Response,
    caller: InspectorDep,
    session: SessionDep,
    now: NowDep,
) -> InspectionDetail:
    done = service.submit(
        session,
        caller,
        body,
        now=now,
        policy=request.app.state.policy,
        tz=request.app.state.settings.timezone,
    )
    if not done.created:
        response.status_code = 200
    return _detail(session, done.inspection, done.hazards)


@router.get("/inspections", response_model=InspectionPage)
def list_inspections(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    window: Annotated[Window, Depends()],  # carried out (ended) on date_from..date_to
    site: Annotated[str | None, Query(max_length=36)] = None,
    template: Annotated[str | None, Query(max_length=64)] = None,
    sort: Sort(service.INSPECTION_SORTS, "-submitted_at") = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> InspectionPage:
    check_window(window.date_from, window.date_to)
    start, end = day_window(window.date_from, window.date_to, request.app.state.settings.timezone)
    rows, nxt, total = service.list_page(
        session,
        caller,
        site_id=site,
        template_id=template,
        limit=limit,
        cursor=cursor,
        sort=sort,
        ended_from=start,
        ended_to=end,
        updated_since=window.updated_since,
    )
    items = [InspectionSummary.model_validate(r, from_attributes=True) for r in rows]
    name_items(session, items, lang_of(request))
    return InspectionPage(items=items, next_cursor=nxt, total=total)


@router.get("/inspections/{inspection_id}", response_model=InspectionDetail)
def get_inspection(
    inspection_id: Annotated[str, Path(max_length=36)],
    caller: CallerDep,
    session: SessionDep,
) -> InspectionDetail:
    return _detail(session, service.get_in_scope(session, caller, inspection_id))
