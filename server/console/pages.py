"""Rendering: the Jinja2 environment, the context every page gets, and the route class that
turns refusals into readable pages (in the user's language) instead of JSON."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from server.api.deps import UnitOfWorkRoute
from server.api.errors import status_of
from server.console import i18n
from server.console.session import (
    CSRF_FIELD,
    CsrfRefused,
    LoginRequired,
    RoleRefused,
    csrf_token,
    csrf_value,
    lang_of,
    set_csrf_cookie,
)
from server.context import Caller
from shared.chain import ORIGINS, Refused
from shared.errors import DomainError
from shared.roles import Role
from shared.supervision import shown_value, supervision_name

log = logging.getLogger("hazardchain.console")
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
STATIC_DIR = HERE / "static"


def _query(params: dict[str, Any], **changes: Any) -> str:
    """A query string from the current filters with some changed (None drops a key)."""
    merged = {**params, **changes}
    pairs = []
    for k, v in merged.items():
        if v is None or v == "" or v is False:
            continue
        for item in v if isinstance(v, list | tuple) else [v]:
            pairs.append((k, item))
    return urlencode(pairs)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


templates.env.globals.update(query=_query, pct=_pct, quote=quote)


def nav_for(caller: Caller | None) -> list[tuple[str, str]]:
    if caller is None:
        return []
    role = caller.role
    items: list[tuple[str, str]] = []
    if role in (Role.officer, Role.admin, Role.leader, Role.enterprise):
        items.append(("/console/queue", "工作台"))
    if role in (Role.officer, Role.admin, Role.leader):
        items.append(("/console/dashboard", "风险日报"))
    items.append(("/console/matters", "一件事"))
    if role in (Role.officer, Role.admin, Role.leader, Role.inspector):
        items.append(("/console/inspections", "检查记录"))
    if role in (Role.officer, Role.admin, Role.leader):
        items.append(("/console/plans", "检查计划"))
        items.append(("/console/tasks", "检查任务"))
    if role is Role.admin:
        items.append(("/console/admin/users", "用户"))
        items.append(("/console/admin/sites", "场所管理"))
        items.append(("/console/admin/import", "批量导入"))
    return items


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    caller: Caller | None = None,
    status: int = 200,
) -> HTMLResponse:
    """Render a page with the words, the user, the CSRF field and the time helpers."""
    settings = request.app.state.settings
    lang = lang_of(request)
    value, fresh = csrf_value(request)
    tz = settings.timezone
    ctx = {
        "request": request,
        "lang": lang,
        "t": i18n.translator(lang),
        "caller": caller,
        "nav": nav_for(caller),
        # an enterprise works its own hazards; everyone else supervises
        "desk": "企业工作台" if caller and caller.role is Role.enterprise else "监管工作台",
        "path": request.url.path,
        "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request, settings, value),
        "state_name": lambda s: i18n.state_name(s, lang),
        "origin_name": lambda o: i18n.pick(ORIGINS.get(o, (o, o)), lang),
        "event_name": lambda e: i18n.event_name(e, lang),
        "action_name": lambda a: i18n.action_name(a, lang),
        "role_name": lambda r: i18n.role_name(r, lang),
        "plan_part_name": lambda p: i18n.plan_part_name(p, lang),
        "vocab": lambda v: i18n.vocab(v, lang),
        "supervision": lambda level: supervision_name(level, lang),
        # what the system wrote in both languages, in the reader's; people's words as written
        "in_lang": lambda text: shown_value("text", text or "", lang, str),
        "break_reason": lambda code: i18n.pick(i18n.BREAK_REASONS.get(code, (code, code)), lang),
        "when": lambda v: i18n.local_time(v, tz),
        "day_of": lambda v: i18n.local_time(v, tz, with_time=False),
        "long_date": lambda d: i18n.long_date(d, lang),
        "file_size": lambda n: i18n.file_size(n, lang),
        "pick": lambda zh, en: en if lang == "en" and en else zh,
        "colon": ": " if lang == "en" else "：",
        **context,
    }
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    if fresh:
        set_csrf_cookie(response, request, value)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    caller = getattr(request.state, "console_caller", None)
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "message": message},
        caller=caller,
        status=status,
    )


def _login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = "/console/"
    return RedirectResponse(f"/console/login?next={quote(target)}", status_code=303)


def page_for_exception(request: Request, exc: Exception) -> Response:
    """The page a refusal or a failure becomes; the one place console errors are mapped."""
    lang = lang_of(request)
    t = i18n.translator(lang)
    if isinstance(exc, LoginRequired):
        return _login_redirect(request)
    if isinstance(exc, CsrfRefused):
        return error_page(request, 403, t("无权访问"), t("表单已过期，请刷新页面后重试。"))
    if isinstance(exc, RoleRefused):
        return error_page(request, 403, t("无权访问"), t("您的角色无权访问此页面。"))
    if isinstance(exc, DomainError | Refused):
        status = status_of(exc)
        if exc.refusal.code == "not_found" or status == 404:
            return error_page(
                request, 404, t("页面不存在"), t("请求的页面不存在，或不在您的辖区范围内。")
            )
        return error_page(request, status, t("操作失败"), exc.refusal.message(lang))
    if isinstance(exc, RequestValidationError):
        fields = "; ".join(
            ".".join(str(x) for x in e["loc"] if x not in ("query", "path", "body"))
            + f": {e['msg']}"
            for e in exc.errors()
        )
        return error_page(request, 422, t("输入有误，请检查标出的字段"), fields)
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 404:
            return error_page(
                request, 404, t("页面不存在"), t("请求的页面不存在，或不在您的辖区范围内。")
            )
        return error_page(request, exc.status_code, t("出错了"), str(exc.detail))
    log.exception("console error", extra={"path": request.url.path, "method": request.method})
    return error_page(request, 500, t("出错了"), t("服务器内部错误，请稍后重试"))


class ConsoleRoute(UnitOfWorkRoute):
    """Every console route: HTML for refusals, and the server's own time in ``Server-Timing``
    (what bench/bench_console.py reads)."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            start = time.perf_counter()
            response = await handler(request)
            elapsed = (time.perf_counter() - start) * 1000
            response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
            return response

        return route

    def answer_error(self, request: Request, exc: BaseException) -> Response | None:
        """Every failure becomes a page (rendered after the unit rolled back)."""
        return page_for_exception(request, exc) if isinstance(exc, Exception) else None
