"""Administration pages: users and sites (admins), inspection plans (officers and admins manage
them in their districts, leaders read them). Input is validated by the API's own schemas and
written by the same services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.api.field_messages import field_message
from server.auth.scope import scope_of
from server.checklists.service import list_templates
from server.console.pages import ConsoleRoute, render
from server.console.session import ConsoleCaller, FormDep, checked_form, lang_of, require_role
from server.console.views import checklist_rows
from server.context import Caller
from server.plans import service as plans
from server.plans.schemas import PlanCreate
from server.sites import service as sites
from server.sites.models import District, Site
from server.sites.schemas import SiteCreate, SiteUpdate
from server.users import service as users
from server.users.models import User
from server.users.schemas import UserCreate, UserUpdate
from shared.errors import DomainError, Refusal
from shared.geo import DATUM_LABELS, coordinate_problems
from shared.roles import LOGIN_ROLES, Role
from shared.taxonomy import Industry, RiskColour, SiteType

router = APIRouter(
    prefix="/console",
    route_class=ConsoleRoute,
    dependencies=[Depends(checked_form)],
    include_in_schema=False,
)


def validated(schema: type[BaseModel], data: dict[str, Any], lang: str = "en") -> BaseModel:
    """The API's schema decides what is valid input; its complaints become a readable refusal,
    each field's in ``lang`` (a form shows it beside the field)."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        fields = {
            ".".join(str(x) for x in e["loc"]) or "form": field_message(e, lang)
            for e in exc.errors()
        }
        en = "invalid input: " + "; ".join(f"{k}: {v}" for k, v in fields.items())
        zh = "输入有误：" + "；".join(fields)
        raise DomainError(Refusal("invalid_input", zh, en, fields)) from None


def _text_fields(form: FormData, names: tuple[str, ...]) -> dict[str, Any]:
    return {n: str(form.get(n)).strip() for n in names if form.get(n) not in (None, "")}


def _refusal(request: Request, exc: DomainError) -> dict[str, Any]:
    return {"error": exc.refusal.message(lang_of(request)), "error_fields": exc.refusal.fields}


# ------------------------------------------------------------------ users


PAGE_SIZE = 50


def _cursor(request: Request) -> str | None:
    return (request.query_params.get("cursor") or "")[:400] or None


def _users_context(session: Session, request: Request) -> dict[str, Any]:
    q = (request.query_params.get("q") or "").strip()[:200] or None
    rows, nxt, total = users.users_page(session, q=q, limit=PAGE_SIZE, cursor=_cursor(request))
    return {
        "users": rows,
        "total": total,
        "next_cursor": nxt,
        "q": q,
        "user_districts": {u.id: users.districts_of(session, u.id) for u in rows},
        "user_sites": {u.id: users.sites_of(session, u.id) for u in rows},
        "districts": list(session.exec(select(District).order_by(District.id)).all()),
        "sites": {s.id: s for s in session.exec(select(Site).order_by(Site.name)).all()},
        "roles": [r.value for r in LOGIN_ROLES],
        "error": None,
        "form": {},
    }


@router.get("/admin/users")
def user_list(request: Request, caller: ConsoleCaller, session: SessionDep) -> Response:
    require_role(caller, Role.admin)
    ctx = _users_context(session, request) | {"done": request.query_params.get("done")}
    return render(request, "admin_users.html", ctx, caller=caller)


@router.post("/admin/users")
def user_create(
    request: Request, caller: ConsoleCaller, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    require_role(caller, Role.admin)
    data = _text_fields(
        form, ("username", "display_name", "role", "password", "unit", "phone", "email")
    )
    data["district_ids"] = form.getlist("district_ids")
    data["site_ids"] = form.getlist("site_ids")
    try:
        body = validated(UserCreate, data)
        users.create_user(session, body.model_dump(), now)
    except DomainError as exc:
        session.rollback()
        ctx = _users_context(session, request) | _refusal(request, exc) | {"form": data}
        return render(request, "admin_users.html", ctx, caller=caller, status=exc.status)
    return RedirectResponse("/console/admin/users?done=saved", status_code=303)


@router.get("/admin/users/{user_id}")
def user_edit(
    request: Request, user_id: str, caller: ConsoleCaller, session: SessionDep
) -> Response:
    require_role(caller, Role.admin)
    user = session.get(User, user_id[:36])
    if user is None:
        raise DomainError.of("not_found", "用户不存在", "user not found")
    ctx = _users_context(session, request) | {"u": user, "done": request.query_params.get("done")}
    return render(request, "admin_user.html", ctx, caller=caller)


@router.post("/admin/users/{user_id}")
def user_update(
    request: Request,
    user_id: str,
    caller: ConsoleCaller,
    form: FormDep,
    session: SessionDep,
    now: NowDep,
) -> Response:
    require_role(caller, Role.admin)
    data: dict[str, Any] = _text_fields(
        form, ("display_name", "role", "password", "unit", "phone", "email")
    )
    data.setdefault("unit", "")
    data.setdefault("phone", "")
    data.setdefault("email", "")
    data["active"] = form.get("active") == "yes"
    data["district_ids"] = form.getlist("district_ids")
    data["site_ids"] = form.getlist("site_ids")
    try:
        body = validated(UserUpdate, data)
        users.update_user(session, user_id[:36], body.model_dump(exclude_unset=True), now)
    except DomainError as exc:
        session.rollback()
        if exc.status == 404:
            raise
        user = session.get(User, user_id[:36])
        ctx = _users_context(session, request) | _refusal(request, exc) | {"u": user}
        return render(request, "admin_user.html", ctx, caller=caller, status=exc.status)
    return RedirectResponse(f"/console/admin/users/{user_id}?done=saved", status_code=303)


# ------------------------------------------------------------------ sites

SITE_FIELDS = (
    "name", "industry", "site_type", "district_id", "risk_colour", "address", "contact_name",
    "contact_phone", "lat", "lon", "datum",
)  # fmt: skip


def _sites_context(request: Request, session: Session, caller: Caller) -> dict[str, Any]:
    p = request.query_params
    f = sites.SiteFilter(
        industry=p.get("industry") or None,
        district_id=p.get("district") or None,
        risk_colour=p.get("risk") or None,
        name=(p.get("name") or "").strip()[:200] or None,
    )
    rows, nxt, total = sites.sites_page(
        session, caller, f, limit=PAGE_SIZE, cursor=_cursor(request)
    )
    return {
        "rows": rows,
        "total": total,
        "next_cursor": nxt,
        "filters": {
            "industry": f.industry,
            "district": f.district_id,
            "risk": f.risk_colour,
            "name": f.name,
        },  # fmt: skip
        "districts": {d.id: d for d in sites.list_districts(session)},
        "industries": [i.value for i in Industry],
        "site_types": [s.value for s in SiteType],
        "colours": [c.value for c in RiskColour],
        "datums": DATUM_LABELS,
        "error": None,
        "form": {},
    }


def _site_body(request: Request, schema: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """The form's fields checked, coordinates first: each problem in the reader's language
    beside its field (``shared.geo.coordinate_problems``), then the API's schema."""
    lang = lang_of(request)
    zh, en = (coordinate_problems(data.get("lat"), data.get("lon"), x) for x in ("zh", "en"))
    if zh:
        refusal = Refusal(
            "invalid_input",
            "坐标有误：" + "；".join(zh.values()),
            "invalid coordinates: " + "; ".join(en.values()),
            en if lang == "en" else zh,
        )
        raise DomainError(refusal)
    return validated(schema, data, lang)


@router.get("/admin/sites")
def site_list(request: Request, caller: ConsoleCaller, session: SessionDep) -> Response:
    require_role(caller, Role.admin)
    ctx = _sites_context(request, session, caller) | {"done": request.query_params.get("done")}
    return render(request, "admin_sites.html", ctx, caller=caller)


@router.post("/admin/sites")
def site_create(
    request: Request, caller: ConsoleCaller, form: FormDep, session: SessionDep, now: NowDep
) -> Response:
    require_role(caller, Role.admin)
    data = _text_fields(form, SITE_FIELDS)
    try:
        body = _site_body(request, SiteCreate, data)
        sites.create_site(session, body.model_dump(), now)
    except DomainError as exc:
        session.rollback()
        ctx = _sites_context(request, session, caller) | _refusal(request, exc) | {"form": data}
        return render(request, "admin_sites.html", ctx, caller=caller, status=exc.status)
    return RedirectResponse("/console/admin/sites?done=saved", status_code=303)


@router.get("/admin/sites/{site_id}")
def site_edit(
    request: Request, site_id: str, caller: ConsoleCaller, session: SessionDep
) -> Response:
    require_role(caller, Role.admin)
    site = sites.get_site(session, caller, site_id[:36])
    ctx = _sites_context(request, session, caller) | {
        "s": site,
        "done": request.query_params.get("done"),
    }
    return render(request, "admin_site.html", ctx, caller=caller)


@router.post("/admin/sites/{site_id}")
def site_update(
    request: Request, site_id: str, caller: ConsoleCaller, form: FormDep, session: SessionDep
) -> Response:
    require_role(caller, Role.admin)
    data: dict[str, Any] = _text_fields(form, SITE_FIELDS)
    for blank in ("address", "contact_name", "contact_phone"):
        data.setdefault(blank, "")
    for cleared in ("lat", "lon"):  # both left empty: the site has no coordinates
        data.setdefault(cleared, None)
    data["active"] = form.get("active") == "yes"
    try:
        body = _site_body(request, SiteUpdate, data)
        sites.update_site(session, site_id[:36], body.model_dump(exclude_unset=True))
    except DomainError as exc:
        session.rollback()
        if exc.status == 404:
            raise
        site = sites.get_site(session, caller, site_id[:36])
        ctx = _sites_context(request, session, caller) | _refusal(request, exc)
        ctx |= {"s": site, "form": data}  # what was typed stays in the form
        return render(request, "admin_site.html", ctx, caller=caller, status=exc.status)
    return RedirectResponse(f"/console/admin/sites/{site_id}?done=saved", status_code=303)


# ------------------------------------------------------------------ inspection plans


def _plans_context(session: Session, caller: Caller) -> dict[str, Any]:
    rows = plans.list_plans(session, caller, active=None)
    in_scope, _ = sites.list_sites(session, caller, sites.SiteFilter(), limit=2000, offset=0)
    inspectors = []
    for u in session.exec(
        select(User).where(User.role == Role.inspector, col(User.active).is_(True))
    ).all():
        scope = scope_of(session, u)
        if any(scope.covers(district_id=s.district_id, site_id=s.id) for s in in_scope):
            inspectors.append(u)
    return {
        "plans": rows,
        "checklists": checklist_rows(session, rows),
        "sites": {s.id: s for s in in_scope},
        "site_list": in_scope,
        "templates": list_templates(session),
        "inspectors": inspectors,
        "people": {u.id: u for u in session.exec(select(User)).all()},
        "districts": {d.id: d for d in sites.list_districts(session)},
        "can_manage": caller.role in (Role.officer, Role.admin),
        "error": None,
        "form": {},
    }


@router.get("/plans")
def plan_list(request: Request, caller: ConsoleCaller, session: SessionDep) -> Response:
    require_role(caller, Role.officer, Role.admin, Role.leader)
    ctx = _plans_context(session, caller) | {"done": request.query_params.get("done")}
    return render(request, "plans.html", ctx, caller=caller)


@router.post("/plans")
def plan_create(
    request: Request,
    caller: ConsoleCaller,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    require_role(caller, Role.officer, Role.admin)
    data: dict[str, Any] = _text_fields(
        form,
        (
            "name",
            "frequency",
            "interval",
            "start_date",
            "end_date",
            "due_days",
            "assignee_user_id",
            "checklist_override",
        ),  # fmt: skip
    )
    template = str(form.get("template") or "")  # empty: the one the sites' type calls for
    if "@" in template:
        data["template_id"], data["template_version"] = template.rsplit("@", 1)
    data["site_ids"] = form.getlist("site_ids")
    try:
        body = validated(PlanCreate, data)
        plans.create_plan(
            session, caller, body.model_dump(), now, settings.timezone, settings.plan_horizon_days
        )
    except DomainError as exc:
        session.rollback()
        form_back = data | {"template": template}
        ctx = _plans_context(session, caller) | _refusal(request, exc) | {"form": form_back}
        return render(request, "plans.html", ctx, caller=caller, status=exc.status)
    return RedirectResponse("/console/plans?done=saved", status_code=303)


@router.post("/plans/{plan_id}/active")
def plan_active(
    request: Request,
    plan_id: str,
    caller: ConsoleCaller,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    require_role(caller, Role.officer, Role.admin)
    plans.update_plan(
        session,
        caller,
        plan_id[:36],
        {"active": form.get("active") == "yes"},
        now,
        settings.timezone,
        settings.plan_horizon_days,
    )
    return RedirectResponse("/console/plans?done=saved", status_code=303)
