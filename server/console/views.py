"""Console pages for officers (and everyone's login): the work queue, the hazard page with its
actions, batch assignment, matters, inspection records, photos and the Excel export of any
filtered list. Views parse and authorise; the services decide."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session, col, select
from starlette.responses import RedirectResponse, Response

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.api.errors import status_of
from server.auth import service as auth
from server.blobs import service as blobs
from server.blobs.views import BLOB_HEADERS, thumb_response
from server.checklists.models import ChecklistTemplate
from server.console import actions, exports, i18n, records
from server.console.pages import ConsoleRoute, render
from server.console.queue import (
    QueueQuery,
    days_overdue,
    is_overdue,
    queue_page,
    queue_query,
    tab_counts,
    tabs_for,
)
from server.console.session import (
    LANG_COOKIE,
    ConsoleCaller,
    FormDep,
    checked_form,
    clear_session,
    lang_of,
    session_from_token,
    set_session,
)
from server.console.where import stamps_of
from server.context import Caller
from server.hazards import service as hazards
from server.hazards.models import Hazard
from server.inspections import service as inspections
from server.matters import service as matters
from server.matters.models import Matter, MatterLink
from server.scoping import scope_filter
from server.sites.models import District, Site
from server.uow import RETRIES, run_unit
from server.users.models import User, UserSite
from shared.chain import EventType, Refused, fold
from shared.errors import DomainError, not_found
from shared.events import offered, pending_instructions, spec_of
from shared.roles import Role
from shared.supervision import shown_value
from shared.taxonomy import Industry, Severity

router = APIRouter(
    prefix="/console",
    route_class=ConsoleRoute,
    dependencies=[Depends(checked_form)],
    include_in_schema=False,
)


def safe_next(target: str | None) -> str:
    """Only a console path: never an absolute or protocol-relative URL."""
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return "/console/"


def landing(role: str) -> str:
    return "/console/dashboard" if role == Role.leader else "/console/queue"


# ------------------------------------------------------------------ login


@router.get("/")
def home(caller: ConsoleCaller) -> Response:
    return RedirectResponse(landing(caller.role), status_code=303)


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": safe_next(next), "error": None})


@router.post("/login")
def login(
    request: Request, form: FormDep, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    username = str(form.get("username") or "")[:64]
    password = str(form.get("password") or "")[:200]
    target = safe_next(str(form.get("next") or ""))
    try:
        pair = auth.login(
            session,
            settings,
            username=username,
            password=password,
            device_id=None,
            ip=request.client.host if request.client else "",
            now=now,
        )
    except DomainError as exc:
        return render(
            request,
            "login.html",
            {"next": target, "error": exc.refusal.message(lang_of(request)), "username": username},
            status=exc.status,
        )
    sid = session_from_token(settings, pair.access_token, now)
    if target == "/console/":
        target = landing(pair.user.role)
    response = RedirectResponse(target, status_code=303)
    set_session(response, request, settings, sid, pair.user.id)
    return response


@router.post("/logout")
def logout(caller: ConsoleCaller, form: FormDep, session: SessionDep, now: NowDep) -> Response:
    auth.logout(session, session_id=caller.session_id, now=now)
    response = RedirectResponse("/console/login", status_code=303)
    clear_session(response)
    return response


@router.get("/lang/{lang}")
def switch_language(request: Request, lang: str, next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        "en" if lang == "en" else "zh",
        max_age=365 * 86400,
        path="/console",
        samesite="lax",
    )
    return response


# ------------------------------------------------------------------ lookups for pages


def checklist_rows(session: Session, rows: list[Any]) -> dict[tuple[str, int], Any]:
    """The checklists (title and version) the rows name, so pages show names, not ids."""
    keys = {(t.template_id, t.template_version) for t in rows}
    found = {k: session.get(ChecklistTemplate, k) for k in keys}
    return {k: v for k, v in found.items() if v is not None}


def site_names(session: Session, ids: set[str]) -> dict[str, Site]:
    if not ids:
        return {}
    return {s.id: s for s in session.exec(select(Site).where(col(Site.id).in_(list(ids)))).all()}


def district_map(session: Session) -> dict[str, District]:
    return {d.id: d for d in session.exec(select(District)).all()}


def user_names(session: Session, ids: set[str]) -> dict[str, User]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u for u in session.exec(select(User).where(col(User.id).in_(list(ids)))).all()}


def districts_in_scope(session: Session, caller: Caller) -> list[District]:
    return [
        d
        for d in session.exec(select(District).order_by(District.id)).all()
        if caller.scope.covers(district_id=d.id, site_id=None)
    ]


def filter_options(session: Session, caller: Caller) -> dict[str, Any]:
    return {
        "states": [
            s
            for s in (
                "reported",
                "assigned",
                "rectifying",
                "in_review",
                "verified",
                "closed",
                "cancelled",
            )
        ],  # fmt: skip
        "severities": [s.value for s in Severity],
        "industries": [i.value for i in Industry],
        "districts": districts_in_scope(session, caller),
        "matters": list(session.exec(select(Matter).order_by(Matter.id)).all()),
    }


# ------------------------------------------------------------------ work queue


def queue_context(
    request: Request, session: Session, caller: Caller, now: datetime
) -> dict[str, Any]:
    qq = QueueQuery.parse(request.query_params)
    counts = tab_counts(session, caller, now)
    page = queue_page(session, caller, qq, now, counts)
    sites = site_names(session, {h.site_id for h in page.rows})
    return {
        "qq": qq,
        "params": qq.params(),
        "page": page,
        "rows": page.rows,
        "sites": sites,
        "districts": district_map(session),
        "counts": counts,
        "tabs": tabs_for(caller.role),
        "my_role": Role.officer.value if caller.role is Role.admin else caller.role.value,
        "options": filter_options(session, caller),
        "is_overdue": lambda h: is_overdue(h, now),
        "days_overdue": lambda h: days_overdue(h, now),
        "can_assign": caller.role in (Role.officer, Role.admin),
        "batch": None,
    }


@router.get("/queue")
def queue(request: Request, caller: ConsoleCaller, session: SessionDep, now: NowDep) -> Response:
    return render(
        request, "queue.html", queue_context(request, session, caller, now), caller=caller
    )


@router.post("/queue/assign")
def batch_assign(
    request: Request,
    caller: ConsoleCaller,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    """Assign several hazards to one unit: one event per hazard through the service, each in
    its own transaction, so one refusal (say, a hazard assigned meanwhile) spoils no other."""
    lang = lang_of(request)
    ids = [str(x)[:36] for x in form.getlist("hazard_id")][:200]
    results: list[dict[str, Any]] = []
    mixed = _mixed_sites(session, caller, ids) if form.get("mixed_sites") != "yes" else None
    if mixed:
        # one unit rarely answers for several sites: say which, and assign only when confirmed
        ctx = queue_context(request, session, caller, now)
        fields = ("responsible_unit", "responsible_person", "deadline", "comment")
        ctx["mixed"] = {
            "sites": mixed,
            "ids": ids,
            "fields": {k: str(form.get(k) or "") for k in fields},
        }
        return render(request, "queue.html", ctx, caller=caller)
    if not ids:
        message = i18n.translator(lang)("请至少选择一条隐患")
        results.append({"id": None, "ok": False, "message": message})
    else:
        payload_base = actions.payload_from_form(EventType.assigned, form, settings.timezone)
        for hid in ids:
            try:
                run_unit(  # its own unit: a refusal rolls back this hazard's event alone
                    session,
                    partial(
                        hazards.append_by_caller,
                        session,
                        caller,
                        hazard_id=hid,
                        event_type=EventType.assigned,
                        payload=dict(payload_base),
                        now=now,
                        policy=request.app.state.policy,
                    ),
                    retries=RETRIES,
                )
                results.append({"id": hid, "ok": True, "message": ""})
            except (DomainError, Refused) as exc:
                results.append({"id": hid, "ok": False, "message": exc.refusal.message(lang)})
    titles = {h.id: h.title for h in session.exec(select(Hazard).where(col(Hazard.id).in_(ids)))}
    for r in results:
        r["title"] = titles.get(r["id"], r["id"] or "")
    ctx = queue_context(request, session, caller, now)
    ctx["batch"] = results
    failed = any(not r["ok"] for r in results)
    return render(
        request, "queue.html", ctx, caller=caller, status=422 if failed and not ids else 200
    )


def _mixed_sites(session: Session, caller: Caller, ids: list[str]) -> list[str] | None:
    """The names of the sites the selected hazards (those the caller sees) belong to, when
    there is more than one."""
    in_scope = scope_filter(caller.scope, Hazard.district_id, Hazard.site_id)
    rows = session.exec(
        select(Hazard.site_id).where(col(Hazard.id).in_(ids), in_scope).distinct()
    ).all()
    if len(rows) < 2:
        return None
    names = site_names(session, set(rows))
    return sorted(names[s].name if s in names else s for s in rows)


@router.get("/export/hazards.xlsx")
def export_hazards(
    request: Request, caller: ConsoleCaller, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    qq = QueueQuery.parse(request.query_params)
    q = queue_query(session, caller, qq, now)
    data = exports.hazard_workbook(session, q, now, lang_of(request), settings.timezone)
    return exports.xlsx_response(data, f"hazards-{now:%Y%m%d-%H%M}.xlsx")


# ------------------------------------------------------------------ hazard page


def event_lines(lang: str, tz: str):
    """The labelled payload lines of a timeline entry, in the page's language: the fields its
    event's spec shows, in the spec's order (photos are shown as thumbnails)."""

    def lines(e) -> list[tuple[str, str]]:
        spec = spec_of(e.type)
        out = []
        for f in spec.shown_fields if spec else ():
            value = e.payload.get(f.key)
            if value in (None, ""):
                continue
            shown = shown_value(f.kind, value, lang, lambda v: i18n.local_time(v, tz))
            out.append((i18n.pick(f.shown, lang), shown))
        return out

    return lines


def hazard_context(
    request: Request, session: Session, caller: Caller, hazard_id: str, now: datetime
) -> dict[str, Any]:
    checked = hazards.checked_chain(session, caller, hazard_id)
    hazard, events, view, brk = checked.hazard, checked.events, checked.view, checked.broken
    allowed = [
        a.value
        for a in offered(view, caller.actor, request.app.state.policy)
        if a in actions.CONSOLE_ACTIONS and a is not EventType.reported
    ]
    allowed = allowed if checked.folded else []
    site = session.get(Site, hazard.site_id)
    people = user_names(
        session,
        {e.actor_id for e in events}
        | {view.responsible_user_id or "", view.reported_by}
        | {(view.supervision or {}).get("by", "")},
    )
    evidence_all: list[str] = []
    for e in events:
        if e.type in (EventType.rectification_submitted, EventType.self_closed):
            evidence_all += [s for s in e.payload.get("evidence", []) if s not in evidence_all]
    before = [p for p in view.photos if p not in evidence_all]
    receipts = actions.evidence_receipts(session, view.photos, hazard_id)
    enterprise_users = session.exec(
        select(User)
        .join(UserSite, col(UserSite.user_id) == col(User.id))
        .where(UserSite.site_id == hazard.site_id, User.active.is_(True))
        .order_by(User.username)
    ).all()
    matter = session.get(Matter, view.matter_id) if view.matter_id else None
    link = session.get(MatterLink, view.link_id) if view.link_id else None
    reported = events[0].payload if events else {}
    return {
        "h": hazard,
        "view": view,
        "events": list(reversed(events)),
        "chain_ok": brk is None,
        "chain_break": brk,
        "allowed": allowed,
        "specs": {a: spec_of(a) for a in allowed},
        "site": site,
        "district": session.get(District, hazard.district_id),
        "people": people,
        "before": before,
        "after": view.evidence,
        "receipts": receipts,
        "evidence_ok": all(s in receipts and receipts[s].complete for s in view.evidence),
        "enterprise_users": list(enterprise_users),
        "matter": matter,
        "link": link,
        "reported": reported,
        "stamps": stamps_of(events, site),
        "overdue": view.is_overdue(now),
        "late_days": days_overdue(hazard, now, request.app.state.policy),
        "mine_to_ack": {i["id"] for i in pending_instructions(view, caller.actor)},
        "error": None,
        "error_action": None,
        "form": {},
        "done": request.query_params.get("done"),
        "event_lines": event_lines(lang_of(request), request.app.state.settings.timezone),
    }


@router.get("/hazards/{hazard_id}")
def hazard_page(
    request: Request, hazard_id: str, caller: ConsoleCaller, session: SessionDep, now: NowDep
) -> Response:
    ctx = hazard_context(request, session, caller, hazard_id[:36], now)
    return render(request, "hazard.html", ctx, caller=caller)


@router.post("/hazards/{hazard_id}/act")
async def hazard_act(
    request: Request,
    hazard_id: str,
    caller: ConsoleCaller,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    """One action on one hazard; a refusal re-shows the page with the reason and the input."""
    from starlette.concurrency import run_in_threadpool

    event_type = str(form.get("action") or "")
    files = []
    field = actions.file_field(event_type)
    if field:
        for upload in form.getlist(field):
            if hasattr(upload, "read") and getattr(upload, "filename", ""):
                files.append(await actions.read_upload(upload))

    def act() -> Response:
        hazard_id_ = hazard_id[:36]
        try:
            if event_type not in actions.CONSOLE_ACTIONS:
                raise DomainError.of("unknown_action", "未知的操作", "unknown action")
            if event_type == EventType.verified:
                _, events = hazards.chain_of(session, caller, hazard_id_)
                actions.check_evidence(session, fold(events), form)
            # the photos are recorded in their own unit, kept even if the action is refused
            photos = run_unit(
                session,
                partial(actions.store_photos, session, request.app.state.blobs, caller, files, now),
            )
            payload = actions.payload_from_form(event_type, form, settings.timezone, photos)
            hazards.append_by_caller(
                session,
                caller,
                hazard_id=hazard_id_,
                event_type=event_type,
                payload=payload,
                now=now,
                policy=request.app.state.policy,
            )
        except (DomainError, Refused) as exc:
            session.rollback()
            status = status_of(exc)
            if status == 404:
                raise
            ctx = hazard_context(request, session, caller, hazard_id_, now)
            ctx.update(
                error=exc.refusal.message(lang_of(request)),
                error_fields=exc.refusal.fields,
                error_action=event_type,
                form={k: v for k, v in form.items() if isinstance(v, str)},
            )
            return render(request, "hazard.html", ctx, caller=caller, status=status)
        return RedirectResponse(f"/console/hazards/{hazard_id_}?done={event_type}", status_code=303)

    return await run_in_threadpool(act)


@router.get("/blobs/{sha256}")
def blob(request: Request, sha256: str, caller: ConsoleCaller, session: SessionDep) -> Response:
    att = blobs.blob_visible(session, caller, sha256[:64])
    data = request.app.state.blobs.read(att.sha256)
    return Response(content=data, media_type=att.mime, headers=BLOB_HEADERS)


@router.get("/blobs/{sha256}/thumb")
def blob_thumb(
    request: Request, sha256: str, caller: ConsoleCaller, session: SessionDep
) -> Response:
    """The preview pages show; the same access rule as the photo itself."""
    att = blobs.blob_visible(session, caller, sha256[:64])
    return thumb_response(request.app.state.blobs, att)


# ------------------------------------------------------------------ matters


@router.get("/matters")
def matter_list(
    request: Request, caller: ConsoleCaller, session: SessionDep, now: NowDep
) -> Response:
    rows = matters.list_matters(session, caller, now)
    return render(request, "matters.html", {"matters": rows}, caller=caller)


@router.get("/matters/{matter_id}")
def matter_page(
    request: Request, matter_id: str, caller: ConsoleCaller, session: SessionDep, now: NowDep
) -> Response:
    detail = matters.matter_detail(session, caller, matter_id[:64], now)
    unlinked = {
        k: detail[k] - sum(link[k] for link in detail["links"])
        for k in ("open", "overdue", "major_open")
    }
    return render(request, "matter.html", {"m": detail, "unlinked": unlinked}, caller=caller)


# ------------------------------------------------------------------ inspection records


def _inspection_reader(caller: Caller) -> None:
    if caller.role is Role.enterprise:
        raise not_found("检查记录", "inspection")


@router.get("/inspections")
def inspection_list(
    request: Request, caller: ConsoleCaller, session: SessionDep, cursor: str | None = None
) -> Response:
    _inspection_reader(caller)
    rows, nxt, _ = inspections.list_page(
        session, caller, site_id=None, template_id=None, limit=50, cursor=cursor
    )
    return render(
        request,
        "inspections.html",
        {
            "rows": rows,
            "next_cursor": nxt,
            "sites": site_names(session, {i.site_id for i in rows}),
            "people": user_names(session, {i.inspector_id for i in rows}),
            "checklists": checklist_rows(session, rows),
        },
        caller=caller,
    )


@router.get("/inspections/{inspection_id}")
def inspection_record(
    request: Request, inspection_id: str, caller: ConsoleCaller, session: SessionDep
) -> Response:
    """The printable 检查记录: site, failed items with their basis, hazards with deadlines,
    signature lines."""
    _inspection_reader(caller)
    record = records.inspection_record(session, caller, inspection_id[:36])
    return render(request, "inspection_record.html", record, caller=caller)
