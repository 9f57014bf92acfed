"""Every refusal leaves as ``{code, message, fields}`` with a 4xx; only bugs are 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.api.field_messages import field_message
from server.uow import Collision
from shared.chain import Refused
from shared.errors import DomainError, Refusal, http_status

log = logging.getLogger("hazardchain.api")


class ErrorOut(BaseModel):
    """The one shape of every refusal: a stable code, a message in the caller's language and,
    for bad input, a message per field."""

    code: str
    message: str
    fields: dict[str, str]


_MEANING = {
    400: "malformed request (headers, encoding or body)",
    401: "not authenticated, or the session has ended",
    403: "the caller's role may not do this",
    404: "absent, or outside the caller's scope (the two look the same)",
    409: "conflicts with the record's current state",
    410: "the device's cursor is too old: download everything again",
    413: "request body too large",
    415: "unsupported content type or encoding",
    422: "invalid input; `fields` names each problem",
    426: "this app version is too old: update it",
    429: "too many attempts; wait and retry",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these refusals, all in the one error shape."""
    return {s: {"model": ErrorOut, "description": _MEANING[s]} for s in statuses}


# what any operation may answer (400: a body that cannot be parsed at all); routes add their
# own extras (sync's 426, blobs' 415, ...)
COMMON_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422)


def status_of(exc: Refused | DomainError) -> int:
    """One rule for the API and the console: a service's refusal and a chain rule's alike
    are answered with their code's status (``shared.errors.HTTP_STATUS``)."""
    return http_status(exc.refusal)


def lang_of(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh"


def refusal_response(
    request: Request,
    refusal: Refusal,
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """``status`` only where the framework chose it (an HTTPException); else the code's."""
    return JSONResponse(
        {
            "code": refusal.code,
            "message": refusal.message(lang_of(request)),
            "fields": refusal.fields,
        },
        status_code=status or http_status(refusal),
        headers=headers,
    )


def _field_name(loc: tuple) -> str:
    parts = [str(x) for x in loc if x not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        # a refusal may tell the client how to retry (a stale refresh proof: a fresh nonce)
        return refusal_response(request, exc.refusal, headers=getattr(exc, "headers", None))

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused):
        return refusal_response(request, exc.refusal)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        # each field's complaint in the caller's language (Accept-Language; Chinese default)
        lang = lang_of(request)
        fields = {_field_name(tuple(e["loc"])): field_message(e, lang) for e in exc.errors()}
        en = "invalid input: " + "; ".join(
            f"{_field_name(tuple(e['loc']))}: {e['msg']}" for e in exc.errors()
        )
        return refusal_response(
            request, Refusal("invalid_input", "输入有误，请检查标出的字段", en, fields)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            refusal = Refusal("not_found", "请求的资源不存在", "not found")
        elif exc.status_code == 405:
            refusal = Refusal("method_not_allowed", "不支持该请求方法", "method not allowed")
        elif exc.status_code == 400:  # FastAPI could not parse the body (not UTF-8, ...)
            detail = str(exc.detail)
            refusal = Refusal("malformed_request", "请求内容无法解析", detail, {"body": detail})
        else:
            refusal = Refusal("http_error", str(exc.detail), str(exc.detail))
        return refusal_response(request, refusal, exc.status_code)

    @app.exception_handler(Collision)
    async def _collision(request: Request, exc: Collision):
        """Retried already (``UnitOfWorkRoute``); still colliding after every attempt."""
        log.info("write collision", extra={"path": request.url.path, "error": str(exc)})
        return refusal_response(
            request,
            Refusal("conflict", "数据正被他人修改，请重试", "busy: changed meanwhile, retry"),
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError):
        log.info("integrity conflict", extra={"path": request.url.path, "error": str(exc.orig)})
        return refusal_response(
            request,
            Refusal(
                "conflict",
                "数据冲突：记录已存在或仍被引用",
                "conflict: the record exists or is still referenced",
            ),
        )

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        """A bug, not bad input: log it with the request and answer in the same JSON shape."""
        log.exception("unhandled error", extra={"path": request.url.path, "method": request.method})
        return refusal_response(
            request,
            Refusal(
                "internal_error",
                "服务器内部错误，请稍后重试",
                "internal server error; try again later",
            ),
        )
