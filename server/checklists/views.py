"""Checklist templates for every logged-in role: the list, and one version in full."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from server.api.deps import CallerDep, SessionDep, UnitOfWorkRoute
from server.checklists import service
from server.checklists.models import ChecklistTemplate
from server.checklists.schemas import (
    ChecklistList,
    ChecklistSummary,
    LocalizedOut,
    ProfileOut,
    StandardOut,
)
from shared.taxonomy import Industry

router = APIRouter(tags=["checklists"], route_class=UnitOfWorkRoute)

TemplateId = Annotated[str, Path(pattern=r"^[a-z0-9_]+$", max_length=64)]


def _summary(row: ChecklistTemplate, versions: list[int]) -> ChecklistSummary:
    content: dict[str, Any] = row.content
    return ChecklistSummary(
        id=row.id,
        version=row.version,
        versions=versions,
        title=LocalizedOut(zh=row.title, en=row.title_en),
        industry=row.industry,
        digest=row.digest,
        item_count=row.item_count,
        major_count=row.major_count,
        general_count=row.item_count - row.major_count,
        count_rule_count=len(content.get("count_rules") or []),
        section_count=len(content.get("sections") or []),
        profiles=[ProfileOut(**p) for p in content.get("profiles") or []],
        standards=[
            StandardOut(key=s["key"], title=LocalizedOut(**s["title"]), edition=s["edition"])
            for s in content.get("standards") or []
        ],
        imported_at=row.imported_at,
        inspectors=list(content.get("inspectors") or ["regulator"]),
    )


@router.get("/checklists", response_model=ChecklistList)
def list_checklists(
    caller: CallerDep,
    session: SessionDep,
    all_versions: Annotated[
        bool, Query(alias="all", description="every version, not only the latest")
    ] = False,
    industry: Industry | None = None,
) -> ChecklistList:
    rows = service.list_templates(session, all_versions=all_versions, industry=industry)
    versions = service.versions_by_id(session)
    return ChecklistList(items=[_summary(r, versions.get(r.id, [r.version])) for r in rows])


@router.get(
    "/checklists/{template_id}/{version}",
    responses={200: {"description": "the template as JSON (checklists/<id>/<version>.yaml)"}},
)
def get_checklist(
    template_id: TemplateId,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    request: Request,
    caller: CallerDep,
    session: SessionDep,
) -> Response:
    """The full template. A version never changes, so its digest is a strong ETag."""
    row = service.get_row(session, template_id, version)
    etag = f'"{row.digest}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=31536000, immutable"}
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return JSONResponse(row.content, headers=headers)
