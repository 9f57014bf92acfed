"""The admin's bulk import page: download the template, upload a sheet, read the dry run's table
of problems, confirm. The confirm form carries the checked file back (base64) so nothing is kept
on the server between the two steps; the real run checks it again and writes all rows or none."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from server.api.deps import NowDep, SessionDep
from server.console.pages import ConsoleRoute, render
from server.console.session import ConsoleCaller, FormDep, checked_form, lang_of, require_role
from server.imports import service
from server.imports.service import KINDS, Kind
from shared.roles import Role

router = APIRouter(
    prefix="/console",
    route_class=ConsoleRoute,
    dependencies=[Depends(checked_form)],
    include_in_schema=False,
)

# the confirm form sends the sheet back as a form field, and a field is at most 1 MB
# (Starlette's ``max_part_size``): base64 of ~750 kB, some 20 000 rows of users
CONFIRM_MAX_BYTES = 700 * 1024


def _kind(value: Any) -> Kind:
    return value if value in KINDS else "users"


def _page(
    request: Request,
    caller: Any,
    kind: Kind,
    report: service.Report | None = None,
    *,
    sheet: str = "",
    filename: str = "",
    status: int = 200,
    error: str | None = None,
) -> Response:
    lang = lang_of(request)
    problems = [
        {"row": p.row, "column": p.label(kind, lang), "message": p.message(lang)}
        for p in (report.problems if report else [])
    ]
    ctx = {
        "kind": kind,
        "kinds": KINDS,
        "report": report,
        "problems": problems,
        "columns": service.COLUMNS[kind],
        "sheet": sheet,
        "filename": filename,
        "error": error,
        "error_fields": None,
        "done": request.query_params.get("done"),
        "written": request.query_params.get("n"),
    }
    return render(request, "admin_import.html", ctx, caller=caller, status=status)


@router.get("/admin/import")
def import_page(request: Request, caller: ConsoleCaller) -> Response:
    require_role(caller, Role.admin)
    return _page(request, caller, _kind(request.query_params.get("kind")))


@router.get("/admin/import/{kind}/template.xlsx")
def import_template(kind: Kind, caller: ConsoleCaller) -> Response:
    require_role(caller, Role.admin)
    return Response(
        service.template_xlsx(kind),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="hazardchain-{kind}.xlsx"'},
    )


def _words(request: Request, zh: str, en: str) -> str:
    return en if lang_of(request) == "en" else zh


@router.post("/admin/import/check")
def import_check(
    request: Request, caller: ConsoleCaller, form: FormDep, session: SessionDep
) -> Response:
    """The dry run: every row's problems in a table; a clean sheet gets the confirm button."""
    require_role(caller, Role.admin)
    kind = _kind(form.get("kind"))
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        msg = _words(request, "请选择要导入的Excel文件", "choose an Excel file to import")
        return _page(request, caller, kind, status=422, error=msg)
    data = upload.file.read(service.MAX_BYTES + 1)
    report = service.check(session, kind, data)
    sheet = ""
    if report.ok and len(data) <= CONFIRM_MAX_BYTES:
        sheet = base64.b64encode(data).decode()
    elif report.ok:
        msg = _words(
            request,
            "文件较大，请用命令行导入：hazardchain import",
            "the file is large; import it with the command line: hazardchain import",
        )
        return _page(request, caller, kind, report, status=413, error=msg)
    return _page(request, caller, kind, report, sheet=sheet, filename=upload.filename or "")


@router.post("/admin/import/run")
def import_run(
    request: Request, caller: ConsoleCaller, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    """The confirmed run: checked again (the database may have changed since the dry run), then
    every row written in this request's unit of work, or none."""
    require_role(caller, Role.admin)
    kind = _kind(form.get("kind"))
    try:
        data = base64.b64decode(str(form.get("sheet") or ""), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    try:
        report = service.run(session, kind, data, now, dry_run=False)
    except service.ImportRefused as exc:
        session.rollback()
        msg = exc.refusal.message(lang_of(request))
        return _page(request, caller, kind, exc.report, status=422, error=msg)
    return RedirectResponse(
        f"/console/admin/import?kind={kind}&done=imported&n={report.written}", status_code=303
    )
