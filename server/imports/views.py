"""Bulk import over the API (admins): the template, a dry run, the real run."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from server.api.deps import AdminDep, NowDep, SessionDep, UnitOfWorkRoute
from server.api.errors import error_responses, lang_of
from server.imports import service
from server.imports.schemas import ImportReportOut, ProblemOut
from server.imports.service import Kind

router = APIRouter(tags=["imports"], route_class=UnitOfWorkRoute)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_out(report: service.Report, lang: str) -> ImportReportOut:
    return ImportReportOut(
        kind=report.kind,
        dry_run=report.dry_run,
        rows=report.rows,
        written=report.written,
        problems=[
            ProblemOut(
                row=p.row,
                column=p.column,
                column_label=p.label(report.kind, lang),
                message=p.message(lang),
                zh=p.zh,
                en=p.en,
            )
            for p in report.problems
        ],
    )


@router.get(
    "/imports/{kind}/template.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "the empty sheet with its headers"}},
)
def template(kind: Kind, _: AdminDep) -> Response:
    return Response(
        service.template_xlsx(kind),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="hazardchain-{kind}.xlsx"'},
    )


@router.post("/imports/{kind}", response_model=ImportReportOut, responses=error_responses(413, 422))
def import_sheet(
    request: Request,
    kind: Kind,
    file: Annotated[UploadFile, File(description=".xlsx, first sheet, headers in row 1")],
    _: AdminDep,
    session: SessionDep,
    now: NowDep,
    dry_run: Annotated[bool, Query(description="check every row, write nothing")] = True,
) -> ImportReportOut | JSONResponse:
    """A dry run (the default) lists every row's problems; ``dry_run=false`` writes every row
    or, if any row has a problem, nothing (422 with the same list)."""
    data = file.file.read(service.MAX_BYTES + 1)
    lang = lang_of(request)
    try:
        report = service.run(session, kind, data, now, dry_run=dry_run)
    except service.ImportRefused as exc:
        body = report_out(exc.report, lang).model_dump()
        return JSONResponse(
            {
                "code": exc.refusal.code,
                "message": exc.refusal.message(lang),
                "fields": exc.refusal.fields,
                "problems": body["problems"],
            },
            status_code=422,
        )
    return report_out(report, lang)
